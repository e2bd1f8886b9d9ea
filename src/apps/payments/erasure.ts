// Retention and erasure of a person's data in PayBot. PayBot keeps no transcript: what a
// conversation leaves is the dialog state in chat_sessions (the name, the receipt email, the card's
// brand/last 4/expiry as Stripe described it, the amount, Stripe's ids). Erasing a session removes
// the person from it; what accounting needs stays:
//  - in payment_attempts and payment_refunds, which never held personal data: the payment id (the
//    idempotency key and the PaymentIntent id), amount, currency, dates, status, refunds, Stripe ids;
//  - in the session row, kept as a stub when it made a charge attempt: status, amount, currency,
//    invoice id and Stripe ids, so a payment still leads to its session (disputes, reconciliation).
// A session that never sent a charge has nothing worth keeping and is deleted outright.
// The same erasure runs for the retention job (sessions past CHAT_RETENTION_DAYS), for
// `switchboard payments erase` and for POST /payments/erasures.
import type { Database } from '../../platform/db/database.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import type { DialogState } from './dialog/state.ts';
import { deleteSession, type ErasureTarget, lockSessionsToErase, markSessionErased } from './store.ts';

/** The accounting fields of a dialog state; nothing that names or reaches a person, no card details. */
export function erasedState(state: DialogState): DialogState {
  const kept: DialogState = {
    status: state.status,
    currentField: state.currentField,
    attempt: state.attempt,
    retries: 0,
  };
  if (state.amountMinor !== undefined) kept.amountMinor = state.amountMinor;
  if (state.currency) kept.currency = state.currency;
  if (state.invoiceId) kept.invoiceId = state.invoiceId;
  if (state.paymentIntentId) kept.paymentIntentId = state.paymentIntentId;
  if (state.checkoutSessionId) kept.checkoutSessionId = state.checkoutSessionId;
  if (state.chargeStatus) kept.chargeStatus = state.chargeStatus;
  return kept;
}

export interface ErasureResult {
  /** Sessions whose person's data was removed, the row kept for its payments. */
  erased: number;
  /** Sessions deleted outright (no charge attempt). */
  deleted: number;
}

const BATCH = 500;

/** Erases what `target` names, now; for retention, in batches until none is left. */
export async function eraseSessions(db: Database, target: ErasureTarget): Promise<ErasureResult> {
  const result: ErasureResult = { erased: 0, deleted: 0 };
  for (;;) {
    const batch = await withTransaction(db, async (tx) => {
      const sessions = await lockSessionsToErase(tx, target, BATCH);
      for (const session of sessions) {
        if (session.hasAttempts) {
          await markSessionErased(tx, session.id, erasedState(session.state));
          result.erased += 1;
        } else {
          await deleteSession(tx, session.id);
          result.deleted += 1;
        }
      }
      return sessions.length;
    });
    // Erased rows match no more (no email in them, erased_at set), so a short batch is the last.
    if (batch < BATCH || 'sessionId' in target) return result;
  }
}
