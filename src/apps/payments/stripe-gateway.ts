// Everything PayBot asks of Stripe, through the official SDK. Card data never passes here: Stripe's
// UI collects the card and gives back a ConfirmationToken (embedded) or a completed Checkout
// Session in setup mode (hosted); we only ever read brand, last 4 digits and expiry.
// The SDK (about 200 modules) is imported only when a secret key is set.
import type Stripe from 'stripe';
import { inSpan, SpanKind, tracingEnabled } from '../../platform/tracing/tracing.ts';
import type { PaymentsConfig } from './config.ts';
import type { ChargeResult } from './dialog/dialog.ts';
import type { CardSource, CardSummary, DialogState } from './dialog/state.ts';

export type StripeClient = Stripe;

export async function createStripe(
  config: PaymentsConfig['stripe'],
  timeoutMs: number,
): Promise<Stripe | null> {
  if (!config.secretKey) return null;
  const { default: Stripe } = await import('stripe');
  return new Stripe(config.secretKey, {
    ...config.api,
    // Network errors, 409 and 5xx are retried by the SDK with the same Idempotency-Key.
    maxNetworkRetries: config.maxNetworkRetries,
    timeout: timeoutMs,
    telemetry: false,
    ...(tracingEnabled() ? { httpClient: tracedHttpClient(Stripe.createNodeHttpClient()) } : {}),
  });
}

/**
 * The SDK's own HTTP client with a CLIENT span per request to Stripe (each retry its own), the
 * seam every Stripe call passes through. Method, path, status and idempotency key only: the body
 * (amounts, emails) stays out of traces.
 */
function tracedHttpClient(client: NonNullable<Stripe.StripeConfig['httpClient']>) {
  return {
    getClientName: () => client.getClientName(),
    makeRequest: (...args: Parameters<typeof client.makeRequest>) => {
      const [host, , path, method, headers] = args;
      const key = (headers as Record<string, unknown>)['Idempotency-Key'];
      return inSpan(
        `stripe ${method}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'server.address': host,
            'http.request.method': method,
            'url.path': path.split('?')[0] ?? path,
            ...(typeof key === 'string' ? { 'stripe.idempotency_key': key } : {}),
          },
        },
        async (span) => {
          const response = await client.makeRequest(...args);
          span.setAttribute('http.response.status_code', response.getStatusCode());
          return response;
        },
      );
    },
  };
}

/** What the client needs to show the card step. */
export type CardStep =
  | { mode: 'hosted'; checkoutUrl: string; checkoutSessionId: string }
  | { mode: 'embedded'; publishableKey: string; amount: number; currency: string };

export const idempotencyKey = (sessionId: string, what: 'checkout' | 'charge', attempt: number) =>
  `paybot:${sessionId}:${what}:${attempt}`;

export async function openCardStep(
  stripe: Stripe,
  config: PaymentsConfig,
  sessionId: string,
  state: DialogState,
  returnUrl: string,
): Promise<CardStep> {
  const amount = state.amountMinor ?? 0;
  const currency = (state.currency ?? config.defaultCurrency).toLowerCase();
  if (config.cardMode === 'embedded') {
    // Deferred intent: the Payment Element is built from amount and currency and gives back a
    // ConfirmationToken; the PaymentIntent is created (and confirmed) only when the customer says yes.
    return { mode: 'embedded', publishableKey: config.stripe.publishableKey ?? '', amount, currency };
  }
  // Setup mode: Checkout collects and saves the card without charging it, so the conversation can
  // still show the summary and ask for confirmation before any money moves.
  const back = new URL(returnUrl);
  back.searchParams.set('session', sessionId);
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'setup',
      currency,
      client_reference_id: sessionId,
      metadata: { paybot_session: sessionId },
      success_url: `${back.toString()}&checkout=done`,
      cancel_url: `${back.toString()}&checkout=cancelled`,
    },
    { idempotencyKey: idempotencyKey(sessionId, 'checkout', state.attempt) },
  );
  return { mode: 'hosted', checkoutUrl: session.url ?? '', checkoutSessionId: session.id };
}

export type CollectedCard = CardSummary & { source: CardSource };

function summarize(card: { brand: string; last4: string; exp_month: number; exp_year: number }): CardSummary {
  return { brand: card.brand, last4: card.last4, expMonth: card.exp_month, expYear: card.exp_year };
}

export async function cardFromConfirmationToken(stripe: Stripe, id: string): Promise<CollectedCard | null> {
  const token = await stripe.confirmationTokens.retrieve(id);
  const card = token.payment_method_preview?.card;
  return card ? { ...summarize(card), source: { kind: 'confirmation_token', id: token.id } } : null;
}

/** The card a completed setup-mode Checkout Session saved; null while the customer has not finished. */
export async function cardFromCheckout(
  stripe: Stripe,
  checkoutSessionId: string,
): Promise<CollectedCard | null> {
  const session = await stripe.checkout.sessions.retrieve(checkoutSessionId, {
    expand: ['setup_intent.payment_method'],
  });
  if (session.status !== 'complete') return null;
  const setupIntent = session.setup_intent;
  const method = setupIntent && typeof setupIntent === 'object' ? setupIntent.payment_method : null;
  if (!method || typeof method !== 'object' || !method.card) return null;
  return {
    ...summarize(method.card),
    source: { kind: 'payment_method', id: method.id, checkoutSessionId },
  };
}

export interface ChargeOutcome {
  result: ChargeResult;
  /** For `requires_action`: what Stripe.js needs to run the bank's check (3-D Secure). */
  clientAction?: { clientSecret: string; nextAction: unknown };
  /** A Stripe failure to log (never shown to the customer). */
  failure?: string;
}

export async function charge(
  stripe: Stripe,
  sessionId: string,
  state: DialogState,
  returnUrl: string,
): Promise<ChargeOutcome> {
  const card = state.card;
  if (!card || state.amountMinor === undefined || !state.currency)
    throw new Error('charge: the dialog asked to charge before it had amount and card');
  const source =
    card.source.kind === 'confirmation_token'
      ? { confirmation_token: card.source.id }
      : { payment_method: card.source.id };
  try {
    const intent = await stripe.paymentIntents.create(
      {
        amount: state.amountMinor,
        currency: state.currency.toLowerCase(),
        confirm: true,
        ...source,
        return_url: returnUrl,
        // Stripe emails its own receipt when the payment succeeds (live mode; test mode sends none).
        ...(state.receiptEmail ? { receipt_email: state.receiptEmail } : {}),
        metadata: { paybot_session: sessionId, ...(state.invoiceId ? { invoice_id: state.invoiceId } : {}) },
        ...(state.invoiceId ? { description: `Invoice ${state.invoiceId}` } : {}),
      },
      // Derived from the session and the attempt: a repeated "yes" or a client retry of the same
      // attempt is the same request to Stripe, which answers it once.
      { idempotencyKey: idempotencyKey(sessionId, 'charge', state.attempt) },
    );
    if (intent.status === 'requires_action') {
      return {
        result: { kind: 'requires_action', paymentIntentId: intent.id },
        clientAction: { clientSecret: intent.client_secret ?? '', nextAction: intent.next_action },
      };
    }
    if (intent.status === 'succeeded') return { result: { kind: 'succeeded', paymentIntentId: intent.id } };
    if (intent.status === 'processing') return { result: { kind: 'processing', paymentIntentId: intent.id } };
    const message = intent.last_payment_error?.message ?? 'The payment could not be completed.';
    return { result: { kind: 'declined', message } };
  } catch (error) {
    // The SDK's StripeCardError, by its documented `type` (the class lives in the lazily loaded SDK).
    if ((error as { type?: unknown } | null)?.type === 'StripeCardError') {
      const card = error as Stripe.errors.StripeCardError;
      // The bank's answer, phrased by Stripe for the cardholder.
      return { result: { kind: 'declined', message: card.userMessage ?? card.message } };
    }
    return {
      result: { kind: 'unavailable' },
      failure: error instanceof Error ? error.message : String(error),
    };
  }
}
