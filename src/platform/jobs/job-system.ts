// The job system: pg-boss 12 on the service's own database (the PGlite adapter embedded, its own
// pool on PostgreSQL), behind the typed registry. Workers fetch a batch per poll and run it
// concurrently, settling each job on its own, so throughput is bound by the handlers, not the
// poll interval, and one bad job does not retry its batch-mates.

import { type ConstructorOptions, fromDrizzle, fromPglite, type JobResult, PgBoss } from 'pg-boss';
import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import { sql } from '../db/drizzle.ts';
import type { Tx } from '../db/transaction.ts';
import { briefError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { scrubText } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { inJobSpan, traceCarrier, withTraceCarrier } from '../tracing/tracing.ts';
import {
  deadLetterQueue,
  type JobDefinition,
  type JobDefinitions,
  type JobInput,
  type JobName,
  type JobPayload,
} from './registry.ts';

export interface JobContext {
  jobId: string;
  queue: string;
  /** 0 on the first run, then 1, 2... on retries. */
  attempt: number;
  /** Aborted when the job expires or the worker is stopping past its grace period. */
  signal: AbortSignal;
  log: Logger;
}

export type JobHandler<P> = (payload: P, context: JobContext) => Promise<unknown>;

/** Thrown by a handler when retrying cannot help: the job goes straight to its dead-letter queue. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export interface SendOptions {
  /** With a singleton/stately queue policy: at most one queued (or active) job per key. */
  singletonKey?: string;
  /** Run no earlier than this time. */
  startAfter?: Date;
  /** Enqueue inside the caller's transaction: the job exists only if the transaction commits. */
  tx?: Tx;
  /** The job's id (a UUID): sending the same id twice creates one job. */
  id?: string;
  /** This job's expiry, instead of its queue's. */
  expireSeconds?: number;
}

/** A job as read back by id. */
export interface JobStatus {
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  output: unknown;
  createdOn: Date;
}

export interface QueueCounts {
  name: string;
  /** A dead-letter queue: jobs that failed every retry of their queue land here. */
  deadLetter: boolean;
  ready: number;
  deferred: number;
  active: number;
  failed: number;
  total: number;
  table: string;
}

export interface FailedJob {
  id: string;
  data: unknown;
  output: unknown;
  retryCount: number;
  createdOn: Date;
  completedOn: Date | null;
}

export type JobSystemState = 'stopped' | 'starting' | 'running' | 'stopping';

export interface JobSystemOptions<D extends JobDefinitions> {
  db: Database;
  config: Config['jobs'];
  definitions: D;
  log: Logger;
  metrics: Metrics;
  /** Run workers, cron and the sweep of expired jobs here; false for an HTTP-only process, which only sends. */
  workers: boolean;
  /**
   * Run the workers of these queues only (`switchboard worker --queues`), or of every queue but
   * those given as `-name`; every queue when absent or empty.
   */
  queues?: string[];
}

export class JobSystem<D extends JobDefinitions> {
  readonly boss: PgBoss;
  readonly #options: JobSystemOptions<D>;
  readonly #handlers = new Map<string, JobHandler<unknown>>();
  /** Handlers running now: on shutdown, those pg-boss gave up on still get to tidy up. */
  readonly #running = new Set<Promise<unknown>>();
  readonly #workOptions = new Map<string, { concurrency?: number }>();
  #state: JobSystemState = 'stopped';

  constructor(options: JobSystemOptions<D>) {
    this.#options = options;
    this.boss = new PgBoss(
      bossOptions(options.db, options.config, options.workers, heartbeatCheckSeconds(options.definitions)),
    );
    // pg-boss reports background faults (a lost connection during a poll) here; without a
    // listener Node would treat them as unhandled.
    this.boss.on('error', (error) => options.log.error({ err: briefError(error) }, 'job system error'));
    this.boss.on('warning', (warning) => options.log.warn({ warning }, 'job system warning'));
  }

  get state(): JobSystemState {
    return this.#state;
  }

  /** Registers the handler for a queue; its worker starts with `start()` in a process that runs workers. */
  work<N extends JobName<D>>(
    name: N,
    handler: JobHandler<JobPayload<D, N>>,
    options: { concurrency?: number } = {},
  ): void {
    if (!(name in this.#options.definitions))
      throw new Error(`Unknown job "${name}": add it to the job registry`);
    if (this.#handlers.has(name)) throw new Error(`Job "${name}" already has a handler`);
    this.#handlers.set(name, handler as JobHandler<unknown>);
    this.#workOptions.set(name, options);
  }

  /** Whether this process runs the workers of a queue (`-name` in `queues` excludes one). */
  runsQueue(name: string): boolean {
    return this.#options.workers && !this.filtersOut(name);
  }

  /** Whether `queues` (JOBS_QUEUES, `--queues`) leaves a queue to other processes. */
  filtersOut(name: string): boolean {
    const listed = this.#options.queues ?? [];
    const only = listed.filter((q) => !q.startsWith('-'));
    return listed.includes(`-${name}`) || (only.length > 0 && !only.includes(name));
  }

  /** A job's state and output, or null when there is no such job (or it has been deleted). */
  async getJob(name: JobName<D>, id: string): Promise<JobStatus | null> {
    const job = await this.boss.getJobById(name, id);
    return job ? { state: job.state, output: job.output, createdOn: new Date(job.createdOn) } : null;
  }

  /**
   * Installs or upgrades pg-boss's schema, creates every registered queue with its dead-letter
   * queue, and, in a worker process, starts polling, cron and the sweep of expired jobs.
   */
  async start(): Promise<void> {
    if (this.#state !== 'stopped') throw new Error(`The job system is ${this.#state}`);
    this.#state = 'starting';
    try {
      await this.boss.start();
      await this.#ensureQueues();
      if (this.#options.workers) {
        const unknown = (this.#options.queues ?? [])
          .map((name) => name.replace(/^-/, ''))
          .filter((name) => !(name in this.#options.definitions));
        if (unknown.length) throw new Error(`No such queue: ${unknown.join(', ')}`);
        for (const [name, handler] of this.#handlers)
          if (this.runsQueue(name)) await this.#startWorker(name, handler);
      }
      this.#state = 'running';
    } catch (error) {
      this.#state = 'stopped';
      await this.boss.stop({ graceful: false, close: true }).catch(() => {});
      throw error;
    }
  }

  /** Enqueues a job after validating its payload against the registry. Returns the job id. */
  async send<N extends JobName<D>>(
    name: N,
    payload: JobInput<D, N>,
    options: SendOptions = {},
  ): Promise<string | null> {
    const definition = this.#definition(name);
    const parsed = definition.schema.safeParse(payload);
    if (!parsed.success) {
      throw new Error(
        `Invalid payload for job "${name}": ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      );
    }
    return this.boss.send(name, withTraceCarrier(parsed.data as object, traceCarrier()), {
      ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      ...(options.tx ? { db: drizzleAdapter(options.tx) } : {}),
      ...(options.id ? { id: options.id } : {}),
      ...(options.expireSeconds ? { expireInSeconds: options.expireSeconds } : {}),
    });
  }

  /**
   * Enqueues many jobs of one queue in one statement (inside the caller's transaction with `tx`).
   * For bulk producers such as a scan that queues thousands of messages at once.
   */
  async insert<N extends JobName<D>>(
    name: N,
    items: Array<{ payload: JobInput<D, N>; singletonKey?: string; startAfter?: Date }>,
    options: { tx?: Tx } = {},
  ): Promise<void> {
    if (items.length === 0) return;
    const schema = this.#definition(name).schema;
    const carrier = traceCarrier();
    const jobs = items.map((item) => {
      const parsed = schema.safeParse(item.payload);
      if (!parsed.success)
        throw new Error(
          `Invalid payload for job "${name}": ${parsed.error.issues.map((i) => i.message).join('; ')}`,
        );
      return {
        data: withTraceCarrier(parsed.data as object, carrier),
        ...(item.singletonKey ? { singletonKey: item.singletonKey } : {}),
        ...(item.startAfter ? { startAfter: item.startAfter } : {}),
      };
    });
    await this.boss.insert(name, jobs, options.tx ? { db: drizzleAdapter(options.tx) } : {});
  }

  /** A recurring job on a cron expression (5 fields, minute first) in a time zone (default UTC). */
  async schedule<N extends JobName<D>>(
    name: N,
    cron: string,
    payload: JobInput<D, N>,
    options: { tz?: string; key?: string } = {},
  ): Promise<void> {
    const parsed = this.#definition(name).schema.parse(payload) as object;
    const persisted = { tz: options.tz ?? 'UTC', ...(options.key ? { key: options.key } : {}) };
    // Every process declares its schedules again at each start. One stored exactly as asked is left
    // alone: writing it again would only move its updated_on (pg-boss: "edits to the definition")
    // and parse its expression again, which for a rule (rrule-temporal) and the first cron
    // expressions was most of the schedule time in a worker's start.
    const stored = await this.boss.getSchedule(name, options.key ?? '');
    if (stored && sameSchedule(stored, { cron, timezone: persisted.tz, data: parsed, options: persisted }))
      return;
    await this.boss.schedule(name, cron, parsed, persisted);
  }

  async unschedule(name: JobName<D>, key?: string): Promise<void> {
    await this.boss.unschedule(name, key);
  }

  /** Every registered queue and its dead-letter queue, with pg-boss's counts (console, metrics). */
  async queueCounts(): Promise<QueueCounts[]> {
    if (this.#state !== 'running') return [];
    const names = Object.keys(this.#options.definitions).flatMap((name) => [name, deadLetterQueue(name)]);
    const queues = await this.boss.getQueues(names);
    return queues
      .map((q) => ({
        name: q.name,
        deadLetter: !(q.name in this.#options.definitions),
        ready: q.readyCount,
        deferred: q.deferredCount,
        active: q.activeCount,
        failed: q.failedCount,
        total: q.totalCount,
        table: q.table,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * The newest failed jobs of a queue with their payload and error (pg-boss keeps failed jobs for
   * its retention period). findJobs has no state filter, so this reads the queue's table itself.
   */
  async failedJobs(name: string, limit: number): Promise<FailedJob[]> {
    const queue = (await this.queueCounts()).find((q) => q.name === name);
    if (!queue || !/^[a-z_][a-z0-9_]*$/i.test(queue.table)) return [];
    const result = await this.boss.getDb().executeSql(
      `select id, data, output, retry_count as "retryCount", created_on as "createdOn", completed_on as "completedOn"
         from pgboss.${queue.table} where name = $1 and state = 'failed'
        order by completed_on desc nulls last limit $2`,
      [name, limit],
    );
    return (result.rows as FailedJob[]).map((row) => ({
      ...row,
      createdOn: new Date(row.createdOn),
      completedOn: row.completedOn ? new Date(row.completedOn) : null,
    }));
  }

  /** Puts a failed job back in its queue (pg-boss `retry`). */
  async retryJob(name: string, id: string): Promise<boolean> {
    const result = await this.boss.retry(name, id);
    return ((result as { affected?: number }).affected ?? 0) > 0;
  }

  /** Reads queue counts into the `job_queue_depth` gauge (called when /metrics is scraped). */
  async refreshQueueDepths(): Promise<void> {
    const gauge = this.#options.metrics.queueDepth;
    for (const queue of await this.queueCounts()) {
      gauge.set({ queue: queue.name, state: 'ready' }, queue.ready);
      gauge.set({ queue: queue.name, state: 'deferred' }, queue.deferred);
      gauge.set({ queue: queue.name, state: 'active' }, queue.active);
      gauge.set({ queue: queue.name, state: 'failed' }, queue.failed);
    }
  }

  /** Throws unless the job system is running and its tables answer. */
  async ping(): Promise<void> {
    if (this.#state !== 'running') throw new Error(`job system is ${this.#state}`);
    await this.boss.getDb().executeSql('select 1 from pgboss.version limit 1');
  }

  /**
   * Stops fetching, waits up to `timeoutMs` for running jobs to finish, then fails what is still
   * running so pg-boss retries it later: a job in flight at shutdown completes or runs again.
   */
  async stop({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    try {
      // close: false — on PGlite the database is ours to close, after the workers are done.
      await this.boss.stop({
        graceful: true,
        timeout: timeoutMs,
        close: this.#options.db.kind === 'postgres',
      });
      // pg-boss has failed the jobs still running and aborted their signals; the handlers now
      // hand their work back (an outbox attempt returns its row to the queue). Let them, briefly,
      // before the database closes under them.
      if (this.#running.size) {
        const log = this.#options.log;
        log.info({ handlers: this.#running.size }, 'waiting for stopped jobs to hand their work back');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled(this.#running),
          new Promise((resolve) => {
            timer = setTimeout(resolve, HAND_BACK_MS);
          }),
        ]);
        clearTimeout(timer);
        if (this.#running.size)
          log.warn(
            { handlers: this.#running.size },
            'jobs still running at shutdown; they run again elsewhere',
          );
      }
    } finally {
      this.#state = 'stopped';
    }
  }

  #definition(name: string): JobDefinition {
    const definition = this.#options.definitions[name];
    if (!definition) throw new Error(`Unknown job "${name}": add it to the job registry`);
    return definition;
  }

  /**
   * Every registered queue and its dead-letter queue exist with the current settings. The queues
   * are read in one query and only a missing queue is created or a changed one updated: a start
   * against an unchanged database costs one round trip, not three per queue (on PGlite those
   * were most of a start's time in pg-boss).
   */
  async #ensureQueues(): Promise<void> {
    const definitions = Object.entries(this.#options.definitions);
    const names = definitions.flatMap(([name]) => [name, deadLetterQueue(name)]);
    const existing = new Map((await this.boss.getQueues(names)).map((queue) => [queue.name, queue]));
    for (const [name, definition] of definitions) {
      const wanted = this.#queueSettings(name, definition);
      const dead = deadLetterQueue(name);
      if (!existing.has(dead)) await this.boss.createQueue(dead, { retryLimit: 0 });
      const current = existing.get(name);
      if (!current) {
        await this.boss.createQueue(name, { ...wanted, policy: definition.policy ?? 'standard' });
        continue;
      }
      // Keep an existing queue's retry settings in step with the current configuration.
      const { retryDelayMax: _fixedAtCreation, ...mutable } = wanted;
      if (settingsDiffer(current, mutable)) await this.boss.updateQueue(name, mutable);
    }
  }

  #queueSettings(name: string, definition: JobDefinition) {
    const config = this.#options.config;
    return {
      retryLimit: definition.retryLimit ?? config.retryLimit,
      retryDelay: definition.retryDelaySeconds ?? config.retryDelaySeconds,
      retryBackoff: true,
      retryDelayMax: config.retryDelayMaxSeconds,
      expireInSeconds: definition.expireSeconds ?? config.expireSeconds,
      ...(definition.heartbeatSeconds ? { heartbeatSeconds: definition.heartbeatSeconds } : {}),
      deadLetter: deadLetterQueue(name),
      notify: definition.notify ?? false,
    };
  }

  async #startWorker(name: string, handler: JobHandler<unknown>): Promise<void> {
    const definition = this.#definition(name);
    const batchSize = definition.batchSize ?? this.#options.config.batchSize;
    const { log, metrics } = this.#options;
    await this.boss.work(
      name,
      {
        batchSize,
        localConcurrency: this.#workOptions.get(name)?.concurrency ?? definition.concurrency ?? 1,
        pollingIntervalSeconds: this.#options.config.pollIntervalSeconds,
        // NOTIFY wakes workers when a job is created, not when a deferred one comes due: keep polling.
        notifyPollingIntervalSeconds: this.#options.config.pollIntervalSeconds,
        burstWhenBatchFull: batchSize > 1,
        perJobResults: true,
      },
      async (jobs) =>
        Promise.all(
          jobs.map(async (job): Promise<JobResult> => {
            const started = performance.now();
            // A child logger costs more than the rest of the wrapper per job; make it only when used.
            let childLog: Logger | undefined;
            const jobLog = () =>
              (childLog ??= log.child({ job: { id: job.id, queue: name, attempt: job.retryCount } }));
            const record = (outcome: string) => {
              metrics.jobsProcessed.inc({ queue: name, outcome });
              metrics.jobDuration.observe({ queue: name, outcome }, (performance.now() - started) / 1000);
            };
            const parsed = definition.schema.safeParse(job.data);
            if (!parsed.success) {
              record('invalid');
              jobLog().error(
                { issues: parsed.error.issues },
                'job payload does not match its schema; dead-lettered',
              );
              return { id: job.id, status: 'deadletter', output: { error: 'invalid payload' } };
            }
            let running: Promise<unknown> | undefined;
            try {
              running = inJobSpan(name, job, () =>
                handler(parsed.data, {
                  jobId: job.id,
                  queue: name,
                  attempt: job.retryCount,
                  signal: job.signal,
                  get log() {
                    return jobLog();
                  },
                }),
              );
              this.#running.add(running);
              const output = await running;
              record('completed');
              return { id: job.id, status: 'completed', output: isObject(output) ? output : {} };
            } catch (error) {
              const permanent = error instanceof PermanentJobError;
              record(permanent ? 'dead_lettered' : 'failed');
              jobLog().warn(
                { err: error },
                permanent ? 'job failed permanently' : 'job failed; it will be retried',
              );
              return {
                id: job.id,
                status: permanent ? 'deadletter' : 'failed',
                // Stored in the jobs table, so scrubbed like a log line.
                output: { error: scrubText(errorMessage(error)) },
              };
            } finally {
              if (running) this.#running.delete(running);
            }
          }),
        ),
    );
  }
}

/** How long stopped handlers get, after the grace period, to hand their work back. */
const HAND_BACK_MS = 5000;

/** pg-boss statements inside a drizzle transaction. The generic Orm's result type is opaque to
 * pg-boss; both drivers return `{ rows }`. */
const drizzleAdapter = (tx: Tx) => fromDrizzle(tx as unknown as Parameters<typeof fromDrizzle>[0], sql);

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A heartbeat is only as quick as the sweep that reads it: with any queue on heartbeats, expired
 * claims are swept at least as often as the shortest heartbeat, so a dead worker's job comes back
 * within about twice its heartbeat (not JOBS_MAINTENANCE_INTERVAL_SECONDS later).
 */
function heartbeatCheckSeconds(definitions: JobDefinitions): number | null {
  const beats = Object.values(definitions).flatMap((d) => (d.heartbeatSeconds ? [d.heartbeatSeconds] : []));
  return beats.length ? Math.min(...beats) : null;
}

function bossOptions(
  db: Database,
  config: Config['jobs'],
  workers: boolean,
  heartbeatCheck: number | null,
): ConstructorOptions {
  const sweepSeconds = Math.min(
    config.maintenanceIntervalSeconds,
    heartbeatCheck ?? Number.POSITIVE_INFINITY,
  );
  const common: ConstructorOptions = {
    schema: 'pgboss',
    supervise: workers,
    schedule: workers,
    superviseIntervalSeconds: sweepSeconds,
    monitorIntervalSeconds: sweepSeconds,
    // Jobs are traced here (platform/tracing), one span per job continuing the trace that enqueued
    // it; pg-boss's own spans are per fetched batch, which would start a trace of its own per poll.
    openTelemetry: { enabled: false },
  };
  if (db.pglite) return { ...common, backend: 'pglite', db: fromPglite(db.pglite), useListenNotify: true };
  if (!db.pool) throw new Error('The database has neither an embedded instance nor a pool');
  const { connectionString, max } = db.pool.options as { connectionString: string; max: number };
  return { ...common, connectionString, max, useListenNotify: true, application_name: 'switchboard-jobs' };
}

/** Whether a stored schedule is the one asked for: expression, zone, payload and options. */
export function sameSchedule(
  stored: { cron: string; timezone: string | null; data?: unknown; options?: unknown },
  wanted: { cron: string; timezone: string; data: unknown; options: unknown },
): boolean {
  return (
    stored.cron === wanted.cron &&
    (stored.timezone ?? 'UTC') === wanted.timezone &&
    canonicalJson(stored.data ?? null) === canonicalJson(wanted.data) &&
    canonicalJson(stored.options ?? {}) === canonicalJson(wanted.options)
  );
}

/** JSON with every object's keys in order: jsonb gives them back in an order of its own. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Whether any setting we set differs from the queue's (a setting we leave unset is not compared). */
export function settingsDiffer(current: object, wanted: Record<string, unknown>): boolean {
  const have = current as Record<string, unknown>;
  return Object.entries(wanted).some(([key, value]) => (have[key] ?? null) !== (value ?? null));
}
