// Invoice review alerts at scale: N invoices needing review (default 100,000) and 3 recipients (two
// emails and one phone: 3N notifications), ONE worker process on PostgreSQL, fake Twilio and SendGrid
// answering every request in 50 ms. Printed: the scan's own duration, the time from scan start to the
// last notification sent, notifications per second, and the peak RSS of the worker and of the process
// that scanned. Targets (issue 18): at least 2,000 notifications/s,
// the worker's peak RSS at most 256 MiB.
//
//   node bench/invoices.ts [--invoices 100000] [--batch-size 200] [--concurrency 4]
//                          [--unanswered-every N] [--node-options="..."]
//
// --unanswered-every N: the Twilio fake takes every Nth SMS (67 of them at most) and never answers,
// as a loaded machine's fakes once did: each holds its fetched batch's worker slot for the provider
// timeout (README, "Invoice alerts"). --concurrency sets OUTBOX_CONCURRENCY.
//
// --node-options passes flags to the worker's Node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). The
// worker's CPU time per notification (user + system, from /proc) is printed beside the rate: on a
// shared machine it is the stable figure where the rate follows the load.
//
// The invoices are written straight into the invoices table with one INSERT ... SELECT (loading them
// is not what is measured). The scan runs in this process through the real API (an in-process
// service in mode `http`, which queues but delivers nothing), as `switchboard invoices scan --once`
// would; the worker is a child process `node src/cli.ts worker`, started and ready before the clock
// starts. SMS pacing is per sender (1 segment/s for a long code by default); it is set to its
// maximum here so the benchmark measures the pipeline, not carrier pacing.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { invoicesApp } from '../src/apps/invoices/app.ts';
import { loadConfig } from '../src/config.ts';
import { startService } from '../src/main.ts';
import { createLogger } from '../src/platform/log.ts';
import { startFakeSendGrid } from '../test/fakes/sendgrid.ts';
import { startFakeTwilio } from '../test/fakes/twilio.ts';
import {
  analyzeLikeAutovacuum,
  cpuMs,
  createScratchDatabase,
  dropWhenIdle,
  peakRssMiB,
  positiveIntArg,
  postgresReachable,
  round,
  spawnWorker,
  stopWorker,
  type Worker,
} from './support.ts';

const { values } = parseArgs({
  options: {
    invoices: { type: 'string' },
    'batch-size': { type: 'string' },
    concurrency: { type: 'string' },
    'unanswered-every': { type: 'string' },
    'node-options': { type: 'string' },
  },
});
const INVOICES = positiveIntArg(values.invoices, 100_000, 'invoices');
const BATCH = positiveIntArg(values['batch-size'], 200, 'batch-size');
const CONCURRENCY = values.concurrency ? positiveIntArg(values.concurrency, 4, 'concurrency') : undefined;
const UNANSWERED_EVERY = values['unanswered-every']
  ? positiveIntArg(values['unanswered-every'], 1000, 'unanswered-every')
  : undefined;
const RECIPIENTS = ['ap@example.com', 'finance@example.com', '+14155550100'];
const TARGET = 2000;
const PEAK_RSS_GOAL_MIB = 256;
const SID = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'twilio-auth-token-for-bench';

if (!(await postgresReachable())) {
  console.log('invoices: PostgreSQL is not reachable at BENCH_DATABASE_URL; nothing measured');
  process.exit(0);
}

// Neither fake keeps the requests (nor SendGrid the emails' bodies), which nothing here reads: kept,
// 200,000 HTML emails grew this process to 1.8 GB. Twilio keeps its message list for read-backs.
const twilio = await startFakeTwilio({ accountSid: SID, authToken: TOKEN, recordRequests: false });
const sendgrid = await startFakeSendGrid({ apiKey: 'SG.bench-key', keepMessages: false });
twilio.latencyMs = 50;
sendgrid.latencyMs = 50;
if (UNANSWERED_EVERY) {
  let posts = 0;
  twilio.inject({
    match: (req) =>
      req.method === 'POST' && req.path.endsWith('/Messages.json') && ++posts % UNANSWERED_EVERY === 0,
    afterProcessing: true,
    hang: true,
    times: 67,
  });
}
const db = await createScratchDatabase();
const env: Record<string, string> = {
  DATABASE_URL: db.url,
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  NOTIFICATION_RECIPIENTS: RECIPIENTS.join(','),
  TWILIO_ACCOUNT_SID: SID,
  TWILIO_AUTH_TOKEN: TOKEN,
  TWILIO_FROM_NUMBER: '+15005550006',
  TWILIO_API_BASE_URL: twilio.url,
  SENDGRID_API_KEY: 'SG.bench-key',
  SENDGRID_API_BASE_URL: sendgrid.url,
  EMAIL_FROM: 'alerts@example.com',
  SMS_SEGMENTS_PER_SECOND: '10000',
  OUTBOX_BATCH_SIZE: String(BATCH),
  ...(CONCURRENCY ? { OUTBOX_CONCURRENCY: String(CONCURRENCY) } : {}),
  JOBS_POLL_INTERVAL_SECONDS: '0.5',
  // Scans only when asked: the schedule would add one at a random point of the run.
  REVIEW_NOTIFICATION_INTERVAL: '1440',
  // Every SMS goes to one AP number, so past OUTBOX_READBACK_MAX_MESSAGES (10,000) a send that went
  // unanswered (a timeout on a loaded machine) cannot be read back and is never resent: it ends as
  // delivery_unknown after this bound (60 minutes by default, one here so the run ends).
  OUTBOX_READBACK_GIVE_UP_AFTER_MINUTES: '1',
  ...(values['node-options'] ? { NODE_OPTIONS: values['node-options'] } : {}),
};

let worker: Worker | undefined;
try {
  const config = loadConfig(env);
  const log = createLogger(config);
  const api = await startService({ config, log, mode: 'http', listen: false, apps: [invoicesApp] });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(
    `insert into invoices (id, vendor_name, total_minor, currency, matched_status, invoice_link)
     select 'INV-' || lpad(i::text, 7, '0'), 'Vendor ' || (i % 997), 1000 + i * 7, 'USD', 'NEEDS_REVIEW',
            'https://ap.example.com/invoices/' || i
       from generate_series(1, $1) as i`,
    [INVOICES],
  );

  worker = await spawnWorker(env);
  const statistics = await analyzeLikeAutovacuum(db.url);

  const expected = INVOICES * RECIPIENTS.length;
  const workerPid = worker.child.pid as number;
  const cpuBefore = cpuMs(workerPid);
  const started = performance.now();
  const scan = await api.app.inject({ method: 'POST', url: '/invoices/scans' });
  const scanMs = performance.now() - started;
  const scanned = scan.json() as { enqueued: number; matched: number; error: string | null };
  if (scanned.error || scanned.enqueued !== expected)
    throw new Error(`scan queued ${scanned.enqueued} of ${expected}: ${scanned.error}`);
  // Counting rows every 100 ms would cost the database a good part of a core on 300,000 rows: watch
  // what the fakes received (free, in this process), then wait for the last rows to be recorded.
  await waitUntil(async () => twilio.sentMessages.length + sendgrid.sentCount >= expected, 30 * 60_000);
  // The rate is up to the providers' last receipt; rows still settling after it (an answer lost to a
  // timeout, then read back or given up on) are counted and reported, not left out.
  const totalMs = performance.now() - started;
  const settled = async () => {
    const { rows } = await client.query<{ sent: string; unknown: string; open: string }>(
      `select count(*) filter (where status = 'sent') as sent,
              count(*) filter (where status = 'failed' and error_code = 'delivery_unknown') as unknown,
              count(*) filter (where status in ('queued', 'sending')) as open
         from outbox_messages`,
    );
    return { sent: Number(rows[0]?.sent), unknown: Number(rows[0]?.unknown), open: Number(rows[0]?.open) };
  };
  await waitUntil(async () => (await settled()).open === 0, 5 * 60_000);
  const outcome = await settled();
  await statistics.stop();
  const workerCpuPerMessage = (cpuMs(workerPid) - cpuBefore) / expected;
  const workerPeakMiB = peakRssMiB(workerPid);
  const scannerPeakMiB = process.resourceUsage().maxRSS / 1024;
  const perSecond = expected / (totalMs / 1000);

  const received = twilio.sentMessages.length + sendgrid.sentCount;
  console.log(
    `invoices: ${INVOICES} invoices needing review x ${RECIPIENTS.length} recipients = ${expected} notifications, one worker, PostgreSQL, provider latency 50 ms, OUTBOX_BATCH_SIZE ${BATCH}` +
      (CONCURRENCY ? `, OUTBOX_CONCURRENCY ${CONCURRENCY}` : '') +
      (UNANSWERED_EVERY ? `, every ${UNANSWERED_EVERY}th SMS unanswered (67 at most)` : ''),
  );
  console.log(
    `  scan (find and queue every alert)    ${round(scanMs / 1000, 1)} s (${round(expected / (scanMs / 1000))} queued/s)`,
  );
  console.log(`  scan start to last notification sent ${round(totalMs / 1000, 1)} s`);
  console.log(
    `  rows: ${outcome.sent} sent, ${outcome.unknown} delivery_unknown (a send that went unanswered, past what the read-back can check: never resent)`,
  );
  if (statistics.emulated)
    console.log('  (autovacuum is off on this server: the run analyzed the tables every 10 s as it would)');
  console.log(
    `  notifications/s                      ${round(perSecond)}  target: >= ${TARGET} ${perSecond >= TARGET ? 'met' : 'NOT met'}` +
      `  (worker CPU ${round(workerCpuPerMessage, 3)} ms per notification: at most ${round(1000 / workerCpuPerMessage)}/s on one core)`,
  );
  console.log(
    `  providers received                   ${received} (${sendgrid.sentCount} emails, ${twilio.sentMessages.length} SMS)`,
  );
  console.log(
    `  peak RSS: worker ${round(workerPeakMiB)} MiB (goal <= ${PEAK_RSS_GOAL_MIB}: ${workerPeakMiB <= PEAK_RSS_GOAL_MIB ? 'met' : 'NOT met'}), scanning process ${round(scannerPeakMiB)} MiB`,
  );
  console.log(
    JSON.stringify({
      benchmark: 'invoices',
      invoices: INVOICES,
      recipients: RECIPIENTS.length,
      notifications: expected,
      batchSize: BATCH,
      ...(CONCURRENCY ? { concurrency: CONCURRENCY } : {}),
      ...(UNANSWERED_EVERY ? { unansweredEvery: UNANSWERED_EVERY } : {}),
      scanSeconds: round(scanMs / 1000, 2),
      totalSeconds: round(totalMs / 1000, 2),
      notificationsPerSecond: round(perSecond),
      workerCpuMsPerNotification: round(workerCpuPerMessage, 4),
      target: TARGET,
      met: perSecond >= TARGET,
      providersReceived: received,
      rows: outcome,
      peakRssMiB: { worker: round(workerPeakMiB), scanner: round(scannerPeakMiB) },
      workerPeakRssGoalMiB: PEAK_RSS_GOAL_MIB,
    }),
  );
  await client.end();
  await api.stop();
} finally {
  if (worker) await stopWorker(worker);
  await Promise.all([twilio.close(), sendgrid.close()]);
  await dropWhenIdle(db);
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms`);
    await sleep(100);
  }
}
