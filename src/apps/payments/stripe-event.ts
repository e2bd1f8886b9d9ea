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
        })
        .loose(),
    }),
  })
  .loose();

export function verifyStripeEvent(
  stripe: Stripe,
  rawBody: string,
  signature: string,
  secret: string,
  nowMs = Date.now(),
): Stripe.Event {
  try {
    stripe.webhooks.signature!.verifyHeader(
      rawBody,
      signature,
      secret,
      STRIPE_TOLERANCE_SECONDS,
      undefined,
      nowMs,
    );
  } catch {
    throw new AppError('forbidden', 'The Stripe signature does not match, or its timestamp is too old');
  }
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
