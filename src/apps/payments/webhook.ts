// Stripe's webhook is the source of truth for a payment: only `payment_intent.succeeded` makes a
// session `completed` (and its invoice paid); `refund.*` and `charge.refunded` record how refunds ended. The event is verified against the raw body with the
// SDK, and its id is recorded in the same transaction as its effect, so a replay changes nothing.
import type Stripe from 'stripe';
import { firstSighting } from '../../platform/channels/webhook-events.ts';
import type { Database } from '../../platform/db/database.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import type { Logger } from '../../platform/log.ts';
import { settle } from './dialog/dialog.ts';
import { nextField } from './dialog/state.ts';
import {
  recordChargeRefund,
  recordStripeRefund,
  type StripeCharge,
  type StripeRefund,
} from './refund-events.ts';
import { markInvoicePaid, settleAttempt, updateSessionLocked } from './store.ts';
import { cardFromCheckout, type StripeClient } from './stripe-gateway.ts';

export type WebhookResult = 'processed' | 'ignored' | 'duplicate';

export interface WebhookDeps {
  db: Database;
  stripe: StripeClient;
  log: Logger;
}

export async function handleStripeEvent(deps: WebhookDeps, event: Stripe.Event): Promise<WebhookResult> {
  const { db, log } = deps;
  // Reading the card of a finished Checkout is a Stripe call: done before the transaction.
  const card =
    event.type === 'checkout.session.completed' && event.data.object.mode === 'setup'
      ? await cardFromCheckout(deps.stripe, event.data.object.id)
      : null;

  return withTransaction(db, async (tx) => {
    if (!(await firstSighting(tx, 'stripe', event.id))) return 'duplicate';
    switch (event.type) {
      case 'payment_intent.succeeded': {
        const intent = event.data.object;
        await settleAttempt(tx, intent.id, 'succeeded', null);
        const session = await updateSessionLocked(tx, { paymentIntentId: intent.id }, (state) =>
          settle(state, 'succeeded'),
        );
        const invoiceId = intent.metadata?.invoice_id;
        const paid = invoiceId ? await markInvoicePaid(tx, invoiceId) : false;
        log.info(
          { paymentIntent: intent.id, session: session?.id, invoiceId, invoicePaid: paid },
          'payment succeeded',
        );
        return 'processed';
      }
      case 'payment_intent.payment_failed': {
        const intent = event.data.object;
        const message = intent.last_payment_error?.message ?? 'The payment failed.';
        await settleAttempt(tx, intent.id, 'failed', message);
        await updateSessionLocked(tx, { paymentIntentId: intent.id }, (state) =>
          settle(state, 'failed', message),
        );
        log.info({ paymentIntent: intent.id }, 'payment failed');
        return 'processed';
      }
      case 'checkout.session.completed': {
        if (!card) return 'ignored';
        await updateSessionLocked(tx, { checkoutSessionId: event.data.object.id }, (state) => {
          if (state.card || state.status === 'completed') return state;
          const next = { ...state, card, checkoutSessionId: undefined };
          next.currentField = nextField(next);
          if (next.currentField === 'confirmation') next.status = 'confirming';
          return next;
        });
        return 'processed';
      }
      case 'refund.created':
      case 'refund.updated':
      case 'refund.failed':
        return recordStripeRefund(tx, event.data.object as unknown as StripeRefund, log);
      case 'charge.refunded':
        return recordChargeRefund(tx, event.data.object as unknown as StripeCharge, log);
      default:
        return 'ignored';
    }
  });
}
