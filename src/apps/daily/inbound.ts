// SMS from subscribers beyond STOP / START / HELP (which the platform handles for every app):
// TIME 9-11 moves the window, PAUSE 7 pauses a week, anything else gets a short help reply at most
// once a local day, so a chatty subscriber is not answered (and billed) for every text.

import { DateTime } from 'luxon';
import type { InboundSms } from '../../platform/channels/inbound.ts';
import type { EnqueueInput, EnqueueResult } from '../../platform/channels/outbox/enqueue.ts';
import { and, eq, isNull, ne, or, sql } from '../../platform/db/drizzle.ts';
import type { Tx } from '../../platform/db/transaction.ts';
import { formatClock, parseDailyCommand } from './commands.ts';
import type { DailyMetrics } from './metrics.ts';
import { moveWaitingMessages } from './replan.ts';
import { dailySubscribers } from './schema.ts';
import { getSubscriberByPhone, updateSubscriber } from './store.ts';

export interface InboundDeps {
  enqueue: (input: EnqueueInput, tx: Tx) => Promise<EnqueueResult>;
  helpText: string;
  metrics: DailyMetrics;
  now?: () => Date;
}

/** Resolves false for numbers that are not subscribers (another app may want them). */
export async function handleSubscriberSms(deps: InboundDeps, message: InboundSms, tx: Tx): Promise<boolean> {
  const subscriber = await getSubscriberByPhone(tx, message.from);
  if (!subscriber) return false;
  const today = DateTime.fromJSDate(deps.now?.() ?? new Date(), { zone: subscriber.timeZone });
  const reply = (body: string, key = `daily-reply:${message.providerId}`) =>
    deps.enqueue(
      {
        dedupeKey: key,
        channel: 'sms',
        to: subscriber.phone,
        content: { body },
        meta: { app: 'daily', reply: true },
      },
      tx,
    );
  const command = parseDailyCommand(message.body);
  if (command?.kind === 'time') {
    await updateSubscriber(tx, subscriber.id, {
      windowStart: command.startMinute,
      windowEnd: command.endMinute,
    });
    await moveWaitingMessages(tx, subscriber, command, deps.now?.() ?? new Date());
    deps.metrics.commands.inc({ command: 'time' });
    await reply(
      `Done: your daily message now comes between ${formatClock(command.startMinute)} and ${formatClock(command.endMinute)}.`,
    );
    return true;
  }
  if (command?.kind === 'pause') {
    const until = today.plus({ days: command.days - 1 }).toISODate() as string;
    const resume = today.plus({ days: command.days }).toISODate() as string;
    await updateSubscriber(tx, subscriber.id, { pausedUntil: until });
    deps.metrics.commands.inc({ command: 'pause' });
    await reply(`Paused. Your daily messages resume on ${resume}.`);
    return true;
  }
  if (command?.kind === 'invalid') {
    deps.metrics.commands.inc({ command: 'invalid' });
    await reply(command.reason);
    return true;
  }
  // Anything else: the help text, once per local day (the conditional update is the claim).
  const localDate = today.toISODate() as string;
  const claimed = await tx
    .update(dailySubscribers)
    .set({ helpRepliedOn: localDate, updatedAt: sql`now()` })
    .where(
      and(
        eq(dailySubscribers.id, subscriber.id),
        or(isNull(dailySubscribers.helpRepliedOn), ne(dailySubscribers.helpRepliedOn, localDate)),
      ),
    )
    .returning({ id: dailySubscribers.id });
  if (claimed.length === 0) {
    deps.metrics.commands.inc({ command: 'help_suppressed' });
    return true;
  }
  deps.metrics.commands.inc({ command: 'help_reply' });
  await reply(deps.helpText, `daily-help:${subscriber.id}:${localDate}`);
  return true;
}
