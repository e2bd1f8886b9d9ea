// Fake Stripe API (a test double) speaking Stripe's wire format to the real `stripe` SDK pointed at it
// with host/port/protocol: form-encoded bodies with bracketed keys (metadata[k]=v, expand[0]=...),
// Bearer secret key, `Idempotency-Key` honoured (same key + same parameters: the stored answer
// again; different parameters: 400 idempotency_error), Stripe's error JSON { error: { type, code,
// decline_code, message } }, and the objects PayBot uses: PaymentIntents (confirm with a
// confirmation_token or payment_method; succeeded, requires_action with next_action, card_declined),
// Checkout Sessions (setup mode, completed by the test), ConfirmationTokens (made by the test, as
// Stripe.js would), Refunds (never more than the charge: Stripe's own 400 otherwise; `succeeded`, or
// `pending` when the test says so), and webhook events signed with the SDK's own test header helper.
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import {
  type FakeResponse,
  type HttpFake,
  quoteRequest,
  type RecordedRequest,
  startHttpFake,
} from './http-fake.ts';

/** How a card behaves when charged, like Stripe's test cards (4242..., 4000 0000 0000 9995, 4000 0027 6000 3184). */
export type CardBehaviour =
  | { outcome: 'succeed' }
  | { outcome: 'decline'; declineCode: string; message: string }
  | { outcome: '3ds' };

export interface FakeCard {
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  behaviour: CardBehaviour;
}

export interface FakePaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  currency: string;
  status: 'succeeded' | 'requires_action' | 'requires_payment_method';
  client_secret: string;
  metadata: Record<string, string>;
  next_action: unknown;
  last_payment_error: unknown;
  payment_method: string | null;
  description: string | null;
  latest_charge: string | null;
  /** What the fake's refunds took back (Stripe's charge.amount_refunded). */
  amount_refunded: number;
  receipt_email: string | null;
}

export interface FakeRefund {
  id: string;
  object: 'refund';
  amount: number;
  currency: string;
  payment_intent: string;
  charge: string | null;
  reason: string | null;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled' | 'requires_action';
  failure_reason: string | null;
  metadata: Record<string, string>;
  created: number;
}

export interface FakeStripe {
  url: string;
  http: HttpFake;
  secretKey: string;
  webhookSecret: string;
  /** Every PaymentIntent created: one per real charge, whatever the retries. */
  paymentIntents: FakePaymentIntent[];
  checkoutSessions: Map<string, Record<string, unknown>>;
  /** Every Refund created: one per real refund, whatever the retries. */
  refunds: FakeRefund[];
  /** The status new refunds get (`succeeded` by default; `pending` as for bank transfers or slow networks). */
  refundStatus: FakeRefund['status'];
  /** The charge object Stripe sends in charge.refunded for a PaymentIntent. */
  chargeOf(paymentIntentId: string): Record<string, unknown>;
  /** Environment pointing Switchboard at this fake. */
  env: Record<string, string>;
  /** Next matching requests fail with a 400 invalid_request_error quoting the request (the key too). */
  failQuotingRequest(options?: { times?: number }): void;
  /** What Stripe.js's createConfirmationToken would make after the customer typed a card. */
  createConfirmationToken(card?: Partial<FakeCard>): string;
  /** The customer finished the hosted Checkout page with this card. */
  completeCheckout(id: string, card?: Partial<FakeCard>): void;
  /** The customer passed (or failed) the 3-D Secure check of a PaymentIntent. */
  finishAuthentication(paymentIntentId: string, passed: boolean): FakePaymentIntent;
  /** A webhook event body and its Stripe-Signature header, signed with the SDK's test helper. */
  signEvent(
    type: string,
    object: object,
    options?: { id?: string; timestamp?: number; secret?: string },
  ): { body: string; signature: string };
  close(): Promise<void>;
}

export const DEFAULT_CARD: FakeCard = {
  brand: 'visa',
  last4: '4242',
  exp_month: 12,
  exp_year: 2030,
  behaviour: { outcome: 'succeed' },
};

const DECLINING: Partial<FakeCard> = {
  last4: '0002',
  behaviour: { outcome: 'decline', declineCode: 'generic_decline', message: 'Your card was declined.' },
};

/**
 * Just the part of Stripe.js the /pay page uses: Stripe(pk), elements({mode, amount, currency}),
 * create('payment').mount(selector), elements.submit(), createConfirmationToken({elements}) and
 * handleNextAction({clientSecret}). The "Payment Element" is a placeholder with no card input: the
 * token is made by this fake's API from the publishable key, as the real Stripe.js does.
 */
const FAKE_STRIPE_JS = `(function () {
  var api = new URL(document.currentScript.src).origin;
  window.Stripe = function (key) {
    return {
      elements: function (options) {
        return {
          options: options,
          create: function (type) {
            return {
              mount: function (selector) {
                var el = document.querySelector(selector);
                el.setAttribute('data-fake-stripe-element', type);
                el.textContent = 'Stripe ' + type + ' element (' + options.amount + ' ' + options.currency + ')';
              }
            };
          },
          submit: function () { return Promise.resolve({}); }
        };
      },
      createConfirmationToken: function () {
        var body = new URLSearchParams({ key: key, 'payment_method_data[type]': 'card' });
        return fetch(api + '/v1/confirmation_tokens', { method: 'POST', body: body })
          .then(function (r) { return r.json(); })
          .then(function (token) { return token.error ? { error: token.error } : { confirmationToken: token }; });
      },
      handleNextAction: function () { return Promise.resolve({}); }
    };
  };
})();`;

// Stripe's ids are base62 (letters and digits), as here: hex ids had runs of 13+ digits often
// enough (about one in a thousand) to be a Luhn-valid "card number" that the card policy refuses.
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const id = (prefix: string) => `${prefix}_${[...randomBytes(24)].map((byte) => BASE62[byte % 62]).join('')}`;

/** Stripe's nested form encoding back into an object (a[b][0]=c). */
function decodeForm(form: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of form) {
    const parts = key.split(/\[|\]\[|\]/).filter((p) => p !== '');
    let node = out as Record<string, unknown>;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else {
        node[part] ??= {};
        node = node[part] as Record<string, unknown>;
      }
    });
  }
  return out;
}

const error = (status: number, body: Record<string, unknown>): FakeResponse => ({
  status,
  headers: { 'request-id': id('req') },
  body: { error: body },
});

export async function startFakeStripe(
  options: { secretKey?: string; webhookSecret?: string } = {},
): Promise<FakeStripe> {
  const secretKey = options.secretKey ?? 'sk_test_fake_paybot';
  const publishableKey = 'pk_test_fake_paybot';
  const webhookSecret = options.webhookSecret ?? 'whsec_fake_paybot_secret';
  const tokens = new Map<string, FakeCard>();
  const methods = new Map<string, FakeCard>();
  const intents = new Map<string, FakePaymentIntent>();
  const checkoutSessions = new Map<string, Record<string, unknown>>();
  const idempotency = new Map<string, { params: string; response: FakeResponse }>();
  const paymentIntents: FakePaymentIntent[] = [];
  const refunds: FakeRefund[] = [];
  const fake = { refundStatus: 'succeeded' as FakeRefund['status'] };
  const sdk = new Stripe(secretKey);

  const cardOf = (card: FakeCard) => ({
    brand: card.brand,
    last4: card.last4,
    exp_month: card.exp_month,
    exp_year: card.exp_year,
  });

  const createIntent = (params: Record<string, unknown>): FakeResponse => {
    const amount = Number(params.amount);
    if (!Number.isInteger(amount) || amount < 1)
      return error(400, {
        type: 'invalid_request_error',
        code: 'parameter_invalid_integer',
        param: 'amount',
        message: 'Invalid integer',
      });
    let card: FakeCard | undefined;
    let pm: string | null = null;
    if (typeof params.confirmation_token === 'string') {
      card = tokens.get(params.confirmation_token);
      if (!card)
        return error(400, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          message: `No such confirmationtoken: '${params.confirmation_token}'`,
        });
      pm = id('pm');
      methods.set(pm, card);
    } else if (typeof params.payment_method === 'string') {
      card = methods.get(params.payment_method);
      pm = params.payment_method;
      if (!card)
        return error(400, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          message: `No such PaymentMethod: '${pm}'`,
        });
    }
    const intentId = id('pi');
    const intent: FakePaymentIntent = {
      id: intentId,
      object: 'payment_intent',
      amount,
      currency: String(params.currency),
      status: 'requires_payment_method',
      client_secret: `${intentId}_secret_${randomBytes(8).toString('hex')}`,
      metadata: (params.metadata as Record<string, string>) ?? {},
      next_action: null,
      last_payment_error: null,
      payment_method: pm,
      description: (params.description as string) ?? null,
      latest_charge: null,
      amount_refunded: 0,
      receipt_email: (params.receipt_email as string) ?? null,
    };
    intents.set(intentId, intent);
    paymentIntents.push(intent);
    if (params.confirm === 'true' && card) {
      if (card.behaviour.outcome === 'decline') {
        intent.last_payment_error = {
          type: 'card_error',
          code: 'card_declined',
          decline_code: card.behaviour.declineCode,
          message: card.behaviour.message,
        };
        return error(402, {
          type: 'card_error',
          code: 'card_declined',
          decline_code: card.behaviour.declineCode,
          message: card.behaviour.message,
          payment_intent: intent,
        });
      }
      if (card.behaviour.outcome === '3ds') {
        intent.status = 'requires_action';
        intent.next_action = {
          type: 'use_stripe_sdk',
          use_stripe_sdk: {
            type: 'three_d_secure_redirect',
            stripe_js: 'https://hooks.stripe.com/3d_secure_2/hosted',
          },
        };
      } else {
        intent.status = 'succeeded';
        intent.latest_charge = id('ch');
      }
    }
    return { status: 200, body: intent };
  };

  const createRefund = (params: Record<string, unknown>): FakeResponse => {
    const intent = intents.get(String(params.payment_intent ?? ''));
    if (!intent)
      return error(400, {
        type: 'invalid_request_error',
        code: 'resource_missing',
        param: 'payment_intent',
        message: `No such payment_intent: '${String(params.payment_intent)}'`,
      });
    if (intent.status !== 'succeeded')
      return error(400, {
        type: 'invalid_request_error',
        message: `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
      });
    const left = intent.amount - intent.amount_refunded;
    if (left === 0)
      return error(400, {
        type: 'invalid_request_error',
        code: 'charge_already_refunded',
        message: `Charge ${intent.latest_charge} has already been refunded.`,
      });
    const amount = params.amount === undefined ? left : Number(params.amount);
    if (!Number.isInteger(amount) || amount < 1 || amount > left)
      return error(400, {
        type: 'invalid_request_error',
        param: 'amount',
        message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
      });
    if (
      params.reason !== undefined &&
      !['duplicate', 'fraudulent', 'requested_by_customer'].includes(String(params.reason))
    )
      return error(400, {
        type: 'invalid_request_error',
        param: 'reason',
        message: 'Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer',
      });
    intent.amount_refunded += amount;
    const refund: FakeRefund = {
      id: id('re'),
      object: 'refund',
      amount,
      currency: intent.currency,
      payment_intent: intent.id,
      charge: intent.latest_charge,
      reason: (params.reason as string) ?? null,
      status: fake.refundStatus,
      failure_reason: null,
      metadata: (params.metadata as Record<string, string>) ?? {},
      created: Math.floor(Date.now() / 1000),
    };
    refunds.push(refund);
    return { status: 200, body: refund };
  };

  const handler = (req: RecordedRequest): FakeResponse => {
    // What Stripe.js does in the browser: served script, and ConfirmationTokens made with the publishable key.
    if (req.method === 'GET' && req.path === '/v3') {
      return { status: 200, headers: { 'content-type': 'text/javascript' }, body: FAKE_STRIPE_JS };
    }
    if (req.method === 'POST' && req.path === '/v1/confirmation_tokens') {
      const params = decodeForm(req.form ?? new URLSearchParams());
      const cors = { 'access-control-allow-origin': '*' };
      if (params.key !== publishableKey)
        return {
          ...error(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' }),
          headers: cors,
        };
      const token = id('ctoken');
      tokens.set(token, { ...DEFAULT_CARD, ...(params.test_card === 'decline' ? DECLINING : {}) });
      return { status: 200, headers: cors, body: { id: token, object: 'confirmation_token' } };
    }
    if (req.headers.authorization !== `Bearer ${secretKey}`)
      return error(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' });
    // GETs carry their parameters (expand[0]=...) in the query string, POSTs in the form body.
    const params =
      req.method === 'GET' ? decodeForm(req.query) : decodeForm(req.form ?? new URLSearchParams());
    const key = req.headers['idempotency-key'];
    if (req.method === 'POST' && typeof key === 'string') {
      const seen = idempotency.get(key);
      const fingerprint = `${req.path}?${req.rawBody}`;
      if (seen) {
        if (seen.params !== fingerprint)
          return error(400, {
            type: 'idempotency_error',
            message:
              'Keys for idempotent requests can only be used with the same parameters they were first used with.',
          });
        return { ...seen.response, headers: { ...seen.response.headers, 'idempotent-replayed': 'true' } };
      }
      const response = route(req, params);
      // Stripe stores the answer of every request that ran (not 5xx): a retry gets the same one.
      if (response.status < 500) idempotency.set(key, { params: fingerprint, response });
      return response;
    }
    return route(req, params);
  };

  const route = (req: RecordedRequest, params: Record<string, unknown>): FakeResponse => {
    if (req.method === 'POST' && req.path === '/v1/payment_intents') return createIntent(params);
    if (req.method === 'POST' && req.path === '/v1/refunds') return createRefund(params);
    if (req.method === 'GET' && req.path === '/v1/refunds') {
      const data = refunds.filter((refund) => refund.payment_intent === params.payment_intent).reverse();
      return { status: 200, body: { object: 'list', url: '/v1/refunds', has_more: false, data } };
    }
    let match = req.path.match(/^\/v1\/payment_intents\/([\w]+)$/);
    if (req.method === 'GET' && match) {
      const intent = intents.get(match[1] as string);
      return intent
        ? { status: 200, body: intent }
        : error(404, {
            type: 'invalid_request_error',
            code: 'resource_missing',
            message: 'No such payment_intent',
          });
    }
    match = req.path.match(/^\/v1\/confirmation_tokens\/([\w]+)$/);
    if (req.method === 'GET' && match) {
      const card = tokens.get(match[1] as string);
      if (!card)
        return error(404, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          message: `No such confirmationtoken: '${match[1]}'`,
        });
      return {
        status: 200,
        body: {
          id: match[1],
          object: 'confirmation_token',
          payment_method_preview: {
            type: 'card',
            card: { ...cardOf(card), funding: 'credit', country: 'US' },
          },
        },
      };
    }
    if (req.method === 'POST' && req.path === '/v1/checkout/sessions') {
      if (!params.mode || !params.success_url)
        return error(400, {
          type: 'invalid_request_error',
          message: 'Missing required param: mode or success_url.',
        });
      const sessionId = id('cs_test');
      const session = {
        id: sessionId,
        object: 'checkout.session',
        mode: params.mode,
        status: 'open',
        currency: params.currency ?? null,
        client_reference_id: params.client_reference_id ?? null,
        metadata: params.metadata ?? {},
        success_url: params.success_url,
        cancel_url: params.cancel_url ?? null,
        url: `https://checkout.stripe.com/c/pay/${sessionId}`,
        setup_intent: null as unknown,
      };
      checkoutSessions.set(sessionId, session);
      return { status: 200, body: session };
    }
    match = req.path.match(/^\/v1\/checkout\/sessions\/([\w]+)$/);
    if (req.method === 'GET' && match) {
      const session = checkoutSessions.get(match[1] as string);
      if (!session)
        return error(404, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          message: 'No such checkout.session',
        });
      const expand = Object.values((params.expand as Record<string, string>) ?? {});
      const body = { ...session };
      const setup = session.setup_intent as { id: string; payment_method: string } | null;
      if (setup) {
        const card = methods.get(setup.payment_method) as FakeCard;
        const pm = { id: setup.payment_method, object: 'payment_method', type: 'card', card: cardOf(card) };
        body.setup_intent = expand.includes('setup_intent.payment_method')
          ? { ...setup, payment_method: pm }
          : expand.includes('setup_intent')
            ? setup
            : setup.id;
      }
      return { status: 200, body };
    }
    return error(404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${req.method}: ${req.path})`,
    });
  };

  const http = await startHttpFake(handler);
  const withDefaults = (card?: Partial<FakeCard>): FakeCard => ({ ...DEFAULT_CARD, ...card });
  return {
    url: http.url,
    http,
    secretKey,
    webhookSecret,
    paymentIntents,
    checkoutSessions,
    refunds,
    get refundStatus() {
      return fake.refundStatus;
    },
    set refundStatus(status) {
      fake.refundStatus = status;
    },
    chargeOf(paymentIntentId) {
      const intent = intents.get(paymentIntentId);
      if (!intent?.latest_charge) throw new Error(`no charge for ${paymentIntentId}`);
      return {
        id: intent.latest_charge,
        object: 'charge',
        amount: intent.amount,
        amount_refunded: intent.amount_refunded,
        currency: intent.currency,
        payment_intent: intent.id,
        refunded: intent.amount_refunded === intent.amount,
        metadata: intent.metadata,
        refunds: {
          object: 'list',
          data: refunds.filter((refund) => refund.payment_intent === intent.id),
          has_more: false,
        },
      };
    },
    env: {
      STRIPE_SECRET_KEY: secretKey,
      STRIPE_PUBLISHABLE_KEY: publishableKey,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_BASE_URL: http.url,
      STRIPE_JS_URL: `${http.url}/v3`,
    },
    failQuotingRequest(opts = {}) {
      http.inject({
        times: opts.times,
        status: 400,
        body: (req) => ({ error: { type: 'invalid_request_error', message: quoteRequest(req) } }),
      });
    },
    createConfirmationToken(card) {
      const token = id('ctoken');
      tokens.set(token, withDefaults(card));
      return token;
    },
    completeCheckout(sessionId, card) {
      const session = checkoutSessions.get(sessionId);
      if (!session) throw new Error(`no checkout session ${sessionId}`);
      const pm = id('pm');
      methods.set(pm, withDefaults(card));
      session.status = 'complete';
      session.setup_intent = {
        id: id('seti'),
        object: 'setup_intent',
        status: 'succeeded',
        payment_method: pm,
      };
    },
    finishAuthentication(paymentIntentId, passed) {
      const intent = intents.get(paymentIntentId);
      if (!intent) throw new Error(`no payment intent ${paymentIntentId}`);
      intent.next_action = null;
      intent.status = passed ? 'succeeded' : 'requires_payment_method';
      if (passed) intent.latest_charge = id('ch');
      if (!passed)
        intent.last_payment_error = {
          type: 'card_error',
          code: 'payment_intent_authentication_failure',
          message: 'We are unable to authenticate your payment method.',
        };
      return intent;
    },
    signEvent(type, object, eventOptions = {}) {
      const body = JSON.stringify({
        id: eventOptions.id ?? id('evt'),
        object: 'event',
        type,
        api_version: '2025-01-01',
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        data: { object },
      });
      const signature = sdk.webhooks.generateTestHeaderString({
        payload: body,
        secret: eventOptions.secret ?? webhookSecret,
        ...(eventOptions.timestamp ? { timestamp: eventOptions.timestamp } : {}),
      });
      return { body, signature };
    },
    close: () => http.close(),
  };
}
