// A held reply (CREDITS_HOLD_OUTLIERS) goes out when a person approves it: an allowed user's
// reaction on the request message in Slack, or the API (the console, `switchboard credits approve`).
// Who and when are recorded with the check, and the reply sent is exactly the one that was held,
// through the outbox with the key it would have had, in the same transaction as the approval.
import { withTransaction } from '../../../platform/db/transaction.ts';
import { AppError, notFound } from '../../../platform/errors.ts';
import type { CreditSummary } from '../compute.ts';
import { enqueueReply, type ProcessDeps } from '../process.ts';
import type { CreditCheckRow, CreditRequestRow } from '../schema.ts';
import { getRequest, getRequestByKey, messageKey } from '../store.ts';
import { type ApprovalVia, approveCheck, checksFor } from './store.ts';

export type ApproveDeps = Pick<ProcessDeps, 'db' | 'channels' | 'config' | 'slack' | 'log'>;

export interface Approval {
  by: string;
  via: ApprovalVia;
  /** A person's amount in place of the computed one (the API and the console); absent: as computed. */
  correctedCents?: number | null;
}

export async function approveHeldReply(
  deps: ApproveDeps,
  id: string,
  approval: Approval,
): Promise<{ request: CreditRequestRow; check: CreditCheckRow }> {
  const { db } = deps;
  const done = await withTransaction(db, async (tx) => {
    const request = await getRequest(tx, id);
    if (!request) throw notFound(`Credit request ${id}`);
    if (request.status !== 'done' || !request.summary)
      throw new AppError('conflict', `Credit request ${id} is ${request.status}: nothing waits for approval`);
    const summary = request.summary as CreditSummary;
    // A "correction" to the computed amount is an approval as computed, recorded as such.
    const correctedCents =
      approval.correctedCents != null && approval.correctedCents !== summary.amountCents
        ? approval.correctedCents
        : null;
    const check = await approveCheck(tx, id, { by: approval.by, via: approval.via, correctedCents });
    if (!check) {
      const existing = (await checksFor(tx, [id])).get(id);
      throw new AppError(
        'conflict',
        existing?.approvedAt
          ? `Credit request ${id} was approved by ${existing.approvedBy} at ${existing.approvedAt.toISOString()}`
          : `Credit request ${id} has no held reply`,
      );
    }
    await enqueueReply(
      deps,
      request,
      summary,
      {
        note: check.replyNote,
        correction: correctedCents === null ? null : { cents: correctedCents, by: approval.by },
      },
      tx,
    );
    return { request, check };
  });
  try {
    await deps.slack.react(done.request.channel, done.request.ts, deps.config.reactions.done);
  } catch (error) {
    deps.log.warn({ requestId: id, err: error }, 'could not add a reaction');
  }
  deps.log.info(
    { requestId: id, by: approval.by, via: approval.via, correctedCents: done.check.correctedCents },
    done.check.correctedCents === null
      ? 'held credit reply approved'
      : 'held credit reply corrected and approved',
  );
  return done;
}

export type ReactionOutcome = 'approved' | 'ignored';

/** A `reaction_added` in Slack: the approval reaction, by an allowed user, on a held request. */
export async function approveByReaction(
  deps: ApproveDeps,
  event: { user?: string; reaction?: string; item?: { type?: string; channel?: string; ts?: string } },
): Promise<{ outcome: ReactionOutcome; reason?: string }> {
  const { user, reaction, item } = event;
  if (reaction !== deps.config.model.approveReaction)
    return { outcome: 'ignored', reason: 'another reaction' };
  if (item?.type !== 'message' || !item.channel || !item.ts)
    return { outcome: 'ignored', reason: 'not on a message' };
  if (!user || !deps.config.model.approvers.includes(user)) {
    deps.log.info(
      { user, channel: item.channel },
      'approval reaction by a user not in CREDITS_APPROVERS ignored',
    );
    return { outcome: 'ignored', reason: 'not an approver' };
  }
  const request = await getRequestByKey(deps.db.orm, messageKey(item.channel, item.ts));
  if (!request) return { outcome: 'ignored', reason: 'not a credit request' };
  const check = (await checksFor(deps.db.orm, [request.id])).get(request.id);
  if (!check?.held || check.approvedAt) return { outcome: 'ignored', reason: 'nothing held' };
  try {
    await approveHeldReply(deps, request.id, { by: user, via: 'slack' });
    return { outcome: 'approved' };
  } catch (error) {
    // Another approval got there first: the reply went once.
    if (error instanceof AppError && error.code === 'conflict')
      return { outcome: 'ignored', reason: error.message };
    throw error;
  }
}
