// Socket Mode (@slack/socket-mode), for installs without a public URL: Slack pushes the same
// events over a WebSocket the service opens. Each envelope is acknowledged once its message is
// recorded (Slack redelivers unacknowledged ones), and dedupe by event id and by `channel:ts`
// makes a redelivery or the same message from the Events API or polling change nothing.
import { SocketModeClient, type SocketModeOptions } from '@slack/socket-mode';
import { firstSighting } from '../../platform/channels/webhook-events.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { findUnstorableText } from '../../platform/http/input-policy.ts';
import type { Logger } from '../../platform/log.ts';
import { type IntakeDeps, intakeMessage, type SlackMessage } from './intake.ts';
import { slackMessage, slackReaction } from './slack-payload.ts';

export interface SocketIntake {
  stop(): Promise<void>;
}

export function startSocketIntake(options: {
  appToken: string;
  apiUrl: string;
  intake: IntakeDeps;
  log: Logger;
  /** An approval reaction on a held reply's request (prediction/approve.ts). */
  onReaction?: (event: import('zod').infer<typeof slackReaction>) => Promise<unknown>;
}): SocketIntake {
  const client = new SocketModeClient({
    appToken: options.appToken,
    logger: slackLogger(options.log),
    autoReconnectEnabled: true,
    clientOptions: { slackApiUrl: `${options.apiUrl}/` },
  });
  client.on(
    'message',
    async ({
      ack,
      body,
      event,
    }: {
      ack: () => Promise<void>;
      body: { event_id?: string };
      event: SlackMessage;
    }) => {
      try {
        // A malformed event would fail the same way on every redelivery: acknowledged and dropped.
        const parsed = slackMessage.safeParse(event);
        const unstorable = findUnstorableText(event, 'event');
        if (!parsed.success || unstorable) {
          options.log.warn(
            { eventId: body.event_id, problem: unstorable?.message ?? parsed.error?.issues[0]?.message },
            'Socket Mode event of an unexpected shape dropped',
          );
          await ack();
          return;
        }
        const message = parsed.data;
        const channel = message.channel;
        if (channel) {
          const result = await withTransaction(options.intake.db, async (tx) => {
            if (body.event_id && !(await firstSighting(tx, 'slack-events', body.event_id)))
              return { outcome: 'duplicate' };
            return intakeMessage(options.intake, channel, message, 'socket', tx);
          });
          options.log.debug({ eventId: body.event_id, outcome: result.outcome }, 'Socket Mode event');
        }
        await ack();
      } catch (error) {
        // Not acknowledged: Slack delivers it again.
        options.log.error({ err: error }, 'Socket Mode event not recorded');
      }
    },
  );
  client.on(
    'reaction_added',
    async ({
      ack,
      body,
      event,
    }: {
      ack: () => Promise<void>;
      body: { event_id?: string };
      event: unknown;
    }) => {
      try {
        const parsed = slackReaction.safeParse(event);
        if (parsed.success && options.onReaction) {
          const first = await withTransaction(options.intake.db, (tx) =>
            body.event_id ? firstSighting(tx, 'slack-events', body.event_id) : Promise.resolve(true),
          );
          if (first) await options.onReaction(parsed.data);
        }
        await ack();
      } catch (error) {
        options.log.error({ err: error }, 'Socket Mode reaction not recorded');
      }
    },
  );
  // Not awaited: Slack being unreachable (or refusing the token) must not hold up the service's
  // start; the client keeps reconnecting, and the other intake modes work meanwhile.
  client.start().then(
    () => options.log.info('Socket Mode connected'),
    (error: unknown) => options.log.error({ err: error }, 'Socket Mode could not connect'),
  );
  return {
    async stop() {
      await client.disconnect().catch(() => {});
    },
  };
}

/** The SDK's logs into ours (its own would print to the console); its chatter at debug level. */
function slackLogger(log: Logger): NonNullable<SocketModeOptions['logger']> {
  type Level = ReturnType<NonNullable<SocketModeOptions['logger']>['getLevel']>;
  let level = 'info' as Level;
  const text = (parts: unknown[]) => parts.map(String).join(' ');
  return {
    debug: (...parts: unknown[]) => log.debug(text(parts)),
    info: (...parts: unknown[]) => log.debug(text(parts)),
    warn: (...parts: unknown[]) => log.warn(text(parts)),
    error: (...parts: unknown[]) => log.error(text(parts)),
    setLevel: (next: Level) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
