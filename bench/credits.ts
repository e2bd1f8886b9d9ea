// CreditBot latency: the time from a signed Events API request (over real HTTP) to the thread reply
// arriving at Slack, with the fakes of Slack and Looker answering at once and the builtin
// calculator; median and p99 over N requests sent one after another (default 200). Target from
// the issue: under 1 second median. Then the notebook path: the same requests with the sample
// notebook on a real Jupyter kernel, and how much of each took longer than Jupyter's own run.
//
//   node bench/credits.ts [--requests 200] [--notebook-requests 5] [--db postgres|pglite]
//
// One process runs everything (`switchboard start` in-process, listening on a port): HTTP,
// the credits worker and the outbox worker. The reply is timed when the fake Slack receives it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { creditsApp } from '../src/apps/credits/app.ts';
import { loadConfig } from '../src/config.ts';
import { startService } from '../src/main.ts';
import { slackSignature } from '../src/platform/channels/webhooks/slack-signature.ts';
import { createLogger } from '../src/platform/log.ts';
import { startFakeLooker } from '../test/fakes/looker.ts';
import { startFakeSlack } from '../test/fakes/slack.ts';
import {
  createScratchDatabase,
  median,
  positiveIntArg,
  postgresReachable,
  round,
  type ScratchDatabase,
} from './support.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string' },
    'notebook-requests': { type: 'string' },
    db: { type: 'string' },
  },
});
const REQUESTS = positiveIntArg(values.requests, 200, 'requests');
const NOTEBOOK_REQUESTS = positiveIntArg(values['notebook-requests'], 5, 'notebook-requests');
const TARGET_MS = 1000;
const SECRET = 'bench-signing-secret';
const HOST = 'looker.bench.example.com';
const CHANNEL = 'C0GENERAL01';
const TOKEN = 'xoxb-bench-token';
const NOTEBOOK = path.resolve(
  import.meta.dirname,
  '../src/apps/credits/notebooks/credit-recommendation.ipynb',
);

const usePostgres = values.db !== 'pglite' && (await postgresReachable());
if (values.db === 'postgres' && !usePostgres) {
  console.log('credits: PostgreSQL is not reachable at BENCH_DATABASE_URL; nothing measured');
  process.exit(0);
}

const percentile = (list: number[], p: number) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

async function run(calculator: 'builtin' | 'notebook', count: number) {
  const slack = await startFakeSlack({
    token: TOKEN,
    channels: [{ id: CHANNEL, name: 'credits', member: true }],
  });
  const looker = await startFakeLooker({ clientId: 'bench-id', clientSecret: 'bench-secret' });
  looker.addQuery(
    {
      id: '1',
      slug: 'BenchQ1',
      sql: "SELECT mode, msg_count, fraud_cost FROM counters WHERE product = 'Authy Verify'",
      rows: [
        { 'c.fraud_guard_mode': 'basic', 'c.msg_count': 35644, 'c.fraud_cost': '7526.30' },
        { 'c.fraud_guard_mode': 'standard', 'c.msg_count': 900, 'c.fraud_cost': '1000.005' },
      ],
    },
    '1',
  );
  let scratch: ScratchDatabase | null = null;
  let dataDir: string | null = null;
  let database: Record<string, string>;
  if (usePostgres) {
    scratch = await createScratchDatabase();
    database = { DATABASE_URL: scratch.url };
  } else {
    dataDir = mkdtempSync(path.join(tmpdir(), 'sb-bench-credits-'));
    database = { DATA_DIR: dataDir };
  }
  const config = loadConfig({
    ...database,
    PORT: '0',
    LOG_LEVEL: 'error',
    LOG_FORMAT: 'json',
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_API_URL: `${slack.url}/api`,
    SLACK_SIGNING_SECRET: SECRET,
    CREDITS_CHANNELS: CHANNEL,
    LOOKER_CLIENT_ID: 'bench-id',
    LOOKER_CLIENT_SECRET: 'bench-secret',
    LOOKER_BASE_URL: looker.url,
    CREDITS_LOOKER_HOST: HOST,
    WEBHOOK_STATUS_RATE_LIMIT: '100000',
    ...(calculator === 'notebook' ? { NOTEBOOK_PATH: NOTEBOOK } : {}),
  });
  const service = await startService({
    config,
    log: createLogger(config),
    mode: 'start',
    apps: [creditsApp],
  });
  const base = service.url as string;

  const latencies: number[] = [];
  const kernel: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const text = `credit request ${i} https://${HOST}/looks/1`;
      const ts = slack.seedMessage(CHANNEL, { text });
      const body = JSON.stringify({
        type: 'event_callback',
        event_id: `EvBench${calculator}${i}`,
        event: { type: 'message', channel: CHANNEL, user: 'U0FAKEUSER1', text, ts },
      });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const started = performance.now();
      const response = await fetch(`${base}/webhooks/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-slack-request-timestamp': timestamp,
          'x-slack-signature': slackSignature(SECRET, timestamp, body),
        },
        body,
      });
      if (!response.ok)
        throw new Error(`the event was refused: HTTP ${response.status} ${await response.text()}`);
      const deadline = Date.now() + 120_000;
      for (;;) {
        const reply = slack.postedMessages.find((m) => m.thread_ts === ts);
        if (reply) {
          latencies.push(performance.now() - started);
          if (!reply.text.startsWith('Approved, $4,745.36'))
            throw new Error(`unexpected reply: ${reply.text}`);
          break;
        }
        if (Date.now() > deadline) throw new Error(`no reply to request ${i}`);
        await sleep(1);
      }
      if (calculator === 'notebook') {
        const list = (await (await fetch(`${base}/credits/requests?limit=1`)).json()) as {
          requests: Array<{ summary: { links: Array<{ kernelMs?: number }> } }>;
        };
        kernel.push(list.requests[0]?.summary.links[0]?.kernelMs ?? Number.NaN);
      }
    }
  } finally {
    await service.stop();
    await slack.close();
    await looker.close();
    if (scratch) await scratch.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
  return { latencies, kernel };
}

const where = usePostgres ? 'PostgreSQL' : 'PGlite';
const builtin = await run('builtin', REQUESTS);
const med = median(builtin.latencies);
console.log(
  `credits (${where}, builtin calculator, ${REQUESTS} requests one after another): event -> reply median ${round(med, 1)} ms, p99 ${round(percentile(builtin.latencies, 99), 1)} ms, max ${round(Math.max(...builtin.latencies), 1)} ms (target: median < ${TARGET_MS} ms: ${med < TARGET_MS ? 'met' : 'NOT met'})`,
);

const notebook = await run('notebook', NOTEBOOK_REQUESTS);
const overheads = notebook.latencies.map((total, i) => total - (notebook.kernel[i] ?? Number.NaN));
console.log(
  `credits (${where}, notebook calculator, ${NOTEBOOK_REQUESTS} requests): event -> reply median ${round(median(notebook.latencies))} ms; Jupyter's own run (nbconvert, kernel start to finish) median ${round(median(notebook.kernel))} ms; overhead beyond it median ${round(median(overheads), 1)} ms, max ${round(Math.max(...overheads), 1)} ms`,
);
