// Daily planning at scale: N subscribers (default 1,000,000) spread over 40 time zones on
// PostgreSQL; one planning run gives each a send time in their local window and writes their
// history row (text and send time), which the release job queues in the outbox a few minutes before
// that time. Printed: seconds to plan, rows/s and the peak RSS of this process. Target from the
// issue: under 60 s for 1,000,000 on this 2-core machine. Then the release: how fast planned rows
// become outbox messages and delivery jobs, against the most the plan needs in any one minute.
//
//   node bench/daily.ts [--subscribers 1000000] [--batch-size 5000] [--release 20000]
//
// Subscribers are written straight into their table with one INSERT ... SELECT (loading them is not
// what is measured). The service runs in this process in mode `http`: it queues but delivers
// nothing, so the figure is planning alone. The language model is the offline library (one text per
// audience a day either way, so a model would add one call, not a per-subscriber cost).
import { parseArgs } from 'node:util';
import pg from 'pg';
import { dailyApp } from '../src/apps/daily/app.ts';
import { createDailyMetrics } from '../src/apps/daily/metrics.ts';
import { planDaily } from '../src/apps/daily/planning.ts';
import { releaseDue } from '../src/apps/daily/release.ts';
import { loadConfig } from '../src/config.ts';
import { startService } from '../src/main.ts';
import { createLanguageModels } from '../src/platform/ai/client.ts';
import { createLogger } from '../src/platform/log.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { createScratchDatabase, dropWhenIdle, positiveIntArg, postgresReachable, round } from './support.ts';

const { values } = parseArgs({
  options: { subscribers: { type: 'string' }, 'batch-size': { type: 'string' }, release: { type: 'string' } },
});
const SUBSCRIBERS = positiveIntArg(values.subscribers, 1_000_000, 'subscribers');
const BATCH = positiveIntArg(values['batch-size'], 5000, 'batch-size');
const RELEASE = positiveIntArg(values.release, 20_000, 'release');
const TARGET_SECONDS = 60;
const ZONES = [
  'Pacific/Honolulu',
  'America/Anchorage',
  'America/Los_Angeles',
  'America/Denver',
  'America/Phoenix',
  'America/Chicago',
  'America/New_York',
  'America/Halifax',
  'America/St_Johns',
  'America/Sao_Paulo',
  'America/Argentina/Buenos_Aires',
  'America/Mexico_City',
  'America/Bogota',
  'Atlantic/Azores',
  'UTC',
  'Europe/London',
  'Europe/Dublin',
  'Europe/Paris',
  'Europe/Berlin',
  'Europe/Athens',
  'Europe/Helsinki',
  'Europe/Moscow',
  'Africa/Cairo',
  'Africa/Johannesburg',
  'Africa/Nairobi',
  'Asia/Dubai',
  'Asia/Tehran',
  'Asia/Karachi',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Dhaka',
  'Asia/Bangkok',
  'Asia/Singapore',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Adelaide',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Pacific/Auckland',
  'Pacific/Chatham',
];

if (!(await postgresReachable())) {
  console.log('daily: PostgreSQL is not reachable at BENCH_DATABASE_URL; nothing measured');
  process.exit(0);
}
const scratch = await createScratchDatabase();
const env = {
  DATABASE_URL: scratch.url,
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json' as const,
  DAILY_QUOTA: String(SUBSCRIBERS),
};
const config = loadConfig(env);
const log = createLogger(config);
const service = await startService({ config, log, mode: 'http', apps: [dailyApp], listen: false });
try {
  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  const loadStarted = performance.now();
  await client.query(
    `insert into daily_subscribers (phone, time_zone, window_start, window_end)
     select '+1212' || (2000000 + i)::text, ($2::text[])[1 + i % $3], 720, 1020
     from generate_series(0, $1 - 1) as i`,
    [SUBSCRIBERS, ZONES, ZONES.length],
  );
  await client.query('analyze daily_subscribers');
  console.log(
    `daily: loaded ${SUBSCRIBERS.toLocaleString('en-US')} subscribers in ${round((performance.now() - loadStarted) / 1000, 1)} s`,
  );

  const metrics = createMetrics({ processMetrics: false });
  const started = performance.now();
  let last = 0;
  const result = await planDaily({
    db: service.db,
    channels: service.channels,
    ai: createLanguageModels({ config: config.ai, db: service.db, metrics, log }),
    config,
    log,
    metrics: createDailyMetrics(metrics),
    batchSize: BATCH,
    onProgress: (planned) => {
      if (planned - last >= 100_000) {
        last = planned;
        console.log(
          `  ${planned.toLocaleString('en-US')} planned after ${round((performance.now() - started) / 1000, 1)} s`,
        );
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const counts = async () =>
    (
      await client.query<{ messages: number; waiting: number; outbox: number; jobs: number }>(
        `select (select count(*)::int from daily_messages) as messages,
                (select count(*)::int from daily_messages where queued_at is null) as waiting,
                (select count(*)::int from outbox_messages where dedupe_key like 'daily:%') as outbox,
                (select count(*)::int from pgboss.job where name = 'outbox.deliver') as jobs`,
      )
    ).rows[0];
  const planned = await counts();
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `daily: planned ${result.planned.toLocaleString('en-US')} of ${SUBSCRIBERS.toLocaleString('en-US')} subscribers ` +
      `in ${ZONES.length} zones (${result.groups} groups), batch ${BATCH}: ${round(seconds, 1)} s, ` +
      `${round(result.planned / seconds).toLocaleString('en-US')} subscribers/s, peak RSS ${round(peakRssMb)} MB`,
  );
  console.log(
    `daily: rows written: history ${planned?.messages} (waiting for release ${planned?.waiting}), ` +
      `outbox ${planned?.outbox}, jobs ${planned?.jobs}`,
  );
  console.log(
    SUBSCRIBERS >= 1_000_000
      ? `daily: target 1,000,000 in under ${TARGET_SECONDS} s: ${seconds < TARGET_SECONDS ? 'met' : 'NOT met'}`
      : `daily: the target is for 1,000,000 subscribers (this run: ${SUBSCRIBERS.toLocaleString('en-US')})`,
  );

  // The release, measured on the earliest RELEASE rows (as if the clock had moved past them), against
  // the demand: the most send times the plan put in any one minute (the release runs every minute).
  const { rows: busiest } = await client.query<{ n: number }>(
    `select coalesce(max(n), 0)::int as n from (
       select count(*) as n from daily_messages group by date_trunc('minute', send_at)) as m`,
  );
  const releaseStarted = performance.now();
  const released = await releaseDue({
    db: service.db,
    channels: service.channels,
    log,
    now: () => new Date(Date.now() + 2 * 86_400_000),
    maxRows: RELEASE,
  });
  const releaseSeconds = (performance.now() - releaseStarted) / 1000;
  const after = await counts();
  await client.end();
  const perSecond = released / releaseSeconds;
  const need = (busiest[0]?.n ?? 0) / 60;
  console.log(
    `daily: release: ${released.toLocaleString('en-US')} planned messages queued (outbox row and delivery job each) ` +
      `in ${round(releaseSeconds, 1)} s, ${round(perSecond).toLocaleString('en-US')}/s; the busiest minute of this ` +
      `plan needs ${round(need).toLocaleString('en-US')}/s (${round(perSecond / Math.max(need, 1), 1)}x headroom); ` +
      `outbox ${after?.outbox}, jobs ${after?.jobs}`,
  );
} finally {
  await service.stop();
  await dropWhenIdle(scratch);
}
