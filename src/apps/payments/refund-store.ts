// Data access for refunds (store.ts's sibling, split to keep each file to one idea). The amount a
// payment may still give back is `amount_minor - refunded_minor` of its payment_attempts row; a
// refund reserves its amount there, under the row's lock, before Stripe is asked, and gives it back
// only when Stripe says the refund failed or was canceled. The check constraint on that row makes
// over-refunding impossible even for code that forgets the lock.
import { and, eq, inArray, sql } from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import { type PaymentAttemptRow, type PaymentRefundRow, paymentAttempts, paymentRefunds } from './schema.ts';

/** Stripe's final refund states that return nothing to the customer: their amount is free again. */
export const UNDONE_REFUND_STATUSES = ['failed', 'canceled'] as const;
const isUndone = (status: string) => (UNDONE_REFUND_STATUSES as readonly string[]).includes(status);

/** The charge of a PaymentIntent, locked until the transaction ends (refunds of one payment queue here). */
export async function lockPayment(tx: DbOrTx, paymentIntentId: string): Promise<PaymentAttemptRow | null> {
  const [row] = await tx
    .select()
    .from(paymentAttempts)
    .where(eq(paymentAttempts.paymentIntentId, paymentIntentId))
    .for('update');
  return row ?? null;
}

/**
 * Reserves `amount` of the payment for a refund; false when that would pass what was charged. One
 * conditional statement: under concurrent callers PostgreSQL re-checks the condition on the row
 * version it finally updates.
 */
export async function reserveRefund(tx: DbOrTx, paymentIntentId: string, amount: number): Promise<boolean> {
  const rows = await tx
    .update(paymentAttempts)
    .set({ refundedMinor: sql`${paymentAttempts.refundedMinor} + ${amount}`, updatedAt: sql`now()` })
    .where(
      and(
        eq(paymentAttempts.paymentIntentId, paymentIntentId),
        sql`${paymentAttempts.refundedMinor} + ${amount} <= ${paymentAttempts.amountMinor}`,
      ),
    )
    .returning({ id: paymentAttempts.idempotencyKey });
  return rows.length > 0;
}

async function releaseRefund(tx: DbOrTx, paymentIntentId: string, amount: number): Promise<void> {
  await tx
    .update(paymentAttempts)
    .set({
      refundedMinor: sql`greatest(0, ${paymentAttempts.refundedMinor} - ${amount})`,
      updatedAt: sql`now()`,
    })
    .where(eq(paymentAttempts.paymentIntentId, paymentIntentId));
}

export async function findRefundByRequestKey(
  tx: DbOrTx,
  paymentIntentId: string,
  requestKey: string,
): Promise<PaymentRefundRow | null> {
  const [row] = await tx
    .select()
    .from(paymentRefunds)
    .where(
      and(eq(paymentRefunds.paymentIntentId, paymentIntentId), eq(paymentRefunds.requestKey, requestKey)),
    );
  return row ?? null;
}

export async function insertRefund(
  tx: DbOrTx,
  refund: {
    id: string;
    paymentIntentId: string;
    amountMinor: number;
    currency: string;
    reason: string | null;
    status: string;
    idempotencyKey: string;
    requestKey: string | null;
    stripeRefundId?: string | null;
    failureReason?: string | null;
    source: 'api' | 'stripe';
  },
): Promise<PaymentRefundRow> {
  const [row] = await tx.insert(paymentRefunds).values(refund).returning();
  if (!row) throw new Error('insertRefund: no row returned');
  return row;
}

/**
 * Applies Stripe's word on a refund (its API answer or a webhook): its id, status and failure
 * reason. A refund Stripe failed or canceled gives its amount back to the payment, once: those states
 * are final, so a later (or replayed, or out of order) message cannot move it again.
 */
export async function applyRefundStatus(
  tx: DbOrTx,
  id: string,
  update: { stripeRefundId: string; status: string; failureReason: string | null },
): Promise<PaymentRefundRow | null> {
  const [row] = await tx
    .update(paymentRefunds)
    .set({
      stripeRefundId: update.stripeRefundId,
      status: update.status,
      failureReason: update.failureReason,
      updatedAt: sql`now()`,
    })
    .where(and(eq(paymentRefunds.id, id), sql`${paymentRefunds.status} not in ('failed', 'canceled')`))
    .returning();
  if (row && isUndone(update.status)) await releaseRefund(tx, row.paymentIntentId, row.amountMinor);
  return row ?? null;
}

/** Stripe refused the request outright (a 4xx): the refund never happened, its amount is free again. */
export async function refuseRefund(tx: DbOrTx, id: string, reason: string): Promise<PaymentRefundRow | null> {
  const [row] = await tx
    .update(paymentRefunds)
    .set({ status: 'failed', failureReason: reason, updatedAt: sql`now()` })
    .where(and(eq(paymentRefunds.id, id), eq(paymentRefunds.status, 'requested')))
    .returning();
  if (row) await releaseRefund(tx, row.paymentIntentId, row.amountMinor);
  return row ?? null;
}

/** Ours by Stripe's id, or by the id we put in its metadata (a webhook may beat the API's answer). */
export async function findRefundForStripe(
  tx: DbOrTx,
  stripeRefundId: string,
  ourId: string | undefined,
): Promise<PaymentRefundRow | null> {
  const [byStripe] = await tx
    .select()
    .from(paymentRefunds)
    .where(eq(paymentRefunds.stripeRefundId, stripeRefundId))
    .for('update');
  if (byStripe) return byStripe;
  if (!ourId || !/^[0-9a-f-]{36}$/i.test(ourId)) return null;
  const [byOurs] = await tx.select().from(paymentRefunds).where(eq(paymentRefunds.id, ourId)).for('update');
  return byOurs ?? null;
}

/** Refunds Stripe has not answered yet (a network failure or 5xx after the SDK's retries). */
export async function unansweredRefunds(db: DbOrTx, olderThanSeconds: number): Promise<PaymentRefundRow[]> {
  return db
    .select()
    .from(paymentRefunds)
    .where(
      and(
        eq(paymentRefunds.status, 'requested'),
        sql`${paymentRefunds.updatedAt} < now() - ${olderThanSeconds} * interval '1 second'`,
      ),
    )
    .limit(100);
}

export async function recordChargeRefunded(
  tx: DbOrTx,
  paymentIntentId: string,
  chargeId: string,
  amountRefunded: number,
): Promise<void> {
  await tx
    .update(paymentAttempts)
    .set({ chargeId, stripeRefundedMinor: amountRefunded, updatedAt: sql`now()` })
    .where(eq(paymentAttempts.paymentIntentId, paymentIntentId));
}

export async function refundsOf(db: DbOrTx, paymentIntentIds: string[]): Promise<PaymentRefundRow[]> {
  if (paymentIntentIds.length === 0) return [];
  return db
    .select()
    .from(paymentRefunds)
    .where(inArray(paymentRefunds.paymentIntentId, paymentIntentIds))
    .orderBy(paymentRefunds.createdAt, paymentRefunds.id);
}
