// Every intake mode (Events API, Socket Mode, polling, the sandbox, the CLI) ends here: a Slack
// message that is a credit request becomes one row keyed `channel:ts` and one job, in one
// transaction. The same message arriving again, by any mode, finds the row and changes nothing.
import type { CreditsConfig } from '../../config.ts';
import type { Database } from '../../platform/db/database.ts';
import { type Tx, withTransaction } from '../../platform/db/transaction.ts';
import type { JobSystem } from '../../platform/jobs/job-system.ts';
import { linksIn } from './compute.ts';
import type { creditJobs } from './jobs.ts';
import type { CreditMetrics } from './metrics.ts';
import type { CreditIntake } from './schema.ts';
import { getRequestByKey, insertRequest, messageKey } from './store.ts';

/** A Slack `message` event, or a message from conversations.history (which has no channel field). */
export interface SlackMessage {
  channel?: string;
  ts?: string;
  text?: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  thread_ts?: string;
  /** message_changed: the message as edited. */
  message?: SlackMessage;
}

export type IntakeResult =
  | { outcome: 'queued'; id: string }
  | { outcome: 'duplicate'; id: string | undefined }
  | { outcome: 'ignored'; reason: string };

export interface IntakeDeps {
  db: Database;
  jobs: JobSystem<typeof creditJobs>;
  config: CreditsConfig;
  metrics: CreditMetrics;
}

/** Subtypes that are ordinary posts by people (files shared with a comment, `/me`, broadcasts). */
const PLAIN_SUBTYPES = new Set([undefined, 'file_share', 'me_message', 'thread_broadcast']);

/** The request a message is, or why it is not one. */
export function requestOf(
  config: Pick<CreditsConfig, 'channels' | 'accept' | 'lookerHost'>,
  channel: string,
  message: SlackMessage,
): { channel: string; ts: string; text: string } | { ignored: string } {
  if (!config.channels.includes(channel)) return { ignored: `channel ${channel} is not watched` };
  let current = message;
  if (message.subtype === 'message_changed') {
    if (!config.accept.edits || !message.message) return { ignored: 'an edit' };
    current = message.message;
  } else if (message.subtype === 'bot_message' || message.bot_id) {
    if (!config.accept.botMessages) return { ignored: 'a bot message' };
  } else if (!PLAIN_SUBTYPES.has(message.subtype)) {
    return { ignored: `a ${message.subtype} message` };
  }
  if (current.bot_id && !config.accept.botMessages) return { ignored: 'a bot message' };
  if (current.thread_ts && current.thread_ts !== current.ts && !config.accept.threadReplies)
    return { ignored: 'a thread reply' };
  if (!current.ts || !/^\d+\.\d+$/.test(current.ts)) return { ignored: 'no message ts' };
  const text = current.text ?? '';
  if (linksIn(text, config).length === 0) return { ignored: 'no Looker link' };
  return { channel, ts: current.ts, text };
}

export async function intakeMessage(
  deps: IntakeDeps,
  channel: string,
  message: SlackMessage,
  intake: CreditIntake,
  tx?: Tx,
): Promise<IntakeResult> {
  const request = requestOf(deps.config, channel, message);
  if ('ignored' in request) {
    deps.metrics.intake.inc({ intake, outcome: 'ignored' });
    return { outcome: 'ignored', reason: request.ignored };
  }
  const result = await queueRequest(deps, { ...request, intake }, tx);
  deps.metrics.intake.inc({ intake, outcome: result.outcome });
  return result;
}

/** The row and its job, together; a message already recorded is a duplicate. */
export async function queueRequest(
  deps: Pick<IntakeDeps, 'db' | 'jobs'>,
  request: { channel: string; ts: string; text: string; intake: CreditIntake },
  tx?: Tx,
  options: { job?: boolean } = {},
): Promise<IntakeResult> {
  const run = async (t: Tx): Promise<IntakeResult> => {
    const row = await insertRequest(t, request);
    if (!row) {
      const existing = await getRequestByKey(t, messageKey(request.channel, request.ts));
      return { outcome: 'duplicate', id: existing?.id };
    }
    if (options.job ?? true)
      await deps.jobs.send('credits.process', { id: row.id }, { tx: t, singletonKey: row.id });
    return { outcome: 'queued', id: row.id };
  };
  return tx ? run(tx) : withTransaction(deps.db, run);
}
