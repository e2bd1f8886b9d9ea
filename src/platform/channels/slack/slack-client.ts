// Slack calls that are not outbound messages (reactions, reading history, permalinks), for apps
// that watch Slack. Same client settings as the driver: the SDK's retries are off, callers retry.
// Without a bot token the sandbox stands in: reactions are recorded in the sandbox inbox.
// The SDK is imported only with a bot token: the sandbox needs none of it.
import type { WebClient } from '@slack/web-api';
import type { Config } from '../../../config.ts';
import type { Database } from '../../db/database.ts';
import { sandboxMessages } from '../schema.ts';
import { scrubbingSlackLogger } from './sdk-logger.ts';
import { slackError } from './slack-driver.ts';

export interface SlackAccess {
  /** The Web API client, or null in the sandbox. */
  readonly client: WebClient | null;
  /** Adds a reaction; one already there counts as done (a retry, or another worker got there first). */
  react(channel: string, ts: string, name: string): Promise<void>;
}

export async function createSlackWebClient(config: Config): Promise<WebClient | null> {
  const slack = config.channels.slack;
  if (slack.driver !== 'slack') return null;
  const { WebClient } = await import('@slack/web-api');
  return new WebClient(slack.token, {
    slackApiUrl: `${slack.apiUrl}/`,
    timeout: config.channels.providerTimeoutMs,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: scrubbingSlackLogger(),
  });
}

export async function createSlackAccess(config: Config, db: Database): Promise<SlackAccess> {
  const client = await createSlackWebClient(config);
  return {
    client,
    async react(channel, ts, name) {
      if (!client) {
        await db.orm.insert(sandboxMessages).values({
          channel: 'slack',
          direction: 'outbound',
          sender: null,
          recipient: channel,
          content: { reaction: name, timestamp: ts },
        });
        return;
      }
      try {
        await client.reactions.add({ channel, timestamp: ts, name });
      } catch (error) {
        const converted = slackError(error);
        if (converted.code === 'already_reacted') return;
        throw converted;
      }
    },
  };
}
