// A Stripe webhook request, verified and validated before anything acts on it. The SDK checks the
// HMAC (`Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`) and refuses a
// timestamp older than the tolerance, but not one in the future: that is checked here, so a
// request signed "for tomorrow" cannot be replayed all day. The body is then parsed against the
// fields the webhook handler reads, so a signed `null`, `{}` or `data.object: null` is a 400.
import type Stripe from 'stripe';
import { z } from 'zod';
import { parseSignedJson } from '../../platform/channels/webhooks/signed-payload.ts';
import { AppError } from '../../platform/errors.ts';

export const STRIPE_TOLERANCE_SECONDS = 300;

const id = z.string().min(1).max(255);
const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A Refund, in refund.* events and in a Charge's `refunds` list. */
const refundObject = z
  .object({
    id,
    amount: minor,
    currency: z.string().max(10).nullish(),
    status: z.string().max(40).nullish(),
    payment_intent: id.nullish(),
    failure_reason: z.string().max(200).nullish(),
    metadata: z.record(z.string().max(100), z.string().max(500)).nullish(),
  })
  .loose();
const stripeEventSchema = z
  .object({
    id,
    type: z.string().min(1).max(255),
    data: z.object({
      object: z
        .object({
          id,
          mode: z.string().max(50).nullish(),
          metadata: z.record(z.string().max(100), z.string().max(500)).nullish(),
          last_payment_error: z
            .object({ message: z.string().max(5000).nullish() })
            .loose()
            .nullish(),
          // Refunds and charges (refund.*, charge.refunded).
          amount: minor.nullish(),
          amount_refunded: minor.nullish(),
          status: z.string().max(40).nullish(),
          payment_intent: id.nullish(),
          failure_reason: z.string().max(200).nullish(),
          refunds: z
            .object({ data: z.array(refundObject).max(1000) })
            .loose()
            .nullish(),
        })
        .loose(),
    }),
  })
  .loose();

export function verifyStripeEvent(
  stripe: Stripe,
  rawBody: string,
  signature: string,
  secrets: readonly string[],
  nowMs = Date.now(),
): Stripe.Event {
  // During a rotation Stripe signs with the new secret (and, for a while, the old one too: one v1=
  // each); any configured secret that matches verifies.
  const verified = secrets.some((secret) => {
    try {
      stripe.webhooks.signature!.verifyHeader(
        rawBody,
        signature,
        secret,
        STRIPE_TOLERANCE_SECONDS,
        undefined,
        nowMs,
      );
      return true;
    } catch {
      return false;
    }
  });
  if (!verified)
    throw new AppError('forbidden', 'The Stripe signature does not match, or its timestamp is too old');
  const signedAt = signedTimestamp(signature);
  if (!Number.isFinite(signedAt) || signedAt * 1000 > nowMs + STRIPE_TOLERANCE_SECONDS * 1000)
    throw new AppError('forbidden', 'The Stripe signature timestamp is in the future');
  // The handler reads only the fields checked here; the rest is Stripe's as sent.
  return parseSignedJson(rawBody, stripeEventSchema, 'Stripe event') as unknown as Stripe.Event;
}

/** The `t=` the SDK verified against: like the SDK, the last one in the header. */
function signedTimestamp(header: string): number {
  let timestamp = Number.NaN;
  for (const part of header.split(',')) {
    const [key, value] = part.split('=');
    if (key?.trim() === 't') timestamp = /^\d{1,12}$/.test(value?.trim() ?? '') ? Number(value) : Number.NaN;
  }
  return timestamp;
}
