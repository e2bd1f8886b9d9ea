// Data access for subscribers and their history. Functions take a db or a transaction.
import { and, asc, desc, eq, getTableColumns, gt, lt, sql } from 'drizzle-orm';
import { outboxMessages } from '../../platform/channels/schema.ts';
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

export async function listSubscribers(db: DbOrTx, options: { after?: string; limit: number }) {
  return db
    .select()
    .from(dailySubscribers)
    .where(options.after ? gt(dailySubscribers.id, options.after) : undefined)
    .orderBy(asc(dailySubscribers.id))
    .limit(options.limit);
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

/** Forgets a subscriber and their history; the suppression list (platform) keeps any opt-out. */
export async function deleteSubscriber(db: DbOrTx, id: string): Promise<SubscriberRow | undefined> {
  const [row] = await db.delete(dailySubscribers).where(eq(dailySubscribers.id, id)).returning();
  return row;
}

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
      status: outboxMessages.status,
      outboxId: outboxMessages.id,
      sentAt: outboxMessages.sentAt,
      deliveredAt: outboxMessages.deliveredAt,
      errorCode: outboxMessages.errorCode,
      error: outboxMessages.lastError,
    })
    .from(dailyMessages)
    .leftJoin(
      outboxMessages,
      eq(
        outboxMessages.dedupeKey,
        sql`'daily:' || ${dailyMessages.subscriberId}::text || ':' || ${dailyMessages.localDate}::text`,
      ),
    )
    .where(
      and(
        eq(dailyMessages.subscriberId, subscriberId),
        options.before ? lt(dailyMessages.localDate, options.before) : undefined,
      ),
    )
    .orderBy(desc(dailyMessages.localDate))
    .limit(options.limit);
}

/** The bodies a subscriber was sent on or after `since` (a local date), for the near-repeat check. */
export async function recentBodies(db: DbOrTx, subscriberId: string, since: string): Promise<string[]> {
  const rows = await db
    .select({ body: dailyMessages.body })
    .from(dailyMessages)
    .where(and(eq(dailyMessages.subscriberId, subscriberId), sql`${dailyMessages.localDate} >= ${since}`));
  return rows.map((r) => r.body);
}
