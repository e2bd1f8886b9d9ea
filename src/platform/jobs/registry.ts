// Every queue is declared once with the zod schema of its payload, graphile-worker style: `send`
// and `work` are checked by the compiler against this map, and payloads are checked again at run
// time on both sides, so a job written by an older release cannot crash a newer worker.
import type { z } from 'zod';

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** Attempts after the first before the job is dead-lettered; defaults to JOBS_RETRY_LIMIT. */
  retryLimit?: number;
  /** First retry delay in seconds (doubles each attempt, with jitter); defaults to JOBS_RETRY_DELAY_SECONDS. */
  retryDelaySeconds?: number;
  /** A job running longer than this is failed and retried; defaults to JOBS_EXPIRE_SECONDS. */
  expireSeconds?: number;
  /** Jobs a worker fetches and runs at once; defaults to JOBS_BATCH_SIZE. */
  batchSize?: number;
  /**
   * Batches one process works on at once (pg-boss `localConcurrency`). A batch is settled only when
   * its slowest job ends, so a queue whose jobs wait on the network keeps several batches in flight.
   */
  concurrency?: number;
  /**
   * The worker refreshes a running job's heartbeat this often (half of it, in fact); a job whose
   * worker died (SIGKILL, a lost machine) is failed and retried after this many seconds instead of
   * waiting for its expiry. At least 10 (pg-boss's minimum).
   */
  heartbeatSeconds?: number;
  /** Wake workers through LISTEN/NOTIFY rather than the next poll (latency-sensitive queues). */
  notify?: boolean;
  /**
   * pg-boss queue policy, per singleton key: `short` allows one queued job, `singleton` one active
   * job, `stately` one of each; `standard` has no limit.
   */
  policy?: 'standard' | 'short' | 'singleton' | 'stately';
}

export type JobDefinitions = Record<string, JobDefinition>;

export const defineJob = <S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S> => definition;

export type JobName<D extends JobDefinitions> = Extract<keyof D, string>;
/** What a sender passes (before defaults and transforms). */
export type JobInput<D extends JobDefinitions, N extends keyof D> = z.input<D[N]['schema']>;
/** What a handler receives (after parsing). */
export type JobPayload<D extends JobDefinitions, N extends keyof D> = z.output<D[N]['schema']>;

/** Where a job goes when its retries are spent, for inspection and redrive. */
export const deadLetterQueue = (name: string) => `${name}.dead`;
