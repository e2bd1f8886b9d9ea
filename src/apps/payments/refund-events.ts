// What Stripe's webhooks say about refunds, recorded: `refund.created`, `refund.updated` and
// `refund.failed` carry the Refund; `charge.refunded` the Charge with Stripe's refunded total (and,
// on API versions that include it, its refunds). A refund made in Stripe's dashboard is recorded
// too (source `stripe`), so the payment's refundable amount stays true.
import { randomUUID } from 'node:crypto';
import type { Tx } from '../../platform/db/transaction.ts';
import type { Logger } from '../../platform/log.ts';
import {
  applyRefundStatus,
  findRefundForStripe,
  insertRefund,
  lockPayment,
  recordChargeRefunded,
  reserveRefund,
  UNDONE_REFUND_STATUSES,
} from './refund-store.ts';
import { refundIdempotencyKey } from './refunds.ts';

export interface StripeRefund {
  id: string;
  amount: number;
  status?: string | null;
  payment_intent?: string | null;
  failure_reason?: string | null;
  metadata?: Record<string, string> | null;
}

export interface StripeCharge {
  id: string;
  payment_intent?: string | null;
  amount_refunded?: number | null;
  refunds?: { data: StripeRefund[] } | null;
}

export async function recordStripeRefund(
  tx: Tx,
  refund: StripeRefund,
  log: Logger,
): Promise<'processed' | 'ignored'> {
  const status = refund.status ?? 'pending';
  const ours = await findRefundForStripe(tx, refund.id, refund.metadata?.paybot_refund);
  if (ours) {
    await applyRefundStatus(tx, ours.id, {
      stripeRefundId: refund.id,
      status,
      failureReason: refund.failure_reason ?? null,
    });
    log.info({ refund: ours.id, stripeRefund: refund.id, status }, 'refund status from Stripe');
    return 'processed';
  }
  // Not one of ours: made at Stripe. Recorded when its payment is ours.
  if (!refund.payment_intent || !Number.isSafeInteger(refund.amount) || refund.amount < 1) return 'ignored';
  const payment = await lockPayment(tx, refund.payment_intent);
  if (!payment) return 'ignored';
  const counts = !(UNDONE_REFUND_STATUSES as readonly string[]).includes(status);
  if (counts && !(await reserveRefund(tx, refund.payment_intent, refund.amount)))
    // Stripe never refunds past the charge, so our own reservations would be wrong: say so loudly.
    log.error(
      { paymentIntent: refund.payment_intent, stripeRefund: refund.id },
      'a refund made at Stripe passes what this payment has left to refund here; reconcile by hand',
    );
  const id = randomUUID();
  await insertRefund(tx, {
    id,
    paymentIntentId: refund.payment_intent,
    amountMinor: refund.amount,
    currency: payment.currency,
    reason: null,
    status,
    idempotencyKey: refundIdempotencyKey(id),
    requestKey: null,
    stripeRefundId: refund.id,
    failureReason: refund.failure_reason ?? null,
    source: 'stripe',
  });
  log.info({ refund: id, stripeRefund: refund.id, status }, 'refund made at Stripe recorded');
  return 'processed';
}

export async function recordChargeRefund(
  tx: Tx,
  charge: StripeCharge,
  log: Logger,
): Promise<'processed' | 'ignored'> {
  if (!charge.payment_intent || typeof charge.amount_refunded !== 'number') return 'ignored';
  for (const refund of charge.refunds?.data ?? [])
    await recordStripeRefund(tx, { payment_intent: charge.payment_intent, ...refund }, log);
  await recordChargeRefunded(tx, charge.payment_intent, charge.id, charge.amount_refunded);
  return 'processed';
}
