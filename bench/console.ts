// Console page times on a database of realistic size: 100,000 outbox rows (spread over 30 days,
// each delivered one with its sandbox copy), 10,000 daily subscribers and 10,000 credit requests.
// Every page the console's navigation lists (the platform's and each app's), and a message's page,
// is requested N times after a warm-up; its server time (Fastify's own response time, from the
// access log's `responseTime`, is not exposed, so this measures the full loopback round trip)
// is printed as median and p95 beside `/health/live`'s in the same run. Goal: p95 <= 50 ms.
//
//   node bench/console.ts [--requests 40] [--outbox 100000] [--subscribers 10000] [--credits 10000]
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { startService } from '../src/main.ts';
import { createLogger } from '../src/platform/log.ts';
import {
  createScratchDatabase,
  dropWhenIdle,
  freePort,
  median,
  positiveIntArg,
  postgresReachable,
  round,
} from './support.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string' },
    outbox: { type: 'string' },
    subscribers: { type: 'string' },
    credits: { type: 'string' },
  },
});
const REQUESTS = positiveIntArg(values.requests, 40, 'requests');
const OUTBOX = positiveIntArg(values.outbox, 100_000, 'outbox');
const SUBSCRIBERS = positiveIntArg(values.subscribers, 10_000, 'subscribers');
const CREDITS = positiveIntArg(values.credits, 10_000, 'credits');

const p95 = (samples: number[]) =>
  [...samples].sort((a, b) => a - b)[Math.ceil(samples.length * 0.95) - 1] ?? 0;

async function time(url: string, cookie: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers: { cookie, accept: 'text/html' } });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return performance.now() - started;
}

async function main() {
  if (!(await postgresReachable())) {
    console.log('console bench: no PostgreSQL at BENCH_DATABASE_URL, skipped');
    return;
  }
  const scratch = await createScratchDatabase();
  try {
    const config = loadConfig({
      DATABASE_URL: scratch.url,
      LOG_LEVEL: 'warn',
      PORT: String(await freePort()),
    });
    const service = await startService({ config, log: createLogger(config), mode: 'http', listen: true });
    try {
      const seeded = performance.now();
      await seed(service.db.query.bind(service.db));
      console.log(
        `seeded ${OUTBOX.toLocaleString()} outbox rows, ${SUBSCRIBERS.toLocaleString()} subscribers, ${CREDITS.toLocaleString()} credit requests in ${round((performance.now() - seeded) / 1000, 1)} s`,
      );
      const base = service.url as string;
      const first = await fetch(`${base}/console`, { headers: { accept: 'text/html' } });
      const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const home = await first.text();
      const paths = [...home.matchAll(/<li><a href="(\/console[^"]*)"/g)].map((m) => m[1] as string);
      const [message] = await service.db.query<{ id: string }>(
        `select id from outbox_messages where channel = 'email' order by created_at desc limit 1`,
      );
      const pages = [
        ...new Set([
          ...paths,
          `/console/outbox/${message?.id}`,
          '/console/outbox?status=failed',
          '/console/sandbox?tab=email',
        ]),
      ];
      const rows: Array<{ page: string; median: number; p95: number }> = [];
      for (const page of ['/health/live', ...pages]) {
        for (let i = 0; i < 3; i++) await time(`${base}${page}`, cookie);
        const samples: number[] = [];
        for (let i = 0; i < REQUESTS; i++) samples.push(await time(`${base}${page}`, cookie));
        rows.push({ page, median: round(median(samples), 1), p95: round(p95(samples), 1) });
      }
      const live = rows[0] as { median: number; p95: number };
      console.log(
        `\n${REQUESTS} requests per page after 3 warm-up; loopback round trip, ms (goal p95 <= 50)`,
      );
      console.log(
        'page'.padEnd(44),
        'median'.padStart(8),
        'p95'.padStart(8),
        'x live p95'.padStart(11),
        ' goal',
      );
      for (const row of rows)
        console.log(
          row.page.padEnd(44),
          String(row.median).padStart(8),
          String(row.p95).padStart(8),
          String(round(row.p95 / Math.max(live.p95, 0.1), 1)).padStart(11),
          row.page === '/health/live' ? '' : row.p95 <= 50 ? ' met' : ' NOT met',
        );
    } finally {
      await service.stop();
    }
  } finally {
    await dropWhenIdle(scratch);
  }
}

/** Rows written the way the service writes them, in bulk (generate_series) so seeding takes seconds. */
async function seed(query: (text: string, params?: unknown[]) => Promise<unknown>) {
  await query(
    `insert into outbox_messages (dedupe_key, channel, recipient, content, status, attempts, driver, provider_id,
                                  error_code, last_error, created_at, updated_at, sent_at, delivered_at)
     select 'bench:' || g || ':' || ch, ch,
            case ch when 'sms' then '+1415555' || lpad((g % 10000)::text, 4, '0') when 'email' then 'ap' || (g % 500) || '@example.com' else 'C0SANDBOX1' end,
            case ch when 'sms' then jsonb_build_object('body', 'Daily note ' || g)
                    when 'email' then jsonb_build_object('subject', 'Invoice ' || g || ' needs review', 'text', 'Invoice ' || g, 'html', '<p>Invoice ' || g || '</p>')
                    else jsonb_build_object('text', 'Approved, $' || g || '.00') end,
            st, 1, 'sandbox', 'sandbox-' || g,
            case when st = 'failed' then '21211' end, case when st = 'failed' then 'The To number is not a valid phone number' end,
            at, at, case when st <> 'failed' then at end, case when st = 'delivered' then at end
       from (select g, (array['sms','sms','email','slack'])[1 + g % 4] as ch,
                    case when g % 50 = 0 then 'failed' when g % 7 = 0 then 'sent' else 'delivered' end as st,
                    now() - (g * interval '30 days' / $1) as at
               from generate_series(1, $1::int) g) s`,
    [OUTBOX],
  );
  await query(
    `insert into sandbox_messages (channel, direction, sender, recipient, content, outbox_id, created_at)
     select channel, 'outbound', '+15005550006', recipient, content, id, created_at from outbox_messages where status <> 'failed'`,
  );
  await query(
    `insert into daily_subscribers (phone, name, time_zone, window_start, window_end, paused)
     select '+1646' || lpad(g::text, 7, '0'), 'Subscriber ' || g,
            (array['America/New_York','America/Chicago','America/Los_Angeles','Europe/London'])[1 + g % 4], 720, 1020, g % 20 = 0
       from generate_series(1, $1::int) g`,
    [SUBSCRIBERS],
  );
  await query(
    `insert into credit_requests (message_key, channel, ts, text, intake, status, amount_cents, summary, created_at, updated_at, finished_at)
     select 'C0CREDITS1:' || g, 'C0CREDITS1', (1700000000 + g) || '.000100', 'Credit request ' || g, 'poll',
            case when g % 40 = 0 then 'failed' else 'done' end, case when g % 40 = 0 then null else 10000 + g * 37 end,
            jsonb_build_object('product', 'psms'), now() - (g * interval '90 days' / $1), now() - (g * interval '90 days' / $1), now() - (g * interval '90 days' / $1)
       from generate_series(1, $1::int) g`,
    [CREDITS],
  );
  await query('analyze');
}

await main();
