// Every intake mode (Events API, Socket Mode, polling, the sandbox, the CLI) ends here: a Slack
// message that is a credit request becomes one row keyed `channel:ts` and one job, in one
// transaction. The same message arriving again, by any mode, finds the row and changes nothing.

import { redactCardNumbers } from '../../platform/card-numbers.ts';
import type { Channels } from '../../platform/channels/channels.ts';
import type { Database } from '../../platform/db/database.ts';
import { type Tx, withTransaction } from '../../platform/db/transaction.ts';
import type { JobSystem } from '../../platform/jobs/job-system.ts';
import { linksIn } from './compute.ts';
import type { CreditsConfig } from './config.ts';
import type { creditJobs } from './jobs.ts';
import { linkKey } from './links.ts';
import type { CreditMetrics } from './metrics.ts';
import { CLI_CHANNEL } from './process.ts';
import type { CreditIntake } from './schema.ts';
import {
  getRequestByKey,
  insertRequest,
  messageKey,
  replaceProcessingText,
  replaceQueuedText,
  requeueEdited,
} from './store.ts';

/** A Slack `message` event, or a message from conversations.history (which has no channel field). */
export interface SlackMessage {
  channel?: string;
  ts?: string;
  text?: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  thread_ts?: string;
  /** message_changed: the message as edited, and as it was. */
  message?: SlackMessage;
  previous_message?: SlackMessage;
  /** Set on a message that was edited: who, and when (a ts). */
  edited?: { user?: string; ts?: string };
  event_ts?: string;
}

export type IntakeResult =
  | { outcome: 'queued'; id: string }
  | { outcome: 'duplicate'; id: string | undefined }
  /** An edit: the request not yet taken is computed for the new text. */
  | { outcome: 'updated'; id: string }
  /** An edit after the answer: the thread is told the answer was for the earlier text. */
  | { outcome: 'noted'; id: string }
  | { outcome: 'ignored'; reason: string };

export interface IntakeDeps {
  db: Database;
  jobs: JobSystem<typeof creditJobs>;
  config: CreditsConfig;
  metrics: CreditMetrics;
  /** The outbox, for the thread note on an edited answered message (absent: no note). */
  channels?: Pick<Channels, 'enqueue'>;
}

/** Subtypes that are ordinary posts by people (files shared with a comment, `/me`, broadcasts). */
const PLAIN_SUBTYPES = new Set([undefined, 'file_share', 'me_message', 'thread_broadcast']);

export interface MessageRequest {
  channel: string;
  ts: string;
  /** A thread reply's parent ts: the answer goes to that thread. */
  threadTs?: string;
  text: string;
  /** A message_changed event: the text is the message as edited. */
  edit?: { editTs: string };
}

/** The request a message is, or why it is not one. */
export function requestOf(
  config: Pick<CreditsConfig, 'channels' | 'accept' | 'lookerHost'>,
  channel: string,
  message: SlackMessage,
): MessageRequest | { ignored: string } {
  if (!config.channels.includes(channel)) return { ignored: `channel ${channel} is not watched` };
  let current = message;
  if (message.subtype === 'message_changed') {
    // Always read: a message that gains its link in an edit is a request (its current text).
    if (!message.message) return { ignored: 'an edit without the message' };
    current = message.message;
  } else if (message.subtype === 'bot_message' || message.bot_id) {
    if (!config.accept.botMessages) return { ignored: 'a bot message' };
  } else if (!PLAIN_SUBTYPES.has(message.subtype)) {
    return { ignored: `a ${message.subtype} message` };
  }
  if (current.bot_id && !config.accept.botMessages) return { ignored: 'a bot message' };
  const reply = Boolean(current.thread_ts && current.thread_ts !== current.ts);
  if (reply && !config.accept.threadReplies) return { ignored: 'a thread reply' };
  if (!current.ts || !/^\d+\.\d+$/.test(current.ts)) return { ignored: 'no message ts' };
  // A card number posted in the channel is never stored or shown again (PCI DSS): masked before the
  // text is kept, and links carry none.
  const text = redactCardNumbers(current.text ?? '');
  const edited = message.subtype === 'message_changed';
  // An edit that removes the links still matters to a request already answered (intakeEdit).
  if (!edited && linksIn(text, config).length === 0) return { ignored: 'no Looker link' };
  return {
    channel,
    ts: current.ts,
    ...(reply ? { threadTs: current.thread_ts as string } : {}),
    text,
    ...(edited
      ? { edit: { editTs: current.edited?.ts ?? message.event_ts ?? message.ts ?? current.ts } }
      : {}),
  };
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
  const run = (t: Tx) =>
    request.edit
      ? intakeEdit(deps, request, request.edit, intake, t)
      : queueRequest(deps, { ...request, intake }, t);
  const result = await (tx ? run(tx) : withTransaction(deps.db, run));
  deps.metrics.intake.inc({ intake, outcome: result.outcome });
  return result;
}

/** The links a text names, as a comparable set. */
const linkSet = (text: string, config: Pick<CreditsConfig, 'lookerHost'>) =>
  [...new Set(linksIn(text, config).map(linkKey))].sort().join(' ');

/**
 * An edited message: never seen, not yet taken, or failed -> computed for its current text;
 * answered (or being computed) with other links than now -> recomputed with CREDITS_ACCEPT_EDITS,
 * else a thread note that the answer is for the earlier text. An edit that leaves the links as
 * they were (a typo, an unfurl) changes nothing.
 */
async function intakeEdit(
  deps: IntakeDeps,
  request: MessageRequest,
  edit: { editTs: string },
  intake: CreditIntake,
  tx: Tx,
): Promise<IntakeResult> {
  const existing = await getRequestByKey(tx, messageKey(request.channel, request.ts));
  const hasLinks = linksIn(request.text, deps.config).length > 0;
  if (!existing)
    return hasLinks
      ? queueRequest(deps, { ...request, intake }, tx)
      : { outcome: 'ignored', reason: 'no Looker link' };
  if (linkSet(existing.text, deps.config) === linkSet(request.text, deps.config))
    return { outcome: 'ignored', reason: 'an edit that leaves the links as they were' };
  if (hasLinks && existing.status === 'queued' && (await replaceQueuedText(tx, existing.id, request.text)))
    return { outcome: 'updated', id: existing.id };
  // A failed request was never answered with a credit: its edit (often the fix) is computed.
  if (hasLinks && (deps.config.accept.edits || existing.status === 'failed')) {
    if (deps.config.accept.edits && (await replaceProcessingText(tx, existing.id, request.text)))
      return { outcome: 'updated', id: existing.id };
    const requeued = await requeueEdited(
      tx,
      existing.id,
      request.text,
      deps.config.accept.edits ? ['done', 'failed'] : ['failed'],
    );
    if (requeued) {
      if (requeued.channel !== CLI_CHANNEL)
        await deps.jobs.send('credits.process', { id: requeued.id }, { tx, singletonKey: requeued.id });
      return { outcome: 'queued', id: requeued.id };
    }
  }
  if (deps.channels)
    await deps.channels.enqueue(
      {
        dedupeKey: `credits:${existing.messageKey}:edit-${edit.editTs}`,
        channel: 'slack',
        to: existing.channel,
        content: {
          text: `This message was edited after CreditBot ${existing.status === 'processing' ? 'started on' : 'answered'} it, and its Looker links changed: the answer is for the earlier text. Post the request again to have the new links computed.`,
          threadTs: existing.threadTs ?? existing.ts,
        },
        meta: { creditRequestId: existing.id },
      },
      tx,
    );
  return { outcome: 'noted', id: existing.id };
}

/** The row and its job, together; a message already recorded is a duplicate. */
export async function queueRequest(
  deps: Pick<IntakeDeps, 'db' | 'jobs'>,
  request: { channel: string; ts: string; threadTs?: string; text: string; intake: CreditIntake },
  tx?: Tx,
  options: { job?: boolean } = {},
): Promise<IntakeResult> {
  const run = async (t: Tx): Promise<IntakeResult> => {
    const row = await insertRequest(t, {
      channel: request.channel,
      ts: request.ts,
      threadTs: request.threadTs ?? null,
      text: request.text,
      intake: request.intake,
    });
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
