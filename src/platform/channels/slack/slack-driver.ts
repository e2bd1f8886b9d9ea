// Slack through @slack/web-api: channel posts, thread replies (threadTs) and DMs (a user id is
// opened as a DM with conversations.open). The SDK's own retries are off: the outbox retries,
// honouring Retry-After, so a rate-limited message does not hold a worker.
import type { Config } from '../../../config.ts';
import {
  type ChannelDriver,
  ProviderError,
  parseRetryAfter,
  readBackLimitError,
  type SlackContent,
  unreachable,
} from '../types.ts';
import { scrubbingSlackLogger } from './sdk-logger.ts';

type SlackConfig = Extract<Config['channels']['slack'], { driver: 'slack' }>;

/** Slack error codes that a retry cannot fix. */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'user_not_found',
  'cannot_dm_bot',
  'msg_too_long',
  'no_text',
  'invalid_blocks',
  'restricted_action',
]);

export function slackError(error: unknown): ProviderError {
  const e = error as {
    code?: string;
    data?: { error?: string };
    retryAfter?: number;
    statusCode?: number;
    original?: unknown;
  };
  if (e.code === 'slack_webapi_rate_limited_error') {
    return new ProviderError('Slack rate limited', {
      permanent: false,
      code: 'ratelimited',
      status: 429,
      retryAfterMs: (e.retryAfter ?? 1) * 1000,
    });
  }
  if (e.code === 'slack_webapi_platform_error') {
    const slackCode = e.data?.error ?? 'unknown_error';
    return new ProviderError(`Slack: ${slackCode}`, { permanent: PERMANENT.has(slackCode), code: slackCode });
  }
  if (e.code === 'slack_webapi_http_error') {
    const status = e.statusCode;
    return new ProviderError(`Slack HTTP ${status}`, {
      permanent: status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408,
      ...(status !== undefined ? { status, code: String(status) } : {}),
      retryAfterMs: parseRetryAfter((e as { headers?: Record<string, string> }).headers?.['retry-after']),
    });
  }
  return unreachable('Slack', error, e.original);
}

export async function createSlackDriver(
  config: SlackConfig,
  options: { timeoutMs: number; readBackMax?: number },
): Promise<ChannelDriver> {
  // The SDK is imported when the driver is built, i.e. only with a bot token.
  const { WebClient } = await import('@slack/web-api');
  const client = new WebClient(config.token, {
    slackApiUrl: `${config.apiUrl}/`,
    timeout: options.timeoutMs,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: scrubbingSlackLogger(),
  });
  // Who we post as, to recognise our own messages when reading history back.
  let botUserId: Promise<string | undefined> | undefined;
  const me = () => {
    botUserId ??= client.auth.test().then((auth) => auth.user_id);
    return botUserId;
  };
  const resolveChannel = async (recipient: string) => {
    if (!/^[UW]/.test(recipient)) return recipient;
    const opened = await client.conversations.open({ users: recipient });
    return opened.channel?.id ?? recipient;
  };

  return {
    name: 'slack',
    channel: 'slack',
    async verify() {
      try {
        const auth = await client.auth.test();
        return `bot ${auth.user} in workspace ${auth.team}`;
      } catch (error) {
        throw slackError(error);
      }
    },
    async send(message) {
      const content = message.content as unknown as SlackContent;
      try {
        const channel = await resolveChannel(message.recipient);
        const posted = await client.chat.postMessage({
          channel,
          text: content.text,
          ...(content.threadTs ? { thread_ts: content.threadTs } : {}),
          ...(content.blocks ? { blocks: content.blocks as never } : {}),
        });
        return { providerId: `${posted.channel}:${posted.ts}` };
      } catch (error) {
        throw slackError(error);
      }
    },
    /**
     * Slack takes no idempotency key, but its history shows what we posted: a message of ours with
     * this text, in this channel or thread, since the earlier attempt began. Every page from `oldest`
     * is read (a busy channel has thousands of later messages), within a bound.
     */
    async findSent(message, since) {
      const content = message.content as unknown as SlackContent;
      const max = options.readBackMax ?? 10_000;
      try {
        const channel = await resolveChannel(message.recipient);
        const oldest = (since.getTime() / 1000 - 60).toFixed(6);
        const self = await me();
        const matches: Array<{ providerId: string }> = [];
        let listed = 0;
        let cursor: string | undefined;
        do {
          const page = content.threadTs
            ? await client.conversations.replies({
                channel,
                ts: content.threadTs,
                oldest,
                limit: 200,
                ...(cursor ? { cursor } : {}),
              })
            : await client.conversations.history({
                channel,
                oldest,
                limit: 200,
                ...(cursor ? { cursor } : {}),
              });
          for (const m of page.messages ?? []) {
            listed++;
            if (
              m.text === content.text &&
              m.ts !== content.threadTs &&
              (m.user === self || Boolean(m.bot_id))
            )
              matches.push({ providerId: `${channel}:${m.ts}` });
          }
          cursor = page.response_metadata?.next_cursor || undefined;
          if (cursor && listed >= max) {
            if (matches.length === 0) throw readBackLimitError('Slack', max);
            break;
          }
        } while (cursor);
        return matches;
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        throw slackError(error);
      }
    },
  };
}
