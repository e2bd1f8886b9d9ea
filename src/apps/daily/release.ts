// The release: a planned history row becomes an outbox message a few minutes before its send time.
// Planning a day for a million subscribers then writes one narrow row each, instead of a row, an
// outbox message and a pg-boss job each that would wait for hours; the outbox and the job queue only
// ever hold the next few minutes of daily messages. Runs every minute (and at the end of each plan,
// so a message due now goes at once). Several releases at once (workers, a plan) take disjoint rows,
// and the outbox's dedupe key would make a second enqueue of one harmless anyway.
import type { Channels } from '../../platform/channels/channels.ts';
import type { EnqueueInput } from '../../platform/channels/outbox/enqueue.ts';
import type { Database } from '../../platform/db/database.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import type { Logger } from '../../platform/log.ts';
import { SUBSCRIBED_PRECONDITION } from './precondition.ts';
import { claimDue, dedupeKeyFor } from './store.ts';

/**
 * How far ahead of its send time a message is queued. More than the release interval (a minute), so
 * its delivery job is always waiting in pg-boss, deferred to the send time, before that time comes.
 */
export const RELEASE_AHEAD_SECONDS = 300;

export interface ReleaseDeps {
  db: Database;
  channels: Pick<Channels, 'enqueueMany'>;
  log: Pick<Logger, 'warn'>;
  now?: () => Date;
  aheadSeconds?: number;
  batchSize?: number;
  /** Stop after this many (the benchmark); default: all that are due. */
  maxRows?: number;
}

/** Queues every planned message due before now + the release horizon. Returns how many. */
export async function releaseDue(deps: ReleaseDeps): Promise<number> {
  const now = deps.now?.() ?? new Date();
  const until = new Date(now.getTime() + (deps.aheadSeconds ?? RELEASE_AHEAD_SECONDS) * 1000);
  const batchSize = deps.batchSize ?? 1000;
  let released = 0;
  for (;;) {
    const limit = Math.min(batchSize, (deps.maxRows ?? Number.POSITIVE_INFINITY) - released);
    if (limit <= 0) break;
    // The claim and the enqueue commit together: a crash in between releases the rows again.
    const claimed = await withTransaction(deps.db, async (tx) => {
      const rows = await claimDue(tx, until, limit);
      const inputs: EnqueueInput<'sms'>[] = rows.flatMap((row) =>
        // A subscriber deleted since: nothing to send (their history goes with them).
        row.phone === null
          ? []
          : [
              {
                dedupeKey: dedupeKeyFor(row.subscriberId, row.localDate),
                channel: 'sms',
                to: row.phone,
                content: { body: row.body },
                sendAfter: row.sendAt,
                timeZone: row.timeZone ?? undefined,
                meta: {
                  app: 'daily',
                  precondition: SUBSCRIBED_PRECONDITION,
                  subscriberId: row.subscriberId,
                  localDate: row.localDate,
                },
              },
            ],
      );
      const results = await deps.channels.enqueueMany(inputs, tx);
      // Not thrown: the rows would come back first in every later release and hold up all the others.
      // They stay marked, with no outbox row (the history says `removed`), and the log says why.
      const refused = results.filter((r) => 'rejected' in r);
      if (refused.length)
        deps.log.warn(
          { count: refused.length, first: refused[0] },
          'the outbox refused daily messages; they are not sent',
        );
      return rows.length;
    });
    released += claimed;
    if (claimed < limit) break;
  }
  return released;
}
