import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type ConstructorOptions, fromPglite, PgBoss } from 'pg-boss';
import { loadConfig } from '../src/config.ts';
import { type Service, type ServiceMode, startService } from '../src/main.ts';
import type { Database } from '../src/platform/db/database.ts';
import { deadLetterQueue } from '../src/platform/jobs/registry.ts';
import { createLogger } from '../src/platform/log.ts';
import { type FakeSendGrid, startFakeSendGrid } from '../test/fakes/sendgrid.ts';
import { type FakeTwilio, startFakeTwilio } from '../test/fakes/twilio.ts';
import {
  cpuMs,
  createScratchDatabase,
  dropWhenIdle,
  positiveIntArg,
  postgresReachable,
  round,
  spawnWorker,
  stopWorker,
  type Worker,
  withScratchDatabase,
} from './support.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string' },
    'pglite-messages': { type: 'string' },
    'batch-sizes': { type: 'string' },
    'pglite-batch-sizes': { type: 'string' },
    'crash-messages': { type: 'string' },
    'email-crash-messages': { type: 'string' },
    'crash-recipients': { type: 'string' },
    backends: { type: 'string' },
    'skip-crash': { type: 'boolean' },
  },
});
const MESSAGES: Record<'pglite' | 'postgres', number> = {
  postgres: positiveIntArg(values.messages, 10_000, 'messages'),
  // PGlite delivers under 100 notifications/s on 2 cores: 10,000 would take two minutes on their own.
  pglite: positiveIntArg(values['pglite-messages'], 5_000, 'pglite-messages'),
};
const CRASH_N = positiveIntArg(values['crash-messages'], 20_000, 'crash-messages');
const EMAIL_CRASH_N = positiveIntArg(values['email-crash-messages'], 5_000, 'email-crash-messages');
const CRASH_RECIPIENTS = positiveIntArg(values['crash-recipients'], CRASH_N, 'crash-recipients');
const sizes = (list: string, name: string) =>
  list.split(',').map((value) => positiveIntArg(value.trim(), 100, name));
const BATCH_SIZES: Record<'pglite' | 'postgres', number[]> = {
  postgres: sizes(values['batch-sizes'] ?? '100,200', 'batch-sizes'),
  // One thread runs PGlite, the enqueueing and the worker: a bigger batch only makes more rows wait
  // on it (and the PGlite runs are the slowest), so one size by default.
  pglite: sizes(values['pglite-batch-sizes'] ?? '100', 'pglite-batch-sizes'),
};

const LATENCY_MS = 50;
const ENQUEUE_CONCURRENCY = 100;
const POLL_SECONDS = 0.5;
// The most config.ts accepts: far above what one worker reaches, so pacing never waits.
const SEGMENTS_PER_SECOND = 10_000;
const TARGET_PER_SECOND = 2000;
const CEILING_WARMUP_JOBS = 500;
/** The worker's batch in the crash runs, and its batches in flight (the default OUTBOX_CONCURRENCY). */
const CRASH_BATCH = 100;
const CRASH_CONCURRENCY = 4;
const CRASH_ENV = {
  JOBS_EXPIRE_SECONDS: '10',
  JOBS_MAINTENANCE_INTERVAL_SECONDS: '2',
  JOBS_RETRY_DELAY_SECONDS: '1',
};
const DEADLINE_MS = 5 * 60_000;

// Provider credentials as in test/helpers/providers.ts.
const TWILIO_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const TWILIO_TOKEN = 'twilio-auth-token-for-bench';
const TWILIO_FROM = '+15005550006';
const SENDGRID_KEY = 'SG.bench-key.for-the-fake';

type Backend = 'pglite' | 'postgres';

// ------------------------------------------------------------------------------------------------
// Set-up

interface Fakes {
  twilio: FakeTwilio;
  sendgrid: FakeSendGrid;
  close(): Promise<void>;
}

async function startFakes(): Promise<Fakes> {
  const twilio = await startFakeTwilio({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
  const sendgrid = await startFakeSendGrid({ apiKey: SENDGRID_KEY });
  twilio.latencyMs = LATENCY_MS;
  sendgrid.latencyMs = LATENCY_MS;
  return {
    twilio,
    sendgrid,
    close: async () => void (await Promise.all([twilio.close(), sendgrid.close()])),
  };
}

/**
 * The service's environment: SMS and email to the fakes, Slack configured but never called (so no
 * channel is on its sandbox and the logs stay quiet at `warn`), explicit empty values so a
 * developer's .env cannot add Redis.
 */
function serviceEnv(fakes: Fakes, extra: Record<string, string>): Record<string, string> {
  return {
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    REDIS_URL: '',
    TWILIO_ACCOUNT_SID: TWILIO_SID,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_FROM_NUMBER: TWILIO_FROM,
    TWILIO_API_BASE_URL: fakes.twilio.url,
    SENDGRID_API_KEY: SENDGRID_KEY,
    SENDGRID_API_BASE_URL: fakes.sendgrid.url,
    EMAIL_FROM: 'alerts@example.com',
    SLACK_BOT_TOKEN: 'xoxb-bench-never-called',
    // The pipeline, not carrier pacing: see the header.
    SMS_SEGMENTS_PER_SECOND: String(SEGMENTS_PER_SECOND),
    JOBS_POLL_INTERVAL_SECONDS: String(POLL_SECONDS),
    ...extra,
  };
}

async function startInProcess(env: Record<string, string>, mode: ServiceMode): Promise<Service> {
  const config = loadConfig(env);
  return startService({ config, log: createLogger(config), mode, apps: [], listen: false });
}

/** Throws (with its last output) when the worker process is gone, instead of waiting for a deadline. */
function assertAlive(worker: Worker): void {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null)
    throw new Error(
      `the worker exited (${worker.child.signalCode ?? worker.child.exitCode}):\n${worker.output()}`,
    );
}

/**
 * Each enqueue starts in a macrotask of its own, as it would when a request arrives over HTTP. On
 * PGlite it matters: its queries resolve without ever yielding to the event loop, so a tight loop of
 * awaited enqueues would starve the same process's sockets and timers (the worker's Twilio calls,
 * pg-boss's polling) until the loop ends, and the run would measure that instead.
 */
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** At most `concurrency` calls in flight, like a busy API process enqueueing as requests arrive. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
}

async function until(what: string, condition: () => boolean | Promise<boolean>, intervalMs: number) {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Distinct valid US numbers (+1 415 550-0000 onwards); `spread` of them, round robin. */
const phone = (i: number, spread: number) => `+1415${5_500_000 + (i % spread)}`;
const smsBody = (i: number) => `Switchboard bench message ${i}`;
const emailSubject = (i: number) => `Switchboard bench email ${i}`;

const rate = (count: number, ms: number) => (count * 1000) / ms;
const fmt = (value: number) => round(value).toLocaleString('en-US');

// ------------------------------------------------------------------------------------------------
// The ceiling: raw pg-boss, empty jobs

/** What JobSystem passes pg-boss (bossOptions in job-system.ts is private, so mirrored here). */
function rawOptions(db: Database, workers: boolean): ConstructorOptions {
  const maintenance = loadConfig({}).jobs.maintenanceIntervalSeconds;
  const common: ConstructorOptions = {
    schema: 'pgboss',
    supervise: workers,
    schedule: workers,
    superviseIntervalSeconds: maintenance,
    monitorIntervalSeconds: maintenance,
  };
  if (db.pglite) return { ...common, backend: 'pglite', db: fromPglite(db.pglite), useListenNotify: true };
  const { connectionString, max } = db.pool!.options as { connectionString: string; max: number };
  return { ...common, connectionString, max, useListenNotify: true, application_name: 'switchboard-jobs' };
}

interface Ceiling {
  sendMs: number;
  workMs: number;
  jobsPerSecond: number;
}

async function measureCeiling(backend: Backend, n: number, batchSize: number): Promise<Ceiling> {
  return withScratchDatabase(backend, async (db) => {
    const queue = 'bench.deliver';
    const sender = new PgBoss(rawOptions(db, false));
    const worker = new PgBoss(rawOptions(db, true));
    for (const boss of [sender, worker]) boss.on('error', (error) => console.error('pg-boss error:', error));
    await sender.start();
    const jobs = loadConfig({}).jobs;
    await sender.createQueue(deadLetterQueue(queue), { retryLimit: 0 });
    // The outbox.deliver queue's options (outbox/jobs.ts and JobSystem's #ensureQueue).
    await sender.createQueue(queue, {
      retryLimit: 10,
      retryDelay: jobs.retryDelaySeconds,
      retryBackoff: true,
      retryDelayMax: jobs.retryDelayMaxSeconds,
      expireInSeconds: jobs.expireSeconds,
      deadLetter: deadLetterQueue(queue),
      policy: 'stately',
      notify: true,
    });
    let handled = 0;
    const close = db.kind === 'postgres';
    try {
      let t = performance.now();
      await pool(n, ENQUEUE_CONCURRENCY, (i) => sender.send(queue, { n: i }, { singletonKey: `job-${i}` }));
      const sendMs = performance.now() - t;
      t = performance.now();
      await worker.start();
      await worker.work(
        queue,
        {
          batchSize,
          pollingIntervalSeconds: POLL_SECONDS,
          notifyPollingIntervalSeconds: POLL_SECONDS,
          burstWhenBatchFull: true,
        },
        async (batch) => {
          handled += batch.length;
        },
      );
      await until('the raw jobs to be handled', () => handled >= n, 2);
      await until(
        'the raw jobs to complete',
        async () => {
          const [row] = await db.query<{ n: number }>(
            "select count(*)::int as n from pgboss.job where name = $1 and state = 'completed'",
            [queue],
          );
          return row!.n >= n;
        },
        5,
      );
      const workMs = performance.now() - t;
      return { sendMs, workMs, jobsPerSecond: rate(n, sendMs + workMs) };
    } finally {
      await worker.stop({ graceful: true, timeout: 5000, close });
      await sender.stop({ graceful: true, timeout: 5000, close });
    }
  });
}

// ------------------------------------------------------------------------------------------------
// Notifications per second

interface Throughput {
  totalMs: number;
  enqueueMs: number;
  perSecond: number;
  enqueuePerSecond: number;
  /** Rows already sent when the last enqueue returned (first poll after it). */
  sentByEnqueueEnd: number;
  /** Delivery alone, after the enqueueing ended. */
  drainPerSecond: number;
  /** Mean per delivered message, from the worker's metrics: the job handler and the Twilio call in it. */
  handlerMs: number;
  providerMs: number;
  /** CPU time (user + system) of the process that delivered, per message; NaN where it is not apart. */
  cpuMsPerMessage: number;
}

/** Sum and count of a histogram's series whose labels contain `labels`, from Prometheus text. */
function histogram(text: string, name: string, labels: string): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (!line.includes(labels)) continue;
    const value = Number(line.split(' ').at(-1));
    if (line.startsWith(`${name}_sum{`)) sum += value;
    else if (line.startsWith(`${name}_count{`)) count += value;
  }
  return { sum, count };
}

function meansFromMetrics(text: string): { handlerMs: number; providerMs: number } {
  const handler = histogram(text, 'job_duration_seconds', 'queue="outbox.deliver",outcome="completed"');
  const provider = histogram(text, 'provider_request_duration_seconds', 'driver="twilio",outcome="ok"');
  return {
    handlerMs: handler.count ? (handler.sum / handler.count) * 1000 : Number.NaN,
    providerMs: provider.count ? (provider.sum / provider.count) * 1000 : Number.NaN,
  };
}

/** Enqueues n SMS through `service` and waits until `sentCount()` reaches n (`check` throws to give up). */
async function enqueueAndDrain(
  service: Service,
  n: number,
  sentCount: () => Promise<number>,
  pollMs: number,
  check: () => void = () => {},
): Promise<Pick<Throughput, 'totalMs' | 'enqueueMs' | 'sentByEnqueueEnd'>> {
  const started = performance.now();
  let enqueueMs = 0;
  let sentByEnqueueEnd: number | null = null;
  const enqueued = pool(n, ENQUEUE_CONCURRENCY, async (i) => {
    await macrotask();
    return service.channels.enqueue({
      dedupeKey: `bench:${i}`,
      channel: 'sms',
      to: phone(i, n),
      content: { body: smsBody(i) },
    });
  }).then(() => {
    enqueueMs = performance.now() - started;
  });
  let failure: unknown = null;
  enqueued.catch((error: unknown) => {
    failure = error;
  });
  await until(
    'every row to be sent',
    async () => {
      if (failure) throw failure;
      check();
      const sent = await sentCount();
      if (enqueueMs && sentByEnqueueEnd === null) sentByEnqueueEnd = sent;
      return sent >= n;
    },
    pollMs,
  );
  const totalMs = performance.now() - started;
  await enqueued;
  return { totalMs, enqueueMs, sentByEnqueueEnd: sentByEnqueueEnd ?? n };
}

async function throughputPglite(n: number, batchSize: number): Promise<Throughput> {
  const fakes = await startFakes();
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-bench-outbox-'));
  try {
    const env = serviceEnv(fakes, { DATA_DIR: dir, DATABASE_URL: '', OUTBOX_BATCH_SIZE: String(batchSize) });
    const service = await startInProcess(env, 'start');
    try {
      const count = async () => {
        const [row] = await service.db.query<{ n: number }>(
          "select count(*)::int as n from outbox_messages where status = 'sent'",
        );
        return row!.n;
      };
      // Every 100 ms: PGlite is one connection, shared with the work being measured.
      const timing = await enqueueAndDrain(service, n, count, 100);
      checkProvider(fakes, n);
      const means = meansFromMetrics(await service.metrics.registry.metrics());
      // One process enqueues and delivers here: no CPU figure of the delivery alone.
      return summarize(n, timing, means, Number.NaN);
    } finally {
      await service.stop();
    }
  } finally {
    await fakes.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function throughputPostgres(n: number, batchSize: number): Promise<Throughput> {
  const fakes = await startFakes();
  const scratch = await createScratchDatabase();
  let api: Service | null = null;
  let worker: Worker | null = null;
  const client = new pg.Client({ connectionString: scratch.url });
  try {
    const env = serviceEnv(fakes, { DATABASE_URL: scratch.url, OUTBOX_BATCH_SIZE: String(batchSize) });
    // The API service first: it applies the migrations, so the worker starts on a migrated database.
    api = await startInProcess(env, 'http');
    worker = await spawnWorker(env);
    await client.connect();
    const count = async () => {
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from outbox_messages where status = 'sent'",
      );
      return rows[0]!.n;
    };
    const running = worker;
    const pid = worker.child.pid as number;
    const cpuBefore = cpuMs(pid);
    const timing = await enqueueAndDrain(api, n, count, 50, () => assertAlive(running));
    const cpuPerMessage = (cpuMs(pid) - cpuBefore) / n;
    checkProvider(fakes, n);
    const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    return summarize(n, timing, meansFromMetrics(metrics), cpuPerMessage);
  } catch (error) {
    if (worker) console.error(`worker output:\n${worker.output()}`);
    throw error;
  } finally {
    await client.end().catch(() => {});
    if (worker) await stopWorker(worker);
    await api?.stop();
    await fakes.close();
    await dropWhenIdle(scratch);
  }
}

function checkProvider(fakes: Fakes, n: number): void {
  const received = fakes.twilio.sentMessages.length;
  if (received !== n) console.warn(`  warning: the fake Twilio received ${received} messages for ${n} rows`);
}

function summarize(
  n: number,
  timing: Pick<Throughput, 'totalMs' | 'enqueueMs' | 'sentByEnqueueEnd'>,
  means: { handlerMs: number; providerMs: number },
  cpuMsPerMessage: number,
): Throughput {
  const drainMs = timing.totalMs - timing.enqueueMs;
  return {
    ...timing,
    perSecond: rate(n, timing.totalMs),
    enqueuePerSecond: rate(n, timing.enqueueMs),
    drainPerSecond: drainMs > 0 ? rate(n - timing.sentByEnqueueEnd, drainMs) : Number.NaN,
    ...means,
    cpuMsPerMessage,
  };
}

// ------------------------------------------------------------------------------------------------
// Crash safety

interface CrashResult {
  channel: 'sms' | 'email';
  messages: number;
  recipients: number;
  batchSize: number;
  enqueuePerSecond: number;
  /** Requests the fake had received when the kill was sent. */
  receivedAtKill: number;
  /** Accepted (and answered) by the fake when the kill was sent. */
  answeredAtKill: number;
  /** Requests the fake had received but not answered at the kill, plus any that arrived after it. */
  unansweredAtKill: number;
  /** Rows left in `sending` by the dead worker. */
  rowsSending: number;
  /** Of those, rows whose message the fake had answered: the worker died before recording it. */
  exposedAnswered: number;
  /** Of those, rows whose request the fake had received but not yet answered at the kill. */
  exposedInFlight: number;
  /** From the restart until every row was final. */
  recoveryMs: number;
  lost: number;
  duplicated: number;
  extraCopies: number;
  finalStatus: Record<string, number>;
  /** outbox.deliver job outcomes after the restart (reconciled: found at the provider, not resent). */
  outcomes: Record<string, number>;
}

async function crashRun(channel: 'sms' | 'email', n: number, recipients: number): Promise<CrashResult> {
  const fakes = await startFakes();
  const scratch = await createScratchDatabase();
  const client = new pg.Client({ connectionString: scratch.url });
  let api: Service | null = null;
  const workers: Worker[] = [];
  // What reached the provider, as one key per message: the SMS body or the email subject.
  const accepted = (): string[] =>
    channel === 'sms'
      ? fakes.twilio.sentMessages.map((m) => m.body)
      : fakes.sendgrid.sentMessages.map((m) => m.subject ?? '');
  const sends = () =>
    channel === 'sms'
      ? fakes.twilio.requests.filter((r) => r.method === 'POST').length
      : fakes.sendgrid.requests.filter((r) => r.method === 'POST').length;
  // Every request the fake has received, answered or not (it records them on arrival).
  const arrivals = () => (channel === 'sms' ? fakes.twilio.requests.length : fakes.sendgrid.requests.length);
  try {
    const env = serviceEnv(fakes, {
      DATABASE_URL: scratch.url,
      OUTBOX_BATCH_SIZE: String(CRASH_BATCH),
      OUTBOX_CONCURRENCY: String(CRASH_CONCURRENCY),
      ...CRASH_ENV,
    });
    api = await startInProcess(env, 'http');
    await client.connect();
    const service = api;
    const t = performance.now();
    await pool(n, ENQUEUE_CONCURRENCY, (i) =>
      channel === 'sms'
        ? service.channels.enqueue({
            dedupeKey: `crash:sms:${i}`,
            channel: 'sms',
            to: phone(i, recipients),
            content: { body: smsBody(i) },
          })
        : service.channels.enqueue({
            dedupeKey: `crash:email:${i}`,
            channel: 'email',
            to: `user${i % recipients}@example.com`,
            content: { subject: emailSubject(i), text: `Bench email number ${i}.` },
          }),
    );
    const enqueueMs = performance.now() - t;

    const first = await spawnWorker(env);
    workers.push(first);
    // Roughly half, and in the middle of a batch: a batch's sends go out together, so a threshold on
    // a batch boundary would often kill the worker between two batches, with nothing in flight.
    const killAt = Math.floor(n / 2) + Math.floor(CRASH_BATCH / 2);
    await until(
      'the provider to receive half the messages',
      () => {
        assertAlive(first);
        return arrivals() >= killAt;
      },
      1,
    );
    first.child.kill('SIGKILL');
    // In the same tick as the kill (the fake runs in this process): what it had by then.
    const receivedAtKill = arrivals();
    const answeredAtKill = new Set(accepted());
    await first.exited;
    // Requests already on the wire land now; PostgreSQL rolls back the dead worker's transactions.
    await sleep(500);
    const unansweredAtKill = sends() - answeredAtKill.size;
    const taken = new Set(accepted());
    const sending = await client.query<{ key: string }>(
      channel === 'sms'
        ? "select content->>'body' as key from outbox_messages where status = 'sending'"
        : "select content->>'subject' as key from outbox_messages where status = 'sending'",
    );
    const exposedAnswered = sending.rows.filter((row) => answeredAtKill.has(row.key)).length;
    const exposedInFlight = sending.rows.filter(
      (row) => taken.has(row.key) && !answeredAtKill.has(row.key),
    ).length;

    const { rows: clock } = await client.query<{ now: Date }>('select now() as now');
    const restartedAt = performance.now();
    const second = await spawnWorker(env);
    workers.push(second);
    await until(
      'every row to be final after the restart',
      async () => {
        assertAlive(second);
        const { rows } = await client.query<{ n: number }>(
          "select count(*)::int as n from outbox_messages where status in ('queued', 'sending')",
        );
        return rows[0]!.n === 0;
      },
      100,
    );
    const recoveryMs = performance.now() - restartedAt;

    const copies = new Map<string, number>();
    for (const key of accepted()) copies.set(key, (copies.get(key) ?? 0) + 1);
    const keyOf = channel === 'sms' ? smsBody : emailSubject;
    let lost = 0;
    for (let i = 0; i < n; i++) if (!copies.has(keyOf(i))) lost++;
    let duplicated = 0;
    let extraCopies = 0;
    for (const count of copies.values()) {
      if (count > 1) {
        duplicated++;
        extraCopies += count - 1;
      }
    }
    const status = await client.query<{ status: string; n: number }>(
      'select status, count(*)::int as n from outbox_messages group by status order by status',
    );
    const outcomes = await client.query<{ outcome: string; n: number }>(
      `select coalesce(output->>'outcome', state::text) as outcome, count(*)::int as n
         from pgboss.job where name = 'outbox.deliver' and completed_on >= $1
        group by 1 order by 1`,
      [clock[0]!.now],
    );
    return {
      channel,
      messages: n,
      recipients,
      batchSize: CRASH_BATCH,
      enqueuePerSecond: rate(n, enqueueMs),
      receivedAtKill,
      answeredAtKill: answeredAtKill.size,
      unansweredAtKill,
      rowsSending: sending.rows.length,
      exposedAnswered,
      exposedInFlight,
      recoveryMs,
      lost,
      duplicated,
      extraCopies,
      finalStatus: Object.fromEntries(status.rows.map((row) => [row.status, row.n])),
      outcomes: Object.fromEntries(outcomes.rows.map((row) => [row.outcome, row.n])),
    };
  } catch (error) {
    for (const [i, worker] of workers.entries()) console.error(`worker ${i + 1} output:\n${worker.output()}`);
    throw error;
  } finally {
    await client.end().catch(() => {});
    for (const worker of workers) await stopWorker(worker);
    await api?.stop();
    await fakes.close();
    await dropWhenIdle(scratch);
  }
}

// ------------------------------------------------------------------------------------------------
// Run

const wanted = (values.backends ?? 'pglite,postgres').split(',').map((value) => value.trim());
for (const name of wanted) {
  if (name !== 'pglite' && name !== 'postgres') throw new Error('--backends takes pglite, postgres or both');
}
const withPostgres = wanted.includes('postgres') && (await postgresReachable());
const backends = (['pglite', 'postgres'] as const).filter(
  (backend) => wanted.includes(backend) && (backend === 'pglite' || withPostgres),
);

console.log(
  `outbox: SMS through enqueue (${ENQUEUE_CONCURRENCY} in flight), send and record ` +
    `(${fmt(MESSAGES.postgres)} per run on PostgreSQL, ${fmt(MESSAGES.pglite)} on PGlite); ` +
    `fake Twilio answering in ${LATENCY_MS} ms; one worker; JOBS_POLL_INTERVAL_SECONDS ${POLL_SECONDS}; ` +
    `SMS_SEGMENTS_PER_SECOND ${SEGMENTS_PER_SECOND} (the pipeline, not carrier pacing)`,
);
console.log(
  '  PostgreSQL: in-process `http` service enqueues, child process `worker` delivers; ' +
    'PGlite: one in-process `start` service does both',
);
if (wanted.includes('postgres') && !withPostgres)
  console.log('  PostgreSQL: skipped (BENCH_DATABASE_URL not reachable)');

const throughput: Record<string, unknown> = {};
let best: { perSecond: number; batchSize: number } | null = null;
for (const backend of backends) {
  // An unreported small run of the ceiling first: the first pg-boss run in a process is slower.
  await measureCeiling(backend, CEILING_WARMUP_JOBS, BATCH_SIZES[backend][0]!);
  const runs: Record<string, unknown> = {};
  const N = MESSAGES[backend];
  for (const batchSize of BATCH_SIZES[backend]) {
    const ceiling = await measureCeiling(backend, N, batchSize);
    const result =
      backend === 'pglite' ? await throughputPglite(N, batchSize) : await throughputPostgres(N, batchSize);
    const ratio = result.perSecond / ceiling.jobsPerSecond;
    console.log(
      `  ${backend.padEnd(8)} OUTBOX_BATCH_SIZE ${String(batchSize).padEnd(4)} ` +
        `${fmt(result.perSecond)} notifications/s (${fmt(N)} in ${round(result.totalMs / 1000, 1)} s)` +
        (Number.isNaN(result.cpuMsPerMessage)
          ? '  '
          : `, worker CPU ${round(result.cpuMsPerMessage, 3)} ms/message (${fmt(1000 / result.cpuMsPerMessage)}/s a core)  `) +
        `ceiling: raw pg-boss ${fmt(ceiling.jobsPerSecond)} jobs/s [send ${fmt(rate(N, ceiling.sendMs))}/s, ` +
        `work ${fmt(rate(N, ceiling.workMs))}/s]  ratio to ceiling ${round(ratio, 2)}`,
    );
    console.log(
      `  ${' '.repeat(8)} enqueue ${fmt(result.enqueuePerSecond)}/s (done at ${round(result.enqueueMs / 1000, 1)} s, ` +
        `${fmt(result.sentByEnqueueEnd)} sent by then), then delivery alone ${fmt(result.drainPerSecond)}/s; ` +
        `per message in the worker: handler ${round(result.handlerMs)} ms, of which the Twilio call ` +
        `${round(result.providerMs)} ms`,
    );
    runs[String(batchSize)] = {
      ceiling: {
        jobsPerSecond: round(ceiling.jobsPerSecond),
        sendsPerSecond: round(rate(N, ceiling.sendMs)),
        worksPerSecond: round(rate(N, ceiling.workMs)),
      },
      notificationsPerSecond: round(result.perSecond),
      totalMs: round(result.totalMs),
      enqueuePerSecond: round(result.enqueuePerSecond),
      sentByEnqueueEnd: result.sentByEnqueueEnd,
      drainPerSecond: round(result.drainPerSecond),
      ratioToCeiling: round(ratio, 3),
      workerCpuMsPerMessage: Number.isNaN(result.cpuMsPerMessage) ? null : round(result.cpuMsPerMessage, 4),
      handlerMeanMs: round(result.handlerMs, 1),
      providerMeanMs: round(result.providerMs, 1),
    };
    if (backend === 'postgres' && (!best || result.perSecond > best.perSecond))
      best = { perSecond: result.perSecond, batchSize };
  }
  throughput[backend] = runs;
}
const met = best ? best.perSecond >= TARGET_PER_SECOND : null;
if (best) {
  console.log(
    `  target: >= ${fmt(TARGET_PER_SECOND)} notifications/s per worker on PostgreSQL: ` +
      `best ${fmt(best.perSecond)}/s (OUTBOX_BATCH_SIZE ${best.batchSize}): ${met ? 'met' : 'NOT met'}`,
  );
}

const crash: Record<string, unknown> = {};
if (values['skip-crash']) {
  console.log('\ncrash safety: skipped (--skip-crash)');
} else if (withPostgres) {
  console.log(
    `\ncrash safety on PostgreSQL: enqueue all, start a worker (OUTBOX_BATCH_SIZE ${CRASH_BATCH}, OUTBOX_CONCURRENCY ${CRASH_CONCURRENCY}, ` +
      `JOBS_EXPIRE_SECONDS ${CRASH_ENV.JOBS_EXPIRE_SECONDS}, JOBS_MAINTENANCE_INTERVAL_SECONDS ` +
      `${CRASH_ENV.JOBS_MAINTENANCE_INTERVAL_SECONDS}), kill -9 it at half, restart, wait until every row is final`,
  );
  for (const [channel, n] of [
    ['sms', CRASH_N],
    ['email', EMAIL_CRASH_N],
  ] as const) {
    const recipients = channel === 'sms' ? Math.min(CRASH_RECIPIENTS, n) : n;
    const r = await crashRun(channel, n, recipients);
    const provider = channel === 'sms' ? 'Twilio' : 'SendGrid';
    const pad = ' '.repeat(7);
    const exposed = r.exposedAnswered + r.exposedInFlight;
    console.log(
      `  ${channel.padEnd(5)} ${fmt(n)} messages to ${fmt(recipients)} recipient(s), enqueued at ` +
        `${fmt(r.enqueuePerSecond)}/s; killed when the fake ${provider} had received ${fmt(r.receivedAtKill)} ` +
        `requests and answered ${fmt(r.answeredAtKill)}; ` +
        `every row final ${round(r.recoveryMs / 1000, 1)} s after the restart`,
    );
    console.log(
      `${pad}rows left in sending ${r.rowsSending}: the provider had ${exposed} of them ` +
        `(${r.exposedAnswered} answered but not recorded, ${r.exposedInFlight} unanswered at the kill); ` +
        `requests unanswered at the kill ${r.unansweredAtKill}`,
    );
    console.log(
      `${pad}final rows ${JSON.stringify(r.finalStatus)}; deliveries after the restart ${JSON.stringify(r.outcomes)}`,
    );
    const lostLine = `lost ${r.lost} (must be 0: ${r.lost === 0 ? 'met' : 'NOT met'})`;
    if (channel === 'sms') {
      console.log(
        `${pad}${lostLine}  duplicated ${r.duplicated} (should be 0, Twilio is asked before a resend: ` +
          `${r.duplicated === 0 ? 'met' : 'NOT met'})`,
      );
    } else {
      // No read-back at SendGrid: each row in `sending` whose mail SendGrid had is sent again.
      const bound = r.batchSize * CRASH_CONCURRENCY;
      const within = r.duplicated <= bound;
      console.log(
        `${pad}${lostLine}  duplicated ${r.duplicated} (${r.extraCopies} extra copies); bound: ` +
          `OUTBOX_BATCH_SIZE x OUTBOX_CONCURRENCY = ${bound} (${within ? 'within' : 'EXCEEDED'}); ` +
          `exposed at the kill ${exposed} (${r.duplicated === exposed ? 'equal' : 'differs'})`,
      );
    }
    crash[channel] = {
      messages: r.messages,
      recipients: r.recipients,
      batchSize: r.batchSize,
      enqueuePerSecond: round(r.enqueuePerSecond),
      receivedAtKill: r.receivedAtKill,
      answeredAtKill: r.answeredAtKill,
      unansweredAtKill: r.unansweredAtKill,
      rowsSending: r.rowsSending,
      exposedAnswered: r.exposedAnswered,
      exposedInFlight: r.exposedInFlight,
      recoveryMs: round(r.recoveryMs),
      lost: r.lost,
      duplicated: r.duplicated,
      extraCopies: r.extraCopies,
      finalStatus: r.finalStatus,
      outcomes: r.outcomes,
    };
  }
} else {
  console.log('\ncrash safety: skipped (it needs PostgreSQL, not selected or not reachable)');
}

console.log(
  JSON.stringify({
    benchmark: 'outbox',
    messages: MESSAGES,
    latencyMs: LATENCY_MS,
    enqueueConcurrency: ENQUEUE_CONCURRENCY,
    pollIntervalSeconds: POLL_SECONDS,
    batchSizes: BATCH_SIZES,
    segmentsPerSecond: SEGMENTS_PER_SECOND,
    throughput,
    target: { perSecond: TARGET_PER_SECOND, backend: 'postgres', met },
    crash,
  }),
);
