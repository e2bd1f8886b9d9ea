// Notebook runs on their own queue (`credits.notebook`, CREDITS_NOTEBOOK_CONCURRENCY at once per
// worker), so a request never waits behind someone else's notebook and a notebook never holds a
// `credits.process` job: one job per link's run, each bounded by CREDITS_NOTEBOOK_TIMEOUT_SECONDS,
// so a request with three slow links never reaches a job's expiry.
//
// The request side (queuedNotebooks) sends the run with an id derived from the request, its round,
// the notebook's path and content hash and the SQL, and ends its `credits.process` job ("waiting").
// The run (runNotebookJob) stores its result or its lasting error on the request row, then sends
// `credits.process` again; that job finds the stored result under the same id. A run whose worker
// died is failed by its heartbeat and retried within a minute; a check-back job sent with each wait
// covers a run that never reports (retries spent).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../../platform/db/database.ts';
import { and, eq, sql } from '../../platform/db/drizzle.ts';
import type { JobContext, JobSystem } from '../../platform/jobs/job-system.ts';
import { defineJob } from '../../platform/jobs/registry.ts';
import {
  type CalculatorInput,
  loadNotebook,
  type NotebookRun,
  type NotebookSettings,
  runNotebook,
} from './calculators/notebook.ts';
import type { RunHooks, RunTracker } from './calculators/notebook-runner.ts';
import { CreditError, type CreditErrorCode } from './credit-error.ts';
import type { creditJobs } from './jobs.ts';
import { type CreditRequestRow, creditRequests } from './schema.ts';

export const NOTEBOOK_HEARTBEAT_SECONDS = 20;
const NOTEBOOK_RETRY_LIMIT = 2;

export const notebookJobs = {
  'credits.notebook': defineJob({
    schema: z.object({
      requestId: z.uuid(),
      /** The run's id (the job's id too): what the request looks its result up by. */
      key: z.string().min(1),
      path: z.string().min(1),
      sha256: z.string().min(1),
      sql: z.string(),
      /** Only when the notebook declares a rows parameter. */
      rows: z.array(z.record(z.string(), z.unknown())).optional(),
      blockRates: z.record(z.string(), z.number()),
    }),
    retryLimit: NOTEBOOK_RETRY_LIMIT,
    retryDelaySeconds: 2,
    heartbeatSeconds: NOTEBOOK_HEARTBEAT_SECONDS,
    // One run per fetch: the worker's concurrency (CREDITS_NOTEBOOK_CONCURRENCY) is the bound.
    batchSize: 1,
    notify: true,
  }),
};

type CreditJobs = JobSystem<typeof creditJobs>;
type NotebookPayload = z.output<(typeof notebookJobs)['credits.notebook']['schema']>;

/** Where notebooks run for one request. */
export interface NotebookExecutor {
  run(path: string, input: CalculatorInput): Promise<NotebookRun>;
}

/** The request ends its job for now; the run's end (or a check-back) brings it back. */
export class NotebookPending extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`waiting for the notebook run ${key}`);
    this.name = 'NotebookPending';
    this.key = key;
  }
}

/** In this process: for the CLI's run-now and tests; the service uses the queue. */
export const inlineNotebooks = (settings: NotebookSettings, hooks: RunHooks = {}): NotebookExecutor => ({
  run: (path, input) => runNotebook(path, settings, input, hooks),
});

type StoredRun = { result: NotebookRun } | { error: { code: CreditErrorCode; message: string } };

const storedRuns = (summary: unknown): Record<string, StoredRun> => {
  const runs = (summary as { notebookRuns?: unknown } | null)?.notebookRuns;
  return typeof runs === 'object' && runs !== null ? (runs as Record<string, StoredRun>) : {};
};

/** A UUID (the shape pg-boss ids have) from a hash: the same run gets the same id on every visit. */
export function runKey(parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface NotebookQueueDeps {
  jobs: CreditJobs;
  settings: NotebookSettings;
}

export function queuedNotebooks(deps: NotebookQueueDeps, request: CreditRequestRow): NotebookExecutor {
  const { jobs, settings } = deps;
  const sqlHash = (text: string) => createHash('sha256').update(text).digest('hex');
  return {
    async run(path, input) {
      const file = await loadNotebook(path, settings.parameter);
      const key = runKey([request.id, String(request.round), path, file.sha256, sqlHash(input.sql)]);
      const stored = storedRuns(request.summary)[key];
      if (stored && 'result' in stored) return stored.result;
      if (stored) throw new CreditError(stored.error.code, stored.error.message);
      const job = await jobs.getJob('credits.notebook', key);
      if (job?.state === 'failed' || job?.state === 'cancelled' || job?.state === 'completed') {
        const reason = (job.output as { error?: unknown } | null)?.error;
        throw new CreditError(
          'notebook_failed',
          `the notebook run ${job.state === 'completed' ? 'left no result' : 'failed'}${typeof reason === 'string' ? `: ${reason}` : ''}`,
        );
      }
      // Every attempt's time and more: nobody is taking the runs (no worker runs credits.notebook).
      const patience = (NOTEBOOK_RETRY_LIMIT + 1) * (settings.timeoutMs + 120_000) + 600_000;
      if (job && Date.now() - job.createdOn.getTime() > patience)
        throw new CreditError(
          'notebook_failed',
          `the notebook run has not finished after ${Math.round(patience / 60_000)} minutes: is a worker running the credits.notebook queue?`,
        );
      if (!job) {
        const rows = file.needsRows && input.rows ? await input.rows() : undefined;
        await jobs.send(
          'credits.notebook',
          {
            requestId: request.id,
            key,
            path,
            sha256: file.sha256,
            sql: input.sql,
            ...(rows ? { rows } : {}),
            blockRates: input.blockRates,
          },
          // Past the run's own timeout, so its heartbeat and its timer decide, never the expiry.
          { id: key, expireSeconds: Math.ceil(settings.timeoutMs / 1000) + 120 },
        );
      }
      await jobs.send(
        'credits.process',
        { id: request.id },
        { singletonKey: request.id, startAfter: new Date(Date.now() + settings.timeoutMs + 60_000) },
      );
      throw new NotebookPending(key);
    },
  };
}

export interface NotebookJobDeps {
  db: Database;
  jobs: CreditJobs;
  settings: NotebookSettings;
  /** Ends the runs at shutdown and waits for their clean-up. */
  runs: RunTracker;
}

/** The `credits.notebook` handler. A lasting failure is stored like a result; a passing one is retried. */
export async function runNotebookJob(
  deps: NotebookJobDeps,
  payload: NotebookPayload,
  context: Pick<JobContext, 'signal'>,
): Promise<object> {
  let stored: StoredRun;
  try {
    const file = await loadNotebook(payload.path, deps.settings.parameter);
    if (file.sha256 !== payload.sha256)
      throw new CreditError(
        'notebook_failed',
        `the notebook ${payload.path} on the notebook worker is not the one the request was sent with (sha256 ${file.sha256.slice(0, 12)}, expected ${payload.sha256.slice(0, 12)})`,
      );
    const rows = payload.rows;
    const result = await deps.runs.track(
      runNotebook(
        payload.path,
        deps.settings,
        { sql: payload.sql, blockRates: payload.blockRates, ...(rows ? { rows: async () => rows } : {}) },
        { signal: AbortSignal.any([context.signal, deps.runs.signal]) },
      ),
    );
    stored = { result };
  } catch (error) {
    if (!(error instanceof CreditError) || error.transient) throw error;
    stored = { error: { code: error.code, message: error.message } };
  }
  await storeRun(deps.db, payload.requestId, payload.key, stored);
  await deps.jobs.send('credits.process', { id: payload.requestId }, { singletonKey: payload.requestId });
  return 'result' in stored ? { creditCents: stored.result.creditCents } : { error: stored.error.message };
}

/** For a run-now caller: the request once done or failed, or as it is when `timeoutMs` has passed. */
export async function untilFinished(db: Database, id: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [row] = await db.orm
      .select({ status: creditRequests.status })
      .from(creditRequests)
      .where(eq(creditRequests.id, id));
    if (!row || row.status === 'done' || row.status === 'failed') return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Merged into the processing request's summary under notebookRuns; the final summary replaces it. */
async function storeRun(db: Database, requestId: string, key: string, run: StoredRun): Promise<void> {
  const entry = JSON.stringify({ [key]: run });
  await db.orm
    .update(creditRequests)
    .set({
      summary: sql`coalesce(${creditRequests.summary}, '{}'::jsonb) || jsonb_build_object('notebookRuns', coalesce(${creditRequests.summary}->'notebookRuns', '{}'::jsonb) || ${entry}::jsonb)`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(creditRequests.id, requestId), eq(creditRequests.status, 'processing')));
}
