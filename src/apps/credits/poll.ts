// Polling: conversations.history of each watched channel since the stored cursor, every page,
// oldest first, each message through the same intake as the Events API (so a message seen both
// ways is one request), and, behind the cursor, the messages edited since (CREDITS_POLL_EDIT_LOOKBACK_MINUTES)
// as edits. Run on a schedule, once at start (the catch-up after downtime), or by
// `switchboard credits poll --once`. The cursor moves only after the messages are recorded.
import type { WebClient } from '@slack/web-api';
import { sandboxMessages } from '../../platform/channels/schema.ts';
import { slackError } from '../../platform/channels/slack/slack-driver.ts';
import { and, eq, sql } from '../../platform/db/drizzle.ts';
import { type IntakeDeps, intakeMessage, type SlackMessage } from './intake.ts';
import { advanceCursor, getCursor } from './store.ts';

export interface PollResult {
  channel: string;
  seen: number;
  queued: number;
  cursor: string | null;
}

/** Sets the baseline of channels that have none (at start), so a later pass catches up from there. */
export async function initCursors(deps: Pick<IntakeDeps, 'db' | 'config'>, now: () => number = Date.now) {
  for (const channel of deps.config.channels) {
    if (!(await getCursor(deps.db.orm, channel)))
      await advanceCursor(deps.db.orm, channel, (now() / 1000).toFixed(6));
  }
}

export async function pollChannels(
  deps: IntakeDeps & { client: WebClient | null },
  now: () => number = Date.now,
): Promise<PollResult[]> {
  const results: PollResult[] = [];
  for (const channel of deps.config.channels) {
    const cursor = await getCursor(deps.db.orm, channel);
    if (!cursor) {
      // A channel's first pass only sets the baseline: messages from before CreditBot watched the
      // channel were answered by whoever answered them then.
      const baseline = (now() / 1000).toFixed(6);
      await advanceCursor(deps.db.orm, channel, baseline);
      results.push({ channel, seen: 0, queued: 0, cursor: baseline });
      continue;
    }
    // Read from a while before the cursor: Slack's history shows edits in place, on the message's
    // own ts, so an edit to a message already read is behind the cursor.
    const from = Math.max(0, Number(cursor) - deps.config.pollEditLookbackMinutes * 60).toFixed(6);
    const read = deps.client
      ? await readHistory(deps.client, channel, from)
      : await readSandbox(deps, channel, from);
    read.sort((a, b) => Number(a.ts) - Number(b.ts));
    const messages = read.filter((message) => Number(message.ts) > Number(cursor));
    let queued = 0;
    for (const message of read) {
      const polled = asPolled(message, cursor);
      if (!polled) continue;
      const result = await intakeMessage(deps, channel, polled, 'poll');
      if (result.outcome === 'queued') queued += 1;
    }
    const newest = messages.at(-1)?.ts;
    if (newest) await advanceCursor(deps.db.orm, channel, newest);
    results.push({ channel, seen: messages.length, queued, cursor: newest ?? cursor });
  }
  return results;
}

/**
 * A message as the intake takes it: past the cursor, as posted (with its current text); behind it,
 * an edit when Slack marks it edited (the same path as a `message_changed` event, which is a no-op
 * for an edit already seen), else nothing new.
 */
function asPolled(message: SlackMessage, cursor: string): SlackMessage | null {
  if (Number(message.ts) > Number(cursor)) return message;
  if (!message.edited?.ts) return null;
  return { subtype: 'message_changed', message, event_ts: message.edited.ts };
}

async function readHistory(client: WebClient, channel: string, oldest: string): Promise<SlackMessage[]> {
  const messages: SlackMessage[] = [];
  let cursor: string | undefined;
  try {
    do {
      const page = await client.conversations.history({
        channel,
        oldest,
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      messages.push(...((page.messages ?? []) as SlackMessage[]));
      cursor = page.has_more ? page.response_metadata?.next_cursor || undefined : undefined;
    } while (cursor);
  } catch (error) {
    throw slackError(error);
  }
  return messages;
}

/** The sandbox channel's history: what was posted with POST /sandbox/slack/messages. */
async function readSandbox(deps: IntakeDeps, channel: string, oldest: string): Promise<SlackMessage[]> {
  const rows = await deps.db.orm
    .select({ content: sandboxMessages.content })
    .from(sandboxMessages)
    .where(
      and(
        eq(sandboxMessages.channel, 'slack'),
        eq(sandboxMessages.direction, 'inbound'),
        eq(sandboxMessages.recipient, channel),
        sql`(${sandboxMessages.content}->>'ts')::numeric > ${oldest}::numeric`,
      ),
    );
  return rows.map((row) => row.content as SlackMessage);
}
