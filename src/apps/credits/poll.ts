// Polling: conversations.history of each watched channel since the stored cursor, every page,
// oldest first, each message through the same intake as the Events API (so a message seen both
// ways is one request). Run on a schedule, once at start (the catch-up after downtime), or by
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
    const messages = deps.client
      ? await readHistory(deps.client, channel, cursor)
      : await readSandbox(deps, channel, cursor);
    messages.sort((a, b) => Number(a.ts) - Number(b.ts));
    let queued = 0;
    for (const message of messages) {
      const result = await intakeMessage(deps, channel, message, 'poll');
      if (result.outcome === 'queued') queued += 1;
    }
    const newest = messages.at(-1)?.ts;
    if (newest) await advanceCursor(deps.db.orm, channel, newest);
    results.push({ channel, seen: messages.length, queued, cursor: newest ?? cursor });
  }
  return results;
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
