// A subscriber moved their window (TIME 9-11) after today's or tomorrow's message was planned: the
// message still waiting is moved to a random time inside the new window on its date, so the change
// holds from the next message on, not from the day after. One whose new window on its date is
// already over is taken out of the plan: sending it outside the hours just asked for would break
// the promise the reply makes, and the next plan gives them the following day's. A message already
// released to the outbox (minutes before its time) is left to go.
import { and, eq, isNull } from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import { dailyMessages } from './schema.ts';
import { isOver, pickSendTime, windowOn } from './send-window.ts';

export async function moveWaitingMessages(
  tx: DbOrTx,
  subscriber: { id: string; timeZone: string },
  window: { startMinute: number; endMinute: number },
  now: Date,
  random: () => number = Math.random,
): Promise<void> {
  const waiting = and(eq(dailyMessages.subscriberId, subscriber.id), isNull(dailyMessages.queuedAt));
  const rows = await tx.select({ localDate: dailyMessages.localDate }).from(dailyMessages).where(waiting);
  for (const { localDate } of rows) {
    const onDate = and(waiting, eq(dailyMessages.localDate, localDate));
    const instants = windowOn(localDate, subscriber.timeZone, window.startMinute, window.endMinute);
    if (isOver(instants, now)) await tx.delete(dailyMessages).where(onDate);
    else
      await tx
        .update(dailyMessages)
        .set({ sendAt: pickSendTime(instants, now, random) })
        .where(onDate);
  }
}
