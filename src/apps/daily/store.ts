// Data access for subscribers and their history. Functions take a db or a transaction.

import { outboxMessages, smsSuppressions } from '../../platform/channels/schema.ts';
import type { Orm } from '../../platform/db/database.ts';
import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  gt,
  gte,
  inArray,
  lt,
  or,
  sql,
} from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import { dailyMessages, dailySubscribers, type SubscriberRow } from './schema.ts';
import type { SubscriberValues } from './subscriber-input.ts';

export const dedupeKeyFor = (subscriberId: string, localDate: string) => `daily:${subscriberId}:${localDate}`;

/** Inserts subscribers, merging a number already subscribed (its fields are replaced by the new ones). */
export async function upsertSubscribers(
  db: DbOrTx,
  list: SubscriberValues[],
): Promise<Array<{ row: SubscriberRow; created: boolean }>> {
  const out: Array<{ row: SubscriberRow; created: boolean }> = [];
  for (let i = 0; i < list.length; i += 1000) {
    // The last mention of a number in one batch wins (a CSV with a number twice is merged, not refused).
    const chunk = [...new Map(list.slice(i, i + 1000).map((v) => [v.phone, v])).values()];
    const rows = await db
      .insert(dailySubscribers)
      .values(chunk)
      .onConflictDoUpdate({
        target: dailySubscribers.phone,
        set: {
          timeZone: sql`excluded.time_zone`,
          windowStart: sql`excluded.window_start`,
          windowEnd: sql`excluded.window_end`,
          name: sql`coalesce(excluded.name, ${dailySubscribers.name})`,
          language: sql`excluded.language`,
          updatedAt: sql`now()`,
        },
      })
      .returning({ ...getTableColumns(dailySubscribers), inserted: sql<boolean>`(xmax = 0)` });
    for (const { inserted, ...row } of rows) out.push({ row, created: Boolean(inserted) });
  }
  return out;
}

export async function getSubscriber(db: DbOrTx, id: string): Promise<SubscriberRow | undefined> {
  const [row] = await db.select().from(dailySubscribers).where(eq(dailySubscribers.id, id));
  return row;
}

export async function getSubscriberByPhone(db: DbOrTx, phone: string): Promise<SubscriberRow | undefined> {
  const [row] = await db.select().from(dailySubscribers).where(eq(dailySubscribers.phone, phone));
  return row;
}

export interface SubscriberFilter {
  /** The last id of the previous page. */
  after?: string;
  limit: number;
  /** Part of the phone number or the name (any case). */
  search?: string;
  timeZone?: string;
  window?: { windowStart: number; windowEnd: number };
  /** Paused by the API, or by PAUSE <days> through today or later. */
  paused?: boolean;
  /** On the platform's suppression list (texted STOP, or the carrier said so). */
  optedOut?: boolean;
  ids?: string[];
}

/** A subscriber with their opt-out from the suppression list (the list every app honours). */
export type ListedSubscriber = SubscriberRow & { optedOutAt: Date | null; optOutReason: string | null };

/** Subscribers by id, with their opt-out state: the API's list and one, and the console's. */
export async function listSubscribers(db: DbOrTx, filter: SubscriberFilter): Promise<ListedSubscriber[]> {
  const s = dailySubscribers;
  const pausedNow = or(eq(s.paused, true), gte(s.pausedUntil, sql`current_date`));
  const pattern = filter.search ? `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return db
    .select({
      ...getTableColumns(s),
      optedOutAt: smsSuppressions.createdAt,
      optOutReason: smsSuppressions.reason,
    })
    .from(s)
    .leftJoin(smsSuppressions, eq(smsSuppressions.phone, s.phone))
    .where(
      and(
        filter.after ? gt(s.id, filter.after) : undefined,
        filter.ids ? inArray(s.id, filter.ids) : undefined,
        pattern ? sql`(${s.phone} ilike ${pattern} or ${s.name} ilike ${pattern})` : undefined,
        filter.timeZone ? eq(s.timeZone, filter.timeZone) : undefined,
        filter.window
          ? and(eq(s.windowStart, filter.window.windowStart), eq(s.windowEnd, filter.window.windowEnd))
          : undefined,
        filter.paused === true ? pausedNow : undefined,
        filter.paused === false ? sql`not (${pausedNow})` : undefined,
        filter.optedOut === true ? sql`${smsSuppressions.phone} is not null` : undefined,
        filter.optedOut === false ? sql`${smsSuppressions.phone} is null` : undefined,
      ),
    )
    .orderBy(asc(s.id))
    .limit(filter.limit);
}

/** One subscriber with their opt-out state. */
export async function getListedSubscriber(db: DbOrTx, id: string): Promise<ListedSubscriber | undefined> {
  const [row] = await listSubscribers(db, { ids: [id], limit: 1 });
  return row;
}

export async function updateSubscriber(
  db: DbOrTx,
  id: string,
  set: Partial<typeof dailySubscribers.$inferInsert>,
): Promise<SubscriberRow | undefined> {
  const [row] = await db
    .update(dailySubscribers)
    .set({ ...set, updatedAt: sql`now()` })
    .where(eq(dailySubscribers.id, id))
    .returning();
  return row;
}

/**
 * Planning batches hold this lock shared while they write history rows; deleting a subscriber holds
 * it exclusively. History has no foreign key (its per-row check was the plan's biggest cost), so this
 * is what keeps a batch that read a subscriber just before their deletion from leaving history behind:
 * the batch either commits first (and the delete removes its row) or starts after (and finds no one).
 */
const HISTORY_LOCK = 0x6461696c79; // "daily"
export const lockHistoryShared = (tx: DbOrTx) =>
  tx.execute(sql`select pg_advisory_xact_lock_shared(${HISTORY_LOCK})`);

/** Forgets a subscriber and their history; the suppression list (platform) keeps any opt-out. */
export async function deleteSubscriber(db: Orm, id: string): Promise<SubscriberRow | undefined> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${HISTORY_LOCK})`);
    await tx.delete(dailyMessages).where(eq(dailyMessages.subscriberId, id));
    const [row] = await tx.delete(dailySubscribers).where(eq(dailySubscribers.id, id)).returning();
    return row;
  });
}

/** A history row's outbox row (dedupeKeyFor, in SQL). */
const outboxOfMessage = eq(
  outboxMessages.dedupeKey,
  sql`'daily:' || ${dailyMessages.subscriberId}::text || ':' || ${dailyMessages.localDate}::text`,
);

/** A subscriber's messages, newest first, with the delivery status from the outbox. */
export async function messageHistory(
  db: DbOrTx,
  subscriberId: string,
  options: { limit: number; before?: string },
) {
  return db
    .select({
      localDate: dailyMessages.localDate,
      sendAt: dailyMessages.sendAt,
      body: dailyMessages.body,
      source: dailyMessages.source,
      queuedAt: dailyMessages.queuedAt,
      status: outboxMessages.status,
      outboxId: outboxMessages.id,
      sentAt: outboxMessages.sentAt,
      deliveredAt: outboxMessages.deliveredAt,
      errorCode: outboxMessages.errorCode,
      error: outboxMessages.lastError,
    })
    .from(dailyMessages)
    .leftJoin(outboxMessages, outboxOfMessage)
    .where(
      and(
        eq(dailyMessages.subscriberId, subscriberId),
        options.before ? lt(dailyMessages.localDate, options.before) : undefined,
      ),
    )
    .orderBy(desc(dailyMessages.localDate))
    .limit(options.limit);
}

const DAY_MS = 86_400_000;
const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The messages planned to be sent from `from` to `until`, per UTC hour of their send time
 * (`2026-12-01T14`) and
 * status: the outbox's, `planned` while waiting for release, `removed` once its outbox row is gone.
 */
export async function planByHour(
  db: DbOrTx,
  from: Date,
  until: Date,
): Promise<Array<{ hour: string; status: string; count: number }>> {
  const rows = await db
    .select({
      hour: sql<string>`to_char(${dailyMessages.sendAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24')`,
      status: sql<string>`coalesce(${outboxMessages.status}, case when ${dailyMessages.queuedAt} is null then 'planned' else 'removed' end)`,
      count: sql<number>`count(*)::int`,
    })
    .from(dailyMessages)
    .leftJoin(outboxMessages, outboxOfMessage)
    .where(
      and(
        gte(dailyMessages.sendAt, from),
        lt(dailyMessages.sendAt, until),
        // The same rows, bounded by local date (no zone is more than 14 hours from UTC) so that
        // its index answers instead of a scan of the whole history.
        gte(dailyMessages.localDate, utcDate(from.getTime() - DAY_MS)),
        lt(dailyMessages.localDate, utcDate(until.getTime() + 2 * DAY_MS)),
      ),
    )
    .groupBy(sql`1`, sql`2`);
  return rows.map((r) => ({ hour: r.hour, status: r.status, count: Number(r.count) }));
}

/** The bodies a subscriber was sent on or after `since` (a local date), for the near-repeat check. */
export async function recentBodies(db: DbOrTx, subscriberId: string, since: string): Promise<string[]> {
  const rows = await db
    .select({ body: dailyMessages.body })
    .from(dailyMessages)
    .where(and(eq(dailyMessages.subscriberId, subscriberId), sql`${dailyMessages.localDate} >= ${since}`));
  return rows.map((r) => r.body);
}

export interface DueMessage {
  subscriberId: string;
  localDate: string;
  sendAt: Date;
  body: string;
  /** Null when the subscriber is gone. */
  phone: string | null;
  timeZone: string | null;
}

/**
 * Marks up to `limit` waiting rows due before `until` as queued and returns them, earliest first.
 * SKIP LOCKED: concurrent releases take disjoint rows. The caller enqueues them in the same transaction.
 */
export async function claimDue(tx: DbOrTx, until: Date, limit: number): Promise<DueMessage[]> {
  const result = await tx.execute(sql`
    with due as (
      select subscriber_id, local_date from daily_messages
      where queued_at is null and send_at <= ${until.toISOString()}::timestamptz
      order by send_at
      limit ${limit}
      for update skip locked)
    update daily_messages as m set queued_at = now()
    from due left join daily_subscribers as s on s.id = due.subscriber_id
    where m.subscriber_id = due.subscriber_id and m.local_date = due.local_date
    returning m.subscriber_id, m.local_date::text as local_date,
      (extract(epoch from m.send_at) * 1000)::float8 as send_ms, m.body, s.phone, s.time_zone`);
  const rows = (
    result as unknown as {
      rows: Array<{
        subscriber_id: string;
        local_date: string;
        send_ms: number;
        body: string;
        phone: string | null;
        time_zone: string | null;
      }>;
    }
  ).rows;
  return rows.map((r) => ({
    subscriberId: r.subscriber_id,
    localDate: r.local_date,
    sendAt: new Date(Number(r.send_ms)),
    body: r.body,
    phone: r.phone,
    timeZone: r.time_zone,
  }));
}
