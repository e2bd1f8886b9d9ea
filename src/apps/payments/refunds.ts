// Refunds an operator asks for (POST /payments/:id/refunds): fully or in part, never more than was
// charged, each exactly once. The amount is reserved on the payment's row (refund-store.ts) in the
// same transaction that records the refund, so two operators refunding at once cannot together pass
// the charge; then Stripe is asked with an idempotency key derived from our refund's id, so the SDK's
// retries after a 5xx, the retry job and a repeated request (same Idempotency-Key header) all reach
// Stripe as one refund. Stripe's webhooks (`refund.*`, `charge.refunded`) record how it ended.
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { Database } from '../../platform/db/database.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Logger } from '../../platform/log.ts';
import { formatMoney } from '../../platform/money.ts';
import { errorText } from '../../platform/redact.ts';
import {
  applyRefundStatus,
  findRefundByRequestKey,
  insertRefund,
  lockPayment,
  refuseRefund,
  reserveRefund,
  unansweredRefunds,
} from './refund-store.ts';
import type { PaymentRefundRow } from './schema.ts';
import type { StripeClient } from './stripe-gateway.ts';

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export interface RefundDeps {
  db: Database;
  stripe: StripeClient | null;
  log: Logger;
}

export interface RefundRequest {
  paymentIntentId: string;
  /** Omitted: whatever of the charge is not refunded yet. */
  amountMinor?: number;
  reason: RefundReason;
  /** The caller's Idempotency-Key: the same key again answers the same refund. */
  requestKey?: string;
}

export interface RefundView {
  id: string;
  paymentIntentId: string;
  stripeRefundId: string | null;
  amountMinor: number;
  currency: string;
  reason: string | null;
  status: string;
  failureReason: string | null;
  source: string;
  createdAt: string;
  updatedAt: string;
}

export interface RefundAnswer {
  refund: RefundView;
  /** False when a repeated request (same Idempotency-Key) answered an earlier refund. */
  created: boolean;
}

export const refundView = (row: PaymentRefundRow): RefundView => ({
  id: row.id,
  paymentIntentId: row.paymentIntentId,
  stripeRefundId: row.stripeRefundId,
  amountMinor: row.amountMinor,
  currency: row.currency,
  reason: row.reason,
  status: row.status,
  failureReason: row.failureReason,
  source: row.source,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export const refundIdempotencyKey = (refundId: string) => `paybot:refund:${refundId}`;

export async function requestRefund(deps: RefundDeps, request: RefundRequest): Promise<RefundAnswer> {
  const stripe = deps.stripe;
  if (!stripe)
    throw new AppError(
      'not_found',
      'Card payments are not configured (STRIPE_SECRET_KEY), so nothing can be refunded',
    );
  const { row, created } = await withTransaction(deps.db, async (tx) => {
    // The payment's lock first: refunds of one payment (and repeats of one request) queue here.
    const payment = await lockPayment(tx, request.paymentIntentId);
    if (!payment) throw notFound(`Payment ${request.paymentIntentId}`);
    if (request.requestKey) {
      const earlier = await findRefundByRequestKey(tx, request.paymentIntentId, request.requestKey);
      if (earlier) {
        if (
          earlier.reason !== request.reason ||
          (request.amountMinor !== undefined && request.amountMinor !== earlier.amountMinor)
        )
          throw new AppError(
            'conflict',
            'This Idempotency-Key was used for a refund with other parameters; use a new key for a new refund',
          );
        return { row: earlier, created: false };
      }
    }
    if (payment.status !== 'succeeded')
      throw new AppError(
        'conflict',
        `Payment ${payment.paymentIntentId} is ${payment.status}: only a succeeded payment can be refunded`,
      );
    const left = payment.amountMinor - payment.refundedMinor;
    if (left <= 0)
      throw new AppError('conflict', `Payment ${payment.paymentIntentId} is already refunded in full`);
    const amount = request.amountMinor ?? left;
    if (amount > left)
      throw new AppError(
        'conflict',
        `At most ${formatMoney(left, payment.currency)} of this payment can still be refunded`,
        { details: [{ field: 'body.amount_minor', message: `at most ${left}` }] },
      );
    if (!(await reserveRefund(tx, request.paymentIntentId, amount)))
      throw new AppError('conflict', 'The payment changed while refunding; try again');
    const id = randomUUID();
    const inserted = await insertRefund(tx, {
      id,
      paymentIntentId: request.paymentIntentId,
      amountMinor: amount,
      currency: payment.currency,
      reason: request.reason,
      status: 'requested',
      idempotencyKey: refundIdempotencyKey(id),
      requestKey: request.requestKey ?? null,
      source: 'api',
    });
    return { row: inserted, created: true };
  });
  // A repeat of a request Stripe has not answered yet is sent again, under the same key.
  const answered = row.status === 'requested' ? await sendRefund(deps, stripe, row) : row;
  return { refund: refundView(answered), created };
}

/**
 * Asks Stripe for the refund a row describes. Stripe's refusal (4xx) ends the refund as failed and
 * frees its amount; no answer at all (network, 5xx after the SDK's retries) leaves it `requested`,
 * for a repeat or the retry job to send again under the same key: Stripe may have made it.
 */
async function sendRefund(
  deps: RefundDeps,
  stripe: Stripe,
  row: PaymentRefundRow,
): Promise<PaymentRefundRow> {
  let refund: Stripe.Refund;
  try {
    refund = await stripe.refunds.create(
      {
        payment_intent: row.paymentIntentId,
        amount: row.amountMinor,
        ...(row.reason ? { reason: row.reason as RefundReason } : {}),
        metadata: { paybot_refund: row.id },
      },
      { idempotencyKey: row.idempotencyKey },
    );
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    const message = errorText(error);
    if (typeof status === 'number' && status >= 400 && status < 500 && status !== 409 && status !== 429) {
      deps.log.warn(
        { refund: row.id, paymentIntent: row.paymentIntentId, status },
        'Stripe refused the refund',
      );
      await withTransaction(deps.db, (tx) => refuseRefund(tx, row.id, message));
      throw new AppError('conflict', `Stripe refused the refund: ${message}`);
    }
    deps.log.warn({ refund: row.id, err: error }, 'Stripe did not answer the refund; it stays requested');
    throw new AppError(
      'provider_unavailable',
      `Stripe did not answer; refund ${row.id} is recorded and will be sent again with the same idempotency key (it cannot refund twice)`,
    );
  }
  const updated = await withTransaction(deps.db, (tx) =>
    applyRefundStatus(tx, row.id, {
      stripeRefundId: refund.id,
      status: refund.status ?? 'pending',
      failureReason: refund.failure_reason ?? null,
    }),
  );
  // Null: a webhook already took it to a final state; the row as it stands is the answer.
  return updated ?? { ...row, stripeRefundId: refund.id, status: refund.status ?? row.status };
}

/**
 * The retry job: refunds still without Stripe's answer a minute on. Stripe is read back first (its
 * refunds of the payment, by the id we put in their metadata), because an idempotency key lasts 24
 * hours at Stripe: past that a resend would be a second refund. Only a refund Stripe does not have is
 * sent again, under the same key.
 */
export async function retryUnansweredRefunds(
  deps: RefundDeps,
): Promise<{ retried: number; answered: number }> {
  const stripe = deps.stripe;
  if (!stripe) return { retried: 0, answered: 0 };
  const rows = await unansweredRefunds(deps.db.orm, 60);
  let answered = 0;
  for (const row of rows) {
    try {
      const made = await findAtStripe(stripe, row);
      if (made)
        await withTransaction(deps.db, (tx) =>
          applyRefundStatus(tx, row.id, {
            stripeRefundId: made.id,
            status: made.status ?? 'pending',
            failureReason: made.failure_reason ?? null,
          }),
        );
      else await sendRefund(deps, stripe, row);
      answered += 1;
    } catch (error) {
      // A refusal is recorded by sendRefund; no answer waits for the next run.
      deps.log.debug({ refund: row.id, err: error }, 'refund retry: no answer from Stripe yet');
    }
  }
  return { retried: rows.length, answered };
}

async function findAtStripe(stripe: Stripe, row: PaymentRefundRow): Promise<Stripe.Refund | null> {
  for await (const refund of stripe.refunds.list({ payment_intent: row.paymentIntentId, limit: 100 })) {
    if (refund.metadata?.paybot_refund === row.id) return refund;
  }
  return null;
}
