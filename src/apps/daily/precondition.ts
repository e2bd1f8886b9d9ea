// What the outbox asks just before sending a daily message: is the subscriber still there and not paused?
import { inArray } from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import { dailySubscribers } from './schema.ts';

/** Named in each message's meta: the outbox asks it just before sending. */
export const SUBSCRIBED_PRECONDITION = 'daily.subscribed';

/** For the outbox, just before sending: is the subscriber still there and not paused on that date? */
export async function stillSubscribed(
  db: DbOrTx,
  metas: Array<Record<string, unknown>>,
): Promise<Array<string | null>> {
  const ids = [...new Set(metas.map((m) => String(m.subscriberId)))].filter((id) =>
    /^[0-9a-f-]{36}$/i.test(id),
  );
  const rows = ids.length
    ? await db
        .select({
          id: dailySubscribers.id,
          paused: dailySubscribers.paused,
          pausedUntil: dailySubscribers.pausedUntil,
        })
        .from(dailySubscribers)
        .where(inArray(dailySubscribers.id, ids))
    : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return metas.map((meta) => {
    const row = byId.get(String(meta.subscriberId));
    if (!row) return 'the subscriber was deleted';
    if (row.paused) return 'the subscriber is paused';
    if (row.pausedUntil && row.pausedUntil >= String(meta.localDate))
      return `the subscriber paused until ${row.pausedUntil}`;
    return null;
  });
}
