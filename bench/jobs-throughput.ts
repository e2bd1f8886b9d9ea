import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type ConstructorOptions, fromPglite, PgBoss } from 'pg-boss';
import { z } from 'zod';
import { loadConfig } from '../src/config.ts';
import type { Database } from '../src/platform/db/database.ts';
import { JobSystem } from '../src/platform/jobs/job-system.ts';
import { deadLetterQueue, defineJob } from '../src/platform/jobs/registry.ts';
import { createLogger } from '../src/platform/log.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { positiveIntArg, postgresReachable, round, withScratchDatabase } from './support.ts';

const { values } = parseArgs({ options: { jobs: { type: 'string' }, rounds: { type: 'string' } } });
const N = positiveIntArg(values.jobs, 5000, 'jobs');
const WARMUP_JOBS = Math.min(N, 500);
const ROUNDS = positiveIntArg(values.rounds, 2, 'rounds');
const CONCURRENCY = 50;
const QUEUE = 'bench';
const TARGET = 0.8;

// LOG_FORMAT json: in a terminal `auto` would start pino-pretty's worker thread even at `silent`.
const config = loadConfig({
  LOG_LEVEL: 'silent',
  LOG_FORMAT: 'json',
  JOBS_BATCH_SIZE: '100',
  JOBS_POLL_INTERVAL_SECONDS: '0.5',
});
const log = createLogger(config);
const definitions = { [QUEUE]: defineJob({ schema: z.object({ n: z.number().int() }) }) };

type Backend = 'pglite' | 'postgres';
type Side = 'wrapper' | 'raw';
interface Timing {
  sendMs: number;
  workMs: number;
}

/** At most `concurrency` calls in flight, like a busy API process sending as requests arrive. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
}

async function until(condition: () => boolean | Promise<boolean>, intervalMs: number): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the jobs to complete');
    await sleep(intervalMs);
  }
}

/** Handlers done, then the rows settled: the last batch's completion lands after its handlers return. */
async function drained(db: Database, n: number, handled: () => number): Promise<void> {
  await until(() => handled() >= n, 2);
  await until(async () => {
    const [row] = await db.query<{ n: number }>(
      "select count(*)::int as n from pgboss.job where name = $1 and state = 'completed'",
      [QUEUE],
    );
    return row!.n >= n;
  }, 5);
}

async function runWrapper(db: Database, n: number): Promise<Timing> {
  const base = { db, config: config.jobs, definitions, log, metrics: createMetrics() };
  const sender = new JobSystem({ ...base, workers: false });
  await sender.start();
  const worker = new JobSystem({ ...base, workers: true });
  let handled = 0;
  worker.work(QUEUE, async () => {
    handled++;
  });
  try {
    let t = performance.now();
    await pool(n, CONCURRENCY, (i) => sender.send(QUEUE, { n: i }));
    const sendMs = performance.now() - t;
    t = performance.now();
    await worker.start();
    await drained(db, n, () => handled);
    return { sendMs, workMs: performance.now() - t };
  } finally {
    await worker.stop({ timeoutMs: 5000 });
    await sender.stop({ timeoutMs: 5000 });
  }
}

/** What JobSystem passes pg-boss (bossOptions in job-system.ts is private, so mirrored here). */
function rawOptions(db: Database, workers: boolean): ConstructorOptions {
  const jobs = config.jobs;
  const common: ConstructorOptions = {
    schema: 'pgboss',
    supervise: workers,
    schedule: workers,
    superviseIntervalSeconds: jobs.maintenanceIntervalSeconds,
    monitorIntervalSeconds: jobs.maintenanceIntervalSeconds,
  };
  if (db.pglite) return { ...common, backend: 'pglite', db: fromPglite(db.pglite), useListenNotify: true };
  const { connectionString, max } = db.pool!.options as { connectionString: string; max: number };
  return { ...common, connectionString, max, useListenNotify: true, application_name: 'switchboard-jobs' };
}

async function runRaw(db: Database, n: number): Promise<Timing> {
  const jobs = config.jobs;
  const sender = new PgBoss(rawOptions(db, false));
  const worker = new PgBoss(rawOptions(db, true));
  for (const boss of [sender, worker]) boss.on('error', (error) => console.error('pg-boss error:', error));
  await sender.start();
  // The queues JobSystem creates, with the same options.
  await sender.createQueue(deadLetterQueue(QUEUE), { retryLimit: 0 });
  await sender.createQueue(QUEUE, {
    retryLimit: jobs.retryLimit,
    retryDelay: jobs.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: jobs.retryDelayMaxSeconds,
    expireInSeconds: jobs.expireSeconds,
    deadLetter: deadLetterQueue(QUEUE),
    policy: 'standard',
    notify: false,
  });
  let handled = 0;
  const close = db.kind === 'postgres';
  try {
    let t = performance.now();
    await pool(n, CONCURRENCY, (i) => sender.send(QUEUE, { n: i }));
    const sendMs = performance.now() - t;
    t = performance.now();
    await worker.start();
    const options = {
      batchSize: jobs.batchSize,
      pollingIntervalSeconds: jobs.pollIntervalSeconds,
      burstWhenBatchFull: true,
    };
    await worker.work(QUEUE, options, async (batch) => {
      handled += batch.length;
    });
    await drained(db, n, () => handled);
    return { sendMs, workMs: performance.now() - t };
  } finally {
    await worker.stop({ graceful: true, timeout: 5000, close });
    await sender.stop({ graceful: true, timeout: 5000, close });
  }
}

const rate = (jobs: number, ms: number) => (jobs * 1000) / ms;
const fmt = (t: Timing) =>
  `send ${round(t.sendMs)} ms (${round(rate(N, t.sendMs))}/s)  work ${round(t.workMs)} ms ` +
  `(${round(rate(N, t.workMs))}/s)  end-to-end ${round(rate(N, t.sendMs + t.workMs))} jobs/s`;

const backends: Backend[] = ['pglite'];
if (await postgresReachable()) backends.push('postgres');
else console.log('PostgreSQL: skipped (BENCH_DATABASE_URL not reachable)');

console.log(
  `jobs-throughput: ${N} jobs, batchSize ${config.jobs.batchSize}, poll ${config.jobs.pollIntervalSeconds} s, ` +
    `send concurrency ${CONCURRENCY}, ${ROUNDS} round(s) alternating order after a ${WARMUP_JOBS}-job warm-up`,
);
const summary: Record<string, unknown> = {};
for (const backend of backends) {
  const timings: Record<Side, Timing[]> = { wrapper: [], raw: [] };
  for (const run of [runRaw, runWrapper])
    await withScratchDatabase(backend, (db) => run(db, WARMUP_JOBS), { migrate: true });
  for (let r = 0; r < ROUNDS; r++) {
    const order: Side[] = r % 2 === 0 ? ['raw', 'wrapper'] : ['wrapper', 'raw'];
    for (const side of order) {
      const run = side === 'raw' ? runRaw : runWrapper;
      const timing = await withScratchDatabase(backend, (db) => run(db, N), { migrate: true });
      timings[side].push(timing);
      console.log(`  ${backend.padEnd(8)} ${side.padEnd(7)} round ${r + 1}: ${fmt(timing)}`);
    }
  }
  // Rates over the summed time of all rounds, so a slow round weighs what it cost.
  const total = (side: Side, key: 'sendMs' | 'workMs' | 'both') =>
    timings[side].reduce((sum, t) => sum + (key === 'both' ? t.sendMs + t.workMs : t[key]), 0);
  const rates = (side: Side) => ({
    sendsPerSecond: round(rate(N * ROUNDS, total(side, 'sendMs'))),
    worksPerSecond: round(rate(N * ROUNDS, total(side, 'workMs'))),
    jobsPerSecond: round(rate(N * ROUNDS, total(side, 'both'))),
  });
  const raw = rates('raw');
  const wrapper = rates('wrapper');
  const ratio = {
    send: round(total('raw', 'sendMs') / total('wrapper', 'sendMs'), 3),
    work: round(total('raw', 'workMs') / total('wrapper', 'workMs'), 3),
    endToEnd: round(total('raw', 'both') / total('wrapper', 'both'), 3),
  };
  // The target is end-to-end; the phases are checked too because sends dominate the
  // end-to-end time and would hide a slow worker path.
  const met = { send: ratio.send >= TARGET, work: ratio.work >= TARGET, endToEnd: ratio.endToEnd >= TARGET };
  const yes = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(
    `  ${backend}: raw     ${raw.sendsPerSecond} sends/s, ${raw.worksPerSecond} works/s, ${raw.jobsPerSecond} jobs/s`,
  );
  console.log(
    `  ${backend}: wrapper ${wrapper.sendsPerSecond} sends/s, ${wrapper.worksPerSecond} works/s, ${wrapper.jobsPerSecond} jobs/s`,
  );
  console.log(
    `  ${backend}: wrapper/raw  send ${ratio.send} (${yes(met.send)})  work ${ratio.work} (${yes(met.work)})` +
      `  end-to-end ${ratio.endToEnd}  target: >= ${TARGET.toFixed(2)} end-to-end ${yes(met.endToEnd)}`,
  );
  const ms = (list: Timing[]) => list.map((t) => ({ sendMs: round(t.sendMs), workMs: round(t.workMs) }));
  const rounds = { raw: ms(timings.raw), wrapper: ms(timings.wrapper) };
  summary[backend] = { raw, wrapper, ratio, target: TARGET, met, rounds };
}
console.log(
  JSON.stringify({
    benchmark: 'jobs-throughput',
    jobs: N,
    rounds: ROUNDS,
    batchSize: config.jobs.batchSize,
    concurrency: CONCURRENCY,
    results: summary,
  }),
);
