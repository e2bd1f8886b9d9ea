// One request from claim to answer: a reaction says it is being worked on, the credit is computed,
// and the request's new state and its Slack answer (through the outbox, keyed per message) commit
// together, so a crash anywhere leaves either no answer or exactly one. A failure that may pass
// (Looker down, a timeout) is retried by the job with backoff first; a lasting one tells the
// operator by DM and the thread that a person is needed.

import type { Channels } from '../../platform/channels/channels.ts';
import type { SlackAccess } from '../../platform/channels/slack/slack-client.ts';
import type { Database } from '../../platform/db/database.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import type { Logger } from '../../platform/log.ts';
import { formatMoney } from '../../platform/money.ts';
import { errorText } from '../../platform/redact.ts';
import { type CreditSummary, computeCredit, progressOf, replyText } from './compute.ts';
import type { CreditsConfig } from './config.ts';
import { isTransient } from './credit-error.ts';
import { type CreditMetrics, recordCreditAmounts } from './metrics.ts';
import { type NotebookExecutor, NotebookPending } from './notebook-queue.ts';
import { type CreditCheck, checkCredit } from './prediction/check.ts';
import { saveCheck } from './prediction/store.ts';
import type { QuerySource } from './query-source.ts';
import type { CreditRequestRow } from './schema.ts';
import { claimRequest, completeRequest, failRequest, noteError, requeueIfEdited } from './store.ts';

/** Requests from `credits run <text>` have no Slack message to answer: the CLI prints the result. */
export const CLI_CHANNEL = 'cli';

export interface ProcessDeps {
  db: Database;
  channels: Channels;
  slack: SlackAccess;
  config: CreditsConfig;
  log: Logger;
  metrics: CreditMetrics;
  /** A Looker session for one request (or the sandbox Looker). */
  openSource: () => QuerySource;
  /** Where this request's notebooks run (their own queue); in this process when absent. */
  notebooks?: (row: CreditRequestRow) => NotebookExecutor;
}

/** `waiting`: a notebook run is queued; its end sends the request's job again. */
export type ProcessOutcome = 'done' | 'failed' | 'not_claimed' | 'waiting';

/** Where a request is answered: a thread reply's parent thread, else the message's own thread. */
export const answerThread = (row: Pick<CreditRequestRow, 'ts' | 'threadTs'>) => row.threadTs ?? row.ts;

export async function processRequest(
  deps: ProcessDeps,
  id: string,
  options: { final: boolean },
): Promise<ProcessOutcome> {
  // An edit that arrived while a pass was computing sends the request round again, at once.
  for (;;) {
    const outcome = await processPass(deps, id, options);
    if (outcome !== 'edited') return outcome;
  }
}

async function processPass(
  deps: ProcessDeps,
  id: string,
  options: { final: boolean },
): Promise<ProcessOutcome | 'edited'> {
  const { db, config, log } = deps;
  const row = await claimRequest(db.orm, id);
  if (!row) return 'not_claimed';
  const inSlack = row.channel !== CLI_CHANNEL;
  if (inSlack) await react(deps, row, config.reactions.processing);

  let summary: CreditSummary;
  const source = deps.openSource();
  const started = performance.now();
  try {
    summary = await computeCredit(config, source, row.text, Date.now, deps.notebooks?.(row));
  } catch (error) {
    if (error instanceof NotebookPending) {
      log.info({ requestId: id, run: error.key }, 'credit request waits for its notebook run');
      return 'waiting';
    }
    const reason = errorText(error);
    if (isTransient(error) && !options.final) {
      await noteError(db.orm, id, reason);
      log.warn({ requestId: id, reason }, 'credit request failed; it will be retried');
      throw error;
    }
    // Asked before the transaction: no network call while it holds locks.
    const link = inSlack ? await permalink(deps, row) : '';
    const edited = await withTransaction(db, async (tx) => {
      const failed = await failRequest(tx, id, reason, progressOf(error), row.text);
      if (!failed) return Boolean(await requeueIfEdited(tx, id, row.text));
      if (inSlack) await tellPeople(deps, failed, { reason, link }, tx);
      return false;
    });
    if (edited) return 'edited';
    if (inSlack) await react(deps, row, config.reactions.failed);
    deps.metrics.requests.inc({ outcome: 'failed' });
    log.warn({ requestId: id, reason }, 'credit request failed');
    return 'failed';
  } finally {
    await source.close().catch(() => {});
  }

  // The second opinion and, for a flag, the message's link: read before the transaction.
  const check = await secondOpinion(deps, row, summary);
  const flagLink = inSlack && check?.flag ? await permalink(deps, row) : '';
  const held = Boolean(inSlack && check?.values.held);
  const edited = await withTransaction(db, async (tx) => {
    const completed = await completeRequest(tx, id, summary, row.text);
    if (!completed) return Boolean(await requeueIfEdited(tx, id, row.text));
    if (check) await saveCheck(tx, check.values);
    if (!inSlack) return false;
    if (check?.flag) await tellOperatorOfFlag(deps, row, summary, check, flagLink, tx);
    // Held: the same reply is sent once a person approves it (prediction/approve.ts).
    if (!held) await enqueueReply(deps, row, summary, { note: check?.values.replyNote ?? null }, tx);
    return false;
  });
  if (edited) return 'edited';
  if (inSlack && !held) await react(deps, row, config.reactions.done);
  deps.metrics.requests.inc({ outcome: 'done' });
  for (const kind of check?.flag?.kinds ?? []) deps.metrics.flags.inc({ kind, held: String(held) });
  deps.metrics.duration.observe((performance.now() - started) / 1000);
  recordCreditAmounts(deps.metrics, summary);
  log.info(
    {
      requestId: id,
      amountCents: summary.amountCents,
      links: summary.links.length,
      ...(check?.flag ? { flagged: check.flag.kinds, held } : {}),
    },
    held ? 'credit request computed; its reply waits for approval' : 'credit request answered',
  );
  return 'done';
}

/** What the thread reply says beyond the template: the second opinion's line, a person's correction. */
export interface ReplyExtras {
  /** No prediction, and why (prediction/check.ts); null: nothing to say. */
  note: string | null;
  /** A held reply corrected by the person who approved it: posted with their amount, saying so. */
  correction?: { cents: number; by: string } | null;
}

/** The thread reply, through the outbox: now, or when a person approves a held one. */
export async function enqueueReply(
  deps: Pick<ProcessDeps, 'channels' | 'config'>,
  row: CreditRequestRow,
  summary: CreditSummary,
  extras: ReplyExtras,
  tx: Parameters<Channels['enqueue']>[1],
): Promise<void> {
  const reply = threadReply(deps.config.replyTemplate, summary, extras);
  await deps.channels.enqueue(
    {
      // Round 1 keeps the key it always had; a recomputation (an edit, a retry) is a new message.
      dedupeKey: `credits:${row.messageKey}:${row.round > 1 ? `round-${row.round}:` : ''}reply`,
      channel: 'slack',
      to: row.channel,
      content: {
        text: row.editedAt && row.round > 1 ? `Recomputed for the edited message: ${reply}` : reply,
        threadTs: answerThread(row),
      },
      meta: { creditRequestId: row.id },
    },
    tx,
  );
}

/** The reply's text: the template with the amount posted (a person's correction, else the computed). */
export function threadReply(template: string, summary: CreditSummary, extras: ReplyExtras): string {
  const { correction, note } = extras;
  const posted = correction
    ? { ...summary, amountCents: correction.cents, amount: formatMoney(correction.cents, 'USD') }
    : summary;
  return [
    replyText(template, posted),
    ...(correction ? [`Corrected by ${correction.by} from the computed ${summary.amount}.`] : []),
    // Nothing was credited: there is no amount to have a second opinion on.
    ...(note && summary.credited > 0 ? [note] : []),
  ].join('\n');
}

/** The check never fails a request: without it the answer goes out as it always did. */
async function secondOpinion(
  deps: ProcessDeps,
  row: CreditRequestRow,
  summary: CreditSummary,
): Promise<CreditCheck | null> {
  try {
    return await checkCredit(deps.db.orm, deps.config.model, row, summary);
  } catch (error) {
    deps.log.warn({ requestId: row.id, err: error }, 'the credit check could not run; answered without it');
    return null;
  }
}

/** The operator's DM about a flagged credit: why, and (held) how to release the reply. */
async function tellOperatorOfFlag(
  deps: ProcessDeps,
  row: CreditRequestRow,
  summary: CreditSummary,
  check: CreditCheck,
  link: string,
  tx: Parameters<Channels['enqueue']>[1],
): Promise<void> {
  if (!deps.config.operator) {
    deps.log.warn({ requestId: row.id }, 'no SLACK_USER_ID set: nobody gets a DM about the flagged credit');
    return;
  }
  const lines = [
    `CreditBot flagged a credit for a person's look: ${link}`,
    `Computed: ${summary.amount} (the answer; the check never changes it)`,
    `Why: ${check.flag?.reason}`,
    check.values.held
      ? `The thread reply waits for approval: react :${deps.config.model.approveReaction}: on the request, or POST /credits/requests/${row.id}/approve or \`switchboard credits approve ${row.id}\``
      : 'The reply was posted (CREDITS_HOLD_OUTLIERS is off).',
  ];
  await deps.channels.enqueue(
    {
      dedupeKey: `credits:${row.messageKey}:round-${row.round}:flag`,
      channel: 'slack',
      to: deps.config.operator,
      content: { text: lines.join('\n') },
      meta: { creditRequestId: row.id },
    },
    tx,
  );
}

/** A reaction is a courtesy: failing to add one never fails the request. */
async function react(deps: ProcessDeps, row: CreditRequestRow, name: string): Promise<void> {
  try {
    await deps.slack.react(row.channel, row.ts, name);
  } catch (error) {
    deps.log.warn({ requestId: row.id, reaction: name, err: error }, 'could not add a reaction');
  }
}

/** The operator's DM (with the link to the message and the reason) and a note in the thread. */
async function tellPeople(
  deps: ProcessDeps,
  row: CreditRequestRow,
  { reason, link }: { reason: string; link: string },
  tx: Parameters<Channels['enqueue']>[1],
): Promise<void> {
  const key = `credits:${row.messageKey}:round-${row.round}`;
  if (deps.config.operator) {
    await deps.channels.enqueue(
      {
        dedupeKey: `${key}:operator`,
        channel: 'slack',
        to: deps.config.operator,
        content: {
          text: [
            `CreditBot could not answer a credit request: ${link}`,
            `Reason: ${reason}`,
            `Retry: POST /credits/requests/${row.id}/retry or \`switchboard credits retry ${row.id}\``,
          ].join('\n'),
        },
        meta: { creditRequestId: row.id },
      },
      tx,
    );
  } else {
    deps.log.warn({ requestId: row.id }, 'no SLACK_USER_ID set: nobody gets a DM about the failed request');
  }
  await deps.channels.enqueue(
    {
      dedupeKey: `${key}:thread-note`,
      channel: 'slack',
      to: row.channel,
      content: { text: `This request needs a person: ${reason}`, threadTs: answerThread(row) },
      meta: { creditRequestId: row.id },
    },
    tx,
  );
}

async function permalink(deps: ProcessDeps, row: CreditRequestRow): Promise<string> {
  const client = deps.slack.client;
  if (client) {
    try {
      const answer = await client.chat.getPermalink({ channel: row.channel, message_ts: row.ts });
      if (answer.permalink) return answer.permalink;
    } catch (error) {
      deps.log.warn({ err: error, requestId: row.id }, 'could not get the permalink');
    }
  }
  const thread = row.threadTs ? `?thread_ts=${row.threadTs}&cid=${row.channel}` : '';
  return `https://slack.com/archives/${row.channel}/p${row.ts.replace('.', '')}${thread}`;
}
