// The suppression list every app honours: a number that opted out gets nothing, from any app, until
// it opts back in. Each change is also written to the consent log.
import { and, anyOf, desc, eq, lt, or } from '../db/drizzle.ts';
import type { DbOrTx } from '../db/transaction.ts';
import { smsConsentEvents, smsSuppressions } from './schema.ts';

/** What an outbox row says when its recipient is on the list. */
export const SUPPRESSED_REASON = 'the recipient opted out (suppression list)';

/** The numbers among `phones` that are on the list, in one query. */
export async function suppressedAmong(db: DbOrTx, phones: string[]): Promise<Set<string>> {
  if (phones.length === 0) return new Set();
  const rows = await db
    .select({ phone: smsSuppressions.phone })
    .from(smsSuppressions)
    .where(anyOf(smsSuppressions.phone, phones));
  return new Set(rows.map((row) => row.phone));
}

export async function isSuppressed(db: DbOrTx, phone: string): Promise<boolean> {
  const rows = await db
    .select({ phone: smsSuppressions.phone })
    .from(smsSuppressions)
    .where(eq(smsSuppressions.phone, phone));
  return rows.length > 0;
}

export async function suppress(
  db: DbOrTx,
  phone: string,
  reason: 'keyword' | 'provider' | 'manual',
  detail: string,
): Promise<void> {
  await db.insert(smsSuppressions).values({ phone, reason, detail }).onConflictDoNothing();
  await db.insert(smsConsentEvents).values({ phone, event: 'opt_out', source: reason, detail });
}

/** Lifts a suppression; returns whether there was one. */
export async function unsuppress(
  db: DbOrTx,
  phone: string,
  source: string,
  detail: string,
): Promise<boolean> {
  const removed = await db.delete(smsSuppressions).where(eq(smsSuppressions.phone, phone)).returning();
  await db.insert(smsConsentEvents).values({ phone, event: 'opt_in', source, detail });
  return removed.length > 0;
}

export type ConsentEvent = typeof smsConsentEvents.$inferSelect;

/** The consent log, newest first, `limit` at a time; `before` is the last event of the previous page. */
export async function listConsentEvents(
  db: DbOrTx,
  filter: { phone?: string; limit: number; before?: { at: Date; id: string } },
): Promise<ConsentEvent[]> {
  const older = filter.before
    ? or(
        lt(smsConsentEvents.createdAt, filter.before.at),
        and(eq(smsConsentEvents.createdAt, filter.before.at), lt(smsConsentEvents.id, filter.before.id)),
      )
    : undefined;
  return db
    .select()
    .from(smsConsentEvents)
    .where(and(filter.phone ? eq(smsConsentEvents.phone, filter.phone) : undefined, older))
    .orderBy(desc(smsConsentEvents.createdAt), desc(smsConsentEvents.id))
    .limit(filter.limit);
}
