// The daily plan: every active subscriber gets one send time, uniformly random inside their local
// window on their next local date, and one history row (the text, the send time) that the release
// job turns into an SMS with the dedupe key daily:<id>:<local date> a few minutes before that time.
// Set-based: subscribers are read per (zone, window, language) group in keyset batches, and each
// batch is one multi-row insert. Re-running it (restarts, extra runs, several workers) adds nothing
// for a subscriber already planned for that date: the history row's key (subscriber, date) says so.

import type { Config } from '../../config.ts';
import type { LanguageModels } from '../../platform/ai/client.ts';
import type { Channels } from '../../platform/channels/channels.ts';
import type { Database } from '../../platform/db/database.ts';
import { and, count, eq, gte, sql } from '../../platform/db/drizzle.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import type { Logger } from '../../platform/log.ts';
import {
  audienceContent,
  type ChosenContent,
  type ContentRules,
  generateMessage,
  horizonStart,
  offlineMessage,
  subscriberSequence,
} from './content.ts';
import type { DailyMetrics } from './metrics.ts';
import { releaseDue } from './release.ts';
import { dailyMessages, dailySubscribers } from './schema.ts';
import { nextWindow, pickSendTime, type WindowInstants } from './send-window.ts';
import { fingerprint } from './similarity.ts';
import { lockHistoryShared, recentBodies } from './store.ts';

export interface PlanDeps {
  db: Database;
  /** For the messages already due: released (queued in the outbox) as soon as the plan is written. */
  channels: Pick<Channels, 'enqueueMany'>;
  ai: LanguageModels;
  config: Pick<Config, 'daily'>;
  log: Logger;
  metrics: DailyMetrics;
  now?: () => Date;
  random?: () => number;
  batchSize?: number;
  onProgress?: (planned: number) => void;
}

export interface PlanResult {
  planned: number;
  /** Subscribers left unplanned because DAILY_QUOTA was reached for their date. */
  overQuota: number;
  /** Subscribers whose audience text repeated their own history: they got a personal one. */
  personalised: number;
  /** Planned messages due within the release horizon, queued in the outbox at the end of the run. */
  released: number;
  groups: number;
  contents: Array<{ localDate: string; audience: string; source: string; reason: string | null }>;
  durationMs: number;
}

export async function planDaily(deps: PlanDeps): Promise<PlanResult> {
  const started = performance.now();
  const now = deps.now?.() ?? new Date();
  const random = deps.random ?? Math.random;
  const batchSize = deps.batchSize ?? 5000;
  const { daily } = deps.config;
  const rules: ContentRules = {
    maxSegments: daily.maxSegments,
    repeatHorizonDays: daily.repeatHorizonDays,
    prompt: daily.prompt,
  };
  const result: PlanResult = {
    planned: 0,
    overQuota: 0,
    personalised: 0,
    released: 0,
    groups: 0,
    contents: [],
    durationMs: 0,
  };

  const groups = await deps.db.orm
    .select({
      timeZone: dailySubscribers.timeZone,
      windowStart: dailySubscribers.windowStart,
      windowEnd: dailySubscribers.windowEnd,
      language: dailySubscribers.language,
    })
    .from(dailySubscribers)
    .where(eq(dailySubscribers.paused, false))
    .groupBy(
      dailySubscribers.timeZone,
      dailySubscribers.windowStart,
      dailySubscribers.windowEnd,
      dailySubscribers.language,
    );
  result.groups = groups.length;

  const contents = new Map<string, Promise<ChosenContent>>();
  const contentFor = (localDate: string, audience: string) => {
    const key = `${localDate}|${audience}`;
    if (!contents.has(key)) {
      const chosen = audienceContent(deps.db.orm, deps.ai, rules, localDate, audience);
      contents.set(key, chosen);
      void chosen.then(
        (c) => result.contents.push({ localDate, audience, source: c.source, reason: c.reason }),
        () => {},
      );
    }
    return contents.get(key) as Promise<ChosenContent>;
  };
  // Who already had an audience's text of the day within the horizon: looked up once per text by
  // its fingerprint (usually nobody: the text is new to its audience), not per batch.
  const repeats = new Map<string, Promise<Set<string>>>();
  const repeatedFor: RepeatedFor = (localDate, audience, shared) => {
    const key = `${localDate}|${audience}`;
    if (!repeats.has(key))
      repeats.set(
        key,
        deps.db.orm
          .selectDistinct({ id: dailyMessages.subscriberId })
          .from(dailyMessages)
          .where(
            and(
              eq(dailyMessages.fingerprint, fingerprint(shared.body)),
              gte(dailyMessages.localDate, horizonStart(localDate, rules.repeatHorizonDays)),
            ),
          )
          .then((rows) => new Set(rows.map((r) => r.id))),
      );
    return repeats.get(key) as Promise<Set<string>>;
  };
  // Reserved synchronously before each batch is written, so the two lanes never overshoot it.
  const quotaLeft = new Map<string, number>();
  const quotaLoaded = new Map<string, Promise<void>>();
  const loadQuota = (localDate: string) => {
    if (!quotaLoaded.has(localDate))
      quotaLoaded.set(
        localDate,
        (async () => {
          const [row] = await deps.db.orm
            .select({ n: count() })
            .from(dailyMessages)
            .where(eq(dailyMessages.localDate, localDate));
          quotaLeft.set(localDate, Math.max(0, daily.quota - Number(row?.n ?? 0)));
        })(),
      );
    return quotaLoaded.get(localDate) as Promise<void>;
  };

  // Each group's window and local date, computed once; the batches below mix groups.
  const plans = new Map<string, GroupPlan>();
  for (const group of groups) {
    const window = nextWindow(now, group.timeZone, group.windowStart, group.windowEnd);
    plans.set(groupKey(group), { group, window });
  }
  await Promise.all([...new Set([...plans.values()].map((p) => p.window.localDate))].map(loadQuota));
  const groupsDocument = JSON.stringify(
    [...plans.values()].map(({ group, window }) => ({
      time_zone: group.timeZone,
      window_start: group.windowStart,
      window_end: group.windowEnd,
      language: group.language,
      local_date: window.localDate,
    })),
  );

  // Subscribers are taken in id order, all groups together: each batch's history rows then land
  // next to each other in the history's key, instead of all over it (a group's ids span the whole
  // key space). The id space is split in two lanes on PostgreSQL, one batch being prepared here
  // while the other is written; PGlite has one connection, so there it is one lane.
  const planLane = async (from: string | null, below: string | null) => {
    let after = from;
    for (;;) {
      const { scanned, last, eligible: batch } = await scan(deps.db, groupsDocument, after, below, batchSize);
      if (scanned === 0) break;
      after = last;
      const take: Candidate[] = [];
      for (const subscriber of batch) {
        const left = quotaLeft.get(subscriber.localDate) ?? 0;
        if (left <= 0) {
          result.overQuota += 1;
          continue;
        }
        quotaLeft.set(subscriber.localDate, left - 1);
        take.push(subscriber);
      }
      if (take.length) {
        const written = await planBatch(deps, rules, take, plans, now, random, contentFor, repeatedFor);
        result.planned += written.planned;
        result.personalised += written.personalised;
        // Rows another planner wrote first were not ours to count.
        for (const [localDate, unused] of written.notWritten)
          quotaLeft.set(localDate, (quotaLeft.get(localDate) ?? 0) + unused);
        deps.onProgress?.(result.planned);
      }
      if (scanned < batchSize) break;
    }
  };
  // Below 8000... and above 7fff...: together every id, each in one lane.
  await Promise.all(
    deps.db.kind === 'postgres'
      ? [
          planLane(null, '80000000-0000-0000-0000-000000000000'),
          planLane('7fffffff-ffff-ffff-ffff-ffffffffffff', null),
        ]
      : [planLane(null, null)],
  );
  result.released = await releaseDue({
    db: deps.db,
    channels: deps.channels,
    log: deps.log,
    now: () => now,
  });
  result.durationMs = Math.round(performance.now() - started);
  deps.metrics.planned.inc({ outcome: 'planned' }, result.planned);
  deps.metrics.planned.inc({ outcome: 'over_quota' }, result.overQuota);
  deps.metrics.planned.inc({ outcome: 'personalised' }, result.personalised);
  deps.metrics.planDuration.observe(result.durationMs / 1000);
  if (result.overQuota)
    deps.log.warn(
      { overQuota: result.overQuota, quota: daily.quota },
      'DAILY_QUOTA reached: some subscribers skipped',
    );
  deps.log.info({ planned: result.planned, groups: result.groups, ms: result.durationMs }, 'daily plan done');
  return result;
}

interface Group {
  timeZone: string;
  windowStart: number;
  windowEnd: number;
  language: string;
}

type RepeatedFor = (localDate: string, audience: string, shared: ChosenContent) => Promise<Set<string>>;

interface GroupPlan {
  group: Group;
  window: WindowInstants;
}

const groupKey = (g: Group) => `${g.timeZone}|${g.windowStart}|${g.windowEnd}|${g.language}`;

interface Candidate extends Group {
  id: string;
  localDate: string;
}

/**
 * The next `limit` subscribers by id after `after` (and below `below`), each with whether it is to be
 * planned: active, in one of the planned groups, not paused on its date, not opted out, not yet
 * planned for its date. Scanning a fixed slice of the id range (rather than asking for `limit`
 * eligible ones) keeps the plan a short primary-key range scan with a few index probes per row,
 * whatever the statistics say.
 */
async function scan(
  db: Database,
  groupsDocument: string,
  after: string | null,
  below: string | null,
  limit: number,
): Promise<{ scanned: number; last: string | null; eligible: Candidate[] }> {
  const result = await db.orm.execute(sql`
    with scanned as materialized (
      select s.id, s.phone, s.time_zone, s.window_start, s.window_end, s.language, s.paused, s.paused_until
      from daily_subscribers as s
      where true
        ${after ? sql`and s.id > ${after}::uuid` : sql``}
        ${below ? sql`and s.id < ${below}::uuid` : sql``}
      order by s.id
      limit ${limit})
    select s.id, s.time_zone, s.window_start, s.window_end, s.language, g.local_date::text as local_date,
      coalesce(
        not s.paused
        and (s.paused_until is null or s.paused_until < g.local_date)
        and not exists (
          select 1 from daily_messages as m where m.subscriber_id = s.id and m.local_date = g.local_date)
        and not exists (select 1 from sms_suppressions as x where x.phone = s.phone),
        false) as eligible
    from scanned as s
    left join jsonb_to_recordset(${groupsDocument}::jsonb) as g(
      time_zone text, window_start int, window_end int, language text, local_date date)
      on g.time_zone = s.time_zone and g.window_start = s.window_start
        and g.window_end = s.window_end and g.language = s.language
    order by s.id`);
  const rows = (
    result as unknown as {
      rows: Array<{
        id: string;
        time_zone: string;
        window_start: number;
        window_end: number;
        language: string;
        local_date: string | null;
        eligible: boolean;
      }>;
    }
  ).rows;
  const eligible: Candidate[] = [];
  for (const r of rows) {
    if (!r.eligible || r.local_date === null) continue;
    eligible.push({
      id: r.id,
      timeZone: r.time_zone,
      windowStart: Number(r.window_start),
      windowEnd: Number(r.window_end),
      language: r.language,
      localDate: r.local_date,
    });
  }
  return { scanned: rows.length, last: rows.at(-1)?.id ?? null, eligible };
}

/** Chooses each subscriber's text and send time, then writes the batch's history rows in one statement. */
async function planBatch(
  deps: PlanDeps,
  rules: ContentRules,
  batch: Candidate[],
  plans: Map<string, GroupPlan>,
  now: Date,
  random: () => number,
  contentFor: (localDate: string, audience: string) => Promise<ChosenContent>,
  repeatedFor: RepeatedFor,
): Promise<{ planned: number; personalised: number; notWritten: Map<string, number> }> {
  const bodies = new Map<string, ChosenContent>();
  let personalised = 0;
  // Per audience and date (one text each): usually one or two in a batch.
  const audiences = new Map<string, Candidate[]>();
  for (const subscriber of batch) {
    const key = `${subscriber.localDate}|${subscriber.language}`;
    const members = audiences.get(key);
    if (members) members.push(subscriber);
    else audiences.set(key, [subscriber]);
  }
  for (const members of audiences.values()) {
    const { localDate, language } = members[0] as Candidate;
    const since = horizonStart(localDate, rules.repeatHorizonDays);
    if (deps.config.daily.contentMode === 'subscriber') {
      for (const subscriber of members) {
        const previous = await recentBodies(deps.db.orm, subscriber.id, since);
        bodies.set(
          subscriber.id,
          await generateMessage(deps.ai, rules, {
            language,
            localDate,
            previous,
            offline: subscriberSequence(subscriber.id, localDate),
          }),
        );
      }
      continue;
    }
    const shared = await contentFor(localDate, language);
    const repeated = await repeatedFor(localDate, language, shared);
    for (const subscriber of members) {
      if (!repeated.has(subscriber.id)) {
        bodies.set(subscriber.id, shared);
        continue;
      }
      const previous = await recentBodies(deps.db.orm, subscriber.id, since);
      bodies.set(
        subscriber.id,
        offlineMessage(
          rules,
          previous,
          subscriberSequence(subscriber.id, localDate),
          'audience text repeated',
        ),
      );
      personalised += 1;
    }
  }

  // Most of a batch shares one text: its fingerprint is computed once, not per subscriber.
  const prints = new Map<string, string>();
  const printOf = (body: string) => {
    const known = prints.get(body);
    if (known !== undefined) return known;
    const print = fingerprint(body);
    prints.set(body, print);
    return print;
  };
  // One statement from a JSON document: no per-value parameters, whatever the batch size.
  const document = JSON.stringify(
    batch.map((subscriber) => {
      const content = bodies.get(subscriber.id) as ChosenContent;
      const { window } = plans.get(groupKey(subscriber)) as GroupPlan;
      return {
        subscriber_id: subscriber.id,
        local_date: subscriber.localDate,
        send_at: pickSendTime(window, now, random).toISOString(),
        body: content.body,
        fingerprint: printOf(content.body),
        source: content.source,
      };
    }),
  );
  const written = await withTransaction(deps.db, async (tx) => {
    await lockHistoryShared(tx);
    // The history row is the claim: a row another planner inserted first is left alone. Only
    // subscribers who still exist are planned (see lockHistoryShared). The outbox gets the message
    // from the release job, a few minutes before its send time.
    const result = await tx.execute(sql`
      insert into daily_messages (subscriber_id, local_date, send_at, body, fingerprint, source)
      select x.subscriber_id, x.local_date, x.send_at, x.body, x.fingerprint, x.source
      from jsonb_to_recordset(${document}::jsonb) as x(
        subscriber_id uuid, local_date date, send_at timestamptz, body text, fingerprint text, source text)
      where exists (select 1 from daily_subscribers s where s.id = x.subscriber_id)
      on conflict (subscriber_id, local_date) do nothing
      returning local_date::text as local_date`);
    return (result as unknown as { rows: Array<{ local_date: string }> }).rows;
  });
  const notWritten = new Map<string, number>();
  for (const subscriber of batch)
    notWritten.set(subscriber.localDate, (notWritten.get(subscriber.localDate) ?? 0) + 1);
  for (const row of written) notWritten.set(row.local_date, (notWritten.get(row.local_date) ?? 0) - 1);
  return { planned: written.length, personalised, notWritten };
}
