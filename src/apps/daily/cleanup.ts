// Retention: history older than the repeat horizon is no longer needed to avoid repeats, and the
// outbox rows of this app older than DAILY_OUTBOX_RETENTION_DAYS (finished ones only) are removed.

import { DateTime } from 'luxon';
import { outboxMessages } from '../../platform/channels/schema.ts';
import { and, inArray, like, lt, or } from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import { dailyContents, dailyMessages } from './schema.ts';

const FINISHED = ['sent', 'delivered', 'undelivered', 'failed', 'suppressed', 'cancelled'] as const;

export async function cleanupDaily(
  db: DbOrTx,
  options: { now: Date; horizonDays: number; outboxRetentionDays: number },
): Promise<{ history: number; contents: number; outbox: number }> {
  // One day of slack so the oldest local date (zones up to UTC+14) is never cut early.
  const cutoff = DateTime.fromJSDate(options.now, { zone: 'UTC' })
    .minus({ days: options.horizonDays + 1 })
    .toISODate() as string;
  const history = await db
    .delete(dailyMessages)
    .where(lt(dailyMessages.localDate, cutoff))
    .returning({ d: dailyMessages.localDate });
  const contents = await db
    .delete(dailyContents)
    .where(lt(dailyContents.localDate, cutoff))
    .returning({ d: dailyContents.localDate });
  const outbox = await db
    .delete(outboxMessages)
    .where(
      and(
        or(
          like(outboxMessages.dedupeKey, 'daily:%'),
          like(outboxMessages.dedupeKey, 'daily-reply:%'),
          like(outboxMessages.dedupeKey, 'daily-help:%'),
        ),
        inArray(outboxMessages.status, [...FINISHED]),
        lt(
          outboxMessages.createdAt,
          new Date(options.now.getTime() - options.outboxRetentionDays * 86_400_000),
        ),
      ),
    )
    .returning({ id: outboxMessages.id });
  return { history: history.length, contents: contents.length, outbox: outbox.length };
}
