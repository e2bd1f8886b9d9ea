// The daily plan: every active subscriber gets one send time, uniformly random inside their local
// window on their next local date, and one history row (the text, the send time) that the release
// job turns into an SMS with the dedupe key daily:<id>:<local date> a few minutes before that time.
// Set-based: subscribers are read per (zone, window, language) group in keyset batches, and each
// batch is one multi-row insert. Re-running it (restarts, extra runs, several workers) adds nothing
// for a subscriber already planned for that date: the history row's key (subscriber, date) says so.
import { and, asc, count, eq, gt, gte, inArray, isNull, lt, notExists, or, sql } from 'drizzle-orm';
import type { Config } from '../../config.ts';
import type { LanguageModels } from '../../platform/ai/client.ts';
import type { Channels } from '../../platform/channels/channels.ts';
import { smsSuppressions } from '../../platform/channels/schema.ts';
import type { Database } from '../../platform/db/database.ts';
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
  const batchSize = deps.batchSize ?? 2000;
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
  // Reserved synchronously before each batch is written, so concurrent groups never overshoot it.
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

  const planGroup = async (group: Group) => {
    const window = nextWindow(now, group.timeZone, group.windowStart, group.windowEnd);
    await loadQuota(window.localDate);
    let after: string | null = null;
    for (;;) {
      const batch = await candidates(deps.db, group, window.localDate, after, batchSize);
      if (batch.length === 0) break;
      after = batch.at(-1)?.id ?? null;
      const left = quotaLeft.get(window.localDate) ?? 0;
      const take = batch.slice(0, left);
      quotaLeft.set(window.localDate, left - take.length);
      result.overQuota += batch.length - take.length;
      if (take.length) {
        const written = await planBatch(deps, rules, take, group, window, now, random, contentFor);
        result.planned += written.planned;
        result.personalised += written.personalised;
        // Rows another planner wrote first were not ours to count.
        quotaLeft.set(
          window.localDate,
          (quotaLeft.get(window.localDate) ?? 0) + take.length - written.planned,
        );
        deps.onProgress?.(result.planned);
      }
      if (batch.length < batchSize) break;
    }
  };
  // Two groups at a time on PostgreSQL: one batch is being prepared here while the other is written.
  // PGlite has one connection, so there it is one at a time.
  const queue = [...groups];
  const lanes = deps.db.kind === 'postgres' ? 2 : 1;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let group = queue.shift(); group; group = queue.shift()) await planGroup(group);
    }),
  );
  result.released = await releaseDue({ db: deps.db, channels: deps.channels, now: () => now });
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

/** Active, not paused on that date, not opted out, not yet planned for that date. */
function candidates(db: Database, group: Group, localDate: string, after: string | null, limit: number) {
  return db.orm
    .select({ id: dailySubscribers.id, phone: dailySubscribers.phone })
    .from(dailySubscribers)
    .where(
      and(
        eq(dailySubscribers.timeZone, group.timeZone),
        eq(dailySubscribers.windowStart, group.windowStart),
        eq(dailySubscribers.windowEnd, group.windowEnd),
        eq(dailySubscribers.language, group.language),
        eq(dailySubscribers.paused, false),
        or(isNull(dailySubscribers.pausedUntil), lt(dailySubscribers.pausedUntil, localDate)),
        after ? gt(dailySubscribers.id, after) : undefined,
        notExists(
          db.orm
            .select({ one: sql`1` })
            .from(dailyMessages)
            .where(
              and(
                eq(dailyMessages.subscriberId, dailySubscribers.id),
                eq(dailyMessages.localDate, localDate),
              ),
            ),
        ),
        notExists(
          db.orm
            .select({ one: sql`1` })
            .from(smsSuppressions)
            .where(eq(smsSuppressions.phone, dailySubscribers.phone)),
        ),
      ),
    )
    .orderBy(asc(dailySubscribers.id))
    .limit(limit);
}

async function planBatch(
  deps: PlanDeps,
  rules: ContentRules,
  batch: Array<{ id: string; phone: string }>,
  group: Group,
  window: WindowInstants,
  now: Date,
  random: () => number,
  contentFor: (localDate: string, audience: string) => Promise<ChosenContent>,
): Promise<{ planned: number; personalised: number }> {
  const { localDate } = window;
  const since = horizonStart(localDate, rules.repeatHorizonDays);
  const bodies = new Map<string, ChosenContent>();
  let personalised = 0;
  if (deps.config.daily.contentMode === 'subscriber') {
    for (const subscriber of batch) {
      const previous = await recentBodies(deps.db.orm, subscriber.id, since);
      bodies.set(
        subscriber.id,
        await generateMessage(deps.ai, rules, {
          language: group.language,
          localDate,
          previous,
          offline: subscriberSequence(subscriber.id, localDate),
        }),
      );
    }
  } else {
    const shared = await contentFor(localDate, group.language);
    const print = fingerprint(shared.body);
    // Those who already had this exact text within the horizon (one lookup for the batch).
    const seen = await deps.db.orm
      .selectDistinct({ id: dailyMessages.subscriberId })
      .from(dailyMessages)
      .where(
        and(
          inArray(
            dailyMessages.subscriberId,
            batch.map((s) => s.id),
          ),
          eq(dailyMessages.fingerprint, print),
          gte(dailyMessages.localDate, since),
        ),
      );
    const repeated = new Set(seen.map((r) => r.id));
    for (const subscriber of batch) {
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
      return {
        subscriber_id: subscriber.id,
        send_at: pickSendTime(window, now, random).toISOString(),
        body: content.body,
        fingerprint: printOf(content.body),
        source: content.source,
      };
    }),
  );
  const planned = await withTransaction(deps.db, async (tx) => {
    await lockHistoryShared(tx);
    // The history row is the claim: a row another planner inserted first is left alone. Only
    // subscribers who still exist are planned (see lockHistoryShared). The outbox gets the message
    // from the release job, a few minutes before its send time.
    const result = await tx.execute(sql`
      insert into daily_messages (subscriber_id, local_date, send_at, body, fingerprint, source)
      select x.subscriber_id, ${localDate}::date, x.send_at, x.body, x.fingerprint, x.source
      from jsonb_to_recordset(${document}::jsonb) as x(
        subscriber_id uuid, send_at timestamptz, body text, fingerprint text, source text)
      where exists (select 1 from daily_subscribers s where s.id = x.subscriber_id)
      on conflict (subscriber_id, local_date) do nothing
      returning 1 as one`);
    return (result as unknown as { rows: unknown[] }).rows.length;
  });
  return { planned, personalised };
}
