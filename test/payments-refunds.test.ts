// Refunds end to end: POST /payments/:id/refunds behind the admin token, the real stripe SDK against
// the local Stripe fake (its wire format, its idempotency, its over-refund refusal), and the signed
// webhooks (signed with the SDK's generateTestHeaderString) that record how a refund ended. What the
// operator relies on is asserted where it lives: what Stripe received, what the database holds.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { retryUnansweredRefunds } from '../src/apps/payments/refunds.ts';
import { createStripe } from '../src/apps/payments/stripe-gateway.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { route } from './fakes/http-fake.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { databaseKinds } from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const API_KEY = 'chat-key-for-refund-tests-0123';
const ADMIN = 'admin-token-for-refund-tests-0123';
const NEXT_SECRET = 'whsec_rotated_in_next_secret_456';

describe.each(databaseKinds)('PayBot refunds on %s', (kind) => {
  let stripe: FakeStripe;
  let running: TestService;
  let sessions = 0;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    running = await startTestService(kind, {
      apps: [createPaymentsApp()],
      env: {
        ...stripe.env,
        // A rotation under way: the current secret and the next one both verify.
        STRIPE_WEBHOOK_SECRET: `${stripe.webhookSecret}, ${NEXT_SECRET}`,
        PAYMENTS_CARD_MODE: 'embedded',
        CHAT_API_KEYS: API_KEY,
        ADMIN_API_TOKEN: ADMIN,
        STRIPE_MAX_NETWORK_RETRIES: '2',
      },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await stripe?.close();
  });
  afterEach(() => {
    stripe.http.clearFaults();
    stripe.refundStatus = 'succeeded';
  });

  const chat = async (sessionId: string, message: string, extra: object = {}) => {
    const response = await running.service.app.inject({
      method: 'POST',
      url: '/chat',
      headers: { authorization: `Bearer ${API_KEY}` },
      payload: { sessionId, message, ...extra },
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  /** A customer pays `amount` through the chat; the PaymentIntent id. */
  async function paid(amount: string): Promise<string> {
    const session = `refund-${++sessions}`;
    await chat(session, `I am Ann Lee, pay ${amount}`);
    await chat(session, 'card', { confirmationToken: stripe.createConfirmationToken() });
    expect((await chat(session, 'yes')).response).toContain('being confirmed');
    const intent = stripe.paymentIntents.at(-1);
    expect(intent?.status).toBe('succeeded');
    return intent?.id as string;
  }

  const refund = (
    paymentIntentId: string,
    body: object,
    headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` },
  ) =>
    running.service.app.inject({
      method: 'POST',
      url: `/payments/${paymentIntentId}/refunds`,
      headers,
      payload: body,
    });

  const webhook = (type: string, object: object, secret?: string) => {
    const { body, signature } = stripe.signEvent(type, object, secret ? { secret } : {});
    return running.service.app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      payload: body,
    });
  };

  const refundedOf = async (paymentIntentId: string) => {
    const [row] = await running.service.db.query<{ refunded_minor: string | number }>(
      'select refunded_minor from payment_attempts where payment_intent_id = $1',
      [paymentIntentId],
    );
    return Number(row?.refunded_minor);
  };
  const refundRows = (paymentIntentId: string) =>
    running.service.db.query<{ id: string; amount_minor: string | number; status: string; source: string }>(
      'select id, amount_minor, status, source from payment_refunds where payment_intent_id = $1 order by created_at',
      [paymentIntentId],
    );
  const stripeRefundsOf = (paymentIntentId: string) =>
    stripe.refunds.filter((r) => r.payment_intent === paymentIntentId);

  /** A console session (the test runs with ADMIN_API_TOKEN: signed in as an operator). */
  const consoleCookie = async () => {
    const login = await running.service.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ name: 'Refund desk', token: ADMIN }).toString(),
    });
    return String(login.headers['set-cookie'] ?? '').split(';')[0] ?? '';
  };

  it('needs the admin token', async () => {
    const pi = await paid('$10');
    expect((await refund(pi, { reason: 'duplicate' }, {})).statusCode).toBe(401);
    expect(
      (await refund(pi, { reason: 'duplicate' }, { authorization: `Bearer ${API_KEY}` })).statusCode,
    ).toBe(401);
    expect(stripeRefundsOf(pi)).toEqual([]);
  });

  it('refunds in part, then the rest, then refuses: Stripe got each amount once, under our key', async () => {
    const pi = await paid('$45.10');
    const first = await refund(pi, { amount_minor: 1000, reason: 'requested_by_customer' });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().refund).toMatchObject({
      paymentIntentId: pi,
      amountMinor: 1000,
      currency: 'USD',
      status: 'succeeded',
      source: 'api',
    });
    const rest = await refund(pi, { reason: 'requested_by_customer' });
    expect(rest.statusCode, rest.body).toBe(201);
    expect(rest.json().refund.amountMinor).toBe(3510);

    expect(stripeRefundsOf(pi).map((r) => [r.amount, r.reason, r.metadata.paybot_refund])).toEqual([
      [1000, 'requested_by_customer', first.json().refund.id],
      [3510, 'requested_by_customer', rest.json().refund.id],
    ]);
    const keys = stripe.http.requests
      .filter((r) => r.method === 'POST' && r.path === '/v1/refunds' && r.form?.get('payment_intent') === pi)
      .map((r) => r.headers['idempotency-key']);
    expect(keys).toEqual([
      `paybot:refund:${first.json().refund.id}`,
      `paybot:refund:${rest.json().refund.id}`,
    ]);
    expect(await refundedOf(pi)).toBe(4510);

    const again = await refund(pi, { amount_minor: 1, reason: 'requested_by_customer' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'conflict' });
    expect(again.json().error.message).toContain('already refunded in full');
    expect(stripeRefundsOf(pi)).toHaveLength(2);

    // The console's session page shows both, with Stripe's refund ids and amounts.
    const console = await running.service.app.inject({
      url: `/console/paybot/sessions/refund-${sessions}`,
      headers: { cookie: await consoleCookie() },
    });
    expect(console.statusCode).toBe(200);
    for (const made of stripeRefundsOf(pi)) expect(console.body).toContain(made.id);
    expect(console.body).toContain('$10.00');
    expect(console.body).toContain('$35.10');
  });

  it('refuses more than was charged, and more than is left, without asking Stripe', async () => {
    const pi = await paid('$20');
    const sent = stripe.http.requests.length;
    const over = await refund(pi, { amount_minor: 2001, reason: 'duplicate' });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.message).toContain('At most $20.00');
    expect((await refund(pi, { amount_minor: 1500, reason: 'duplicate' })).statusCode).toBe(201);
    const past = await refund(pi, { amount_minor: 501, reason: 'duplicate' });
    expect(past.statusCode).toBe(409);
    expect(past.json().error.message).toContain('At most $5.00');
    expect(stripe.http.requests.length - sent).toBe(1);
    expect(await refundedOf(pi)).toBe(1500);

    // Bad input is a 400 in the one envelope, never a 500.
    for (const body of [
      { amount_minor: 0, reason: 'duplicate' },
      { amount_minor: 1.5, reason: 'duplicate' },
      { reason: 'because' },
      {},
    ]) {
      const bad = await refund(pi, body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
      expect(bad.json().error.code).toBe('invalid_input');
    }
    expect((await refund('pi_unknown123', { reason: 'duplicate' })).statusCode).toBe(404);
    expect((await refund('not-a-payment', { reason: 'duplicate' })).statusCode).toBe(400);
  });

  it('many operators at once never refund more than was charged (the guard is in the database)', async () => {
    const pi = await paid('$10');
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => refund(pi, { amount_minor: 300, reason: 'requested_by_customer' })),
    );
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([201, 201, 201, 409, 409, 409, 409, 409]);
    expect(stripeRefundsOf(pi).reduce((sum, r) => sum + r.amount, 0)).toBe(900);
    expect(await refundedOf(pi)).toBe(900);
    // And the database itself refuses a reservation past the charge, whoever writes it.
    await expect(
      running.service.db.query(
        'update payment_attempts set refunded_minor = amount_minor + 1 where payment_intent_id = $1',
        [pi],
      ),
    ).rejects.toThrow(/payment_attempts_refunds_within_charge/);
  });

  it('a repeated request (same Idempotency-Key) refunds once, also when sent at the same time', async () => {
    const pi = await paid('$30');
    const headers = { authorization: `Bearer ${ADMIN}`, 'idempotency-key': 'ticket-4711' };
    const first = await refund(pi, { amount_minor: 500, reason: 'requested_by_customer' }, headers);
    const second = await refund(pi, { amount_minor: 500, reason: 'requested_by_customer' }, headers);
    expect([first.statusCode, second.statusCode]).toEqual([201, 200]);
    expect(second.json().refund.id).toBe(first.json().refund.id);
    const burst = await Promise.all(
      Array.from({ length: 5 }, () =>
        refund(
          pi,
          { amount_minor: 700, reason: 'duplicate' },
          { ...headers, 'idempotency-key': 'ticket-4712' },
        ),
      ),
    );
    expect(burst.map((a) => a.statusCode).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(burst.map((a) => a.json().refund.id)).size).toBe(1);
    expect(stripeRefundsOf(pi).map((r) => r.amount)).toEqual([500, 700]);
    // The same key with other parameters is a mistake, not a new refund.
    const changed = await refund(pi, { amount_minor: 900, reason: 'requested_by_customer' }, headers);
    expect(changed.statusCode).toBe(409);
    expect(changed.json().error.message).toContain('other parameters');
    expect(await refundedOf(pi)).toBe(1200);
  });

  it('a Stripe 500 is retried with the same idempotency key and refunds once', async () => {
    const pi = await paid('$12');
    stripe.http.inject({
      match: route('POST', '/v1/refunds'),
      status: 500,
      body: { error: { type: 'api_error', message: 'Something went wrong on our end.' } },
      afterProcessing: true,
    });
    const answer = await refund(pi, { amount_minor: 200, reason: 'requested_by_customer' });
    expect(answer.statusCode, answer.body).toBe(201);
    expect(answer.json().refund.status).toBe('succeeded');
    const posts = stripe.http.requests.filter(
      (r) => r.method === 'POST' && r.path === '/v1/refunds' && r.form?.get('payment_intent') === pi,
    );
    expect(posts).toHaveLength(2);
    expect(posts[1]?.headers['idempotency-key']).toBe(posts[0]?.headers['idempotency-key']);
    expect(stripeRefundsOf(pi)).toHaveLength(1);
  });

  it('Stripe silent through every retry: the refund stays requested, and the retry job finishes it once', async () => {
    const stripeClient = await createStripe(loadConfig(stripe.env).payments.stripe, 5000);
    const deps = { db: running.service.db, stripe: stripeClient, log: running.logs.log };
    const backdate = (id: string) =>
      running.service.db.query(
        `update payment_refunds set updated_at = now() - interval '2 minutes' where id = $1`,
        [id],
      );

    // Stripe made the refund but every answer was lost: the job reads it back, sends nothing new.
    const made = await paid('$40');
    stripe.http.inject({ match: route('POST', '/v1/refunds'), times: 3, status: 503, afterProcessing: true });
    const lost = await refund(made, { amount_minor: 1000, reason: 'duplicate' });
    expect(lost.statusCode).toBe(502);
    expect(lost.json().error.code).toBe('provider_unavailable');
    const [row] = await refundRows(made);
    expect(row).toMatchObject({ status: 'requested' });
    expect(await refundedOf(made)).toBe(1000);
    await backdate(row?.id as string);

    // Stripe never saw this one: the job sends it, under the same key.
    const unseen = await paid('$41');
    stripe.http.inject({ match: route('POST', '/v1/refunds'), times: 3, status: 503 });
    expect((await refund(unseen, { amount_minor: 100, reason: 'duplicate' })).statusCode).toBe(502);
    expect(stripeRefundsOf(unseen)).toEqual([]);
    const [waiting] = await refundRows(unseen);
    await backdate(waiting?.id as string);

    expect(await retryUnansweredRefunds(deps)).toEqual({ retried: 2, answered: 2 });
    expect(stripeRefundsOf(made)).toHaveLength(1);
    expect(stripeRefundsOf(unseen)).toHaveLength(1);
    expect((await refundRows(made))[0]?.status).toBe('succeeded');
    expect((await refundRows(unseen))[0]?.status).toBe('succeeded');
    const keys = stripe.http.requests
      .filter(
        (r) => r.method === 'POST' && r.path === '/v1/refunds' && r.form?.get('payment_intent') === unseen,
      )
      .map((r) => r.headers['idempotency-key']);
    expect(new Set(keys)).toEqual(new Set([`paybot:refund:${waiting?.id}`]));
    expect(await retryUnansweredRefunds(deps)).toEqual({ retried: 0, answered: 0 });
  });

  it('the signed webhooks record the result: pending to succeeded, a failure frees the amount, charge.refunded, a dashboard refund', async () => {
    const pi = await paid('$50');
    stripe.refundStatus = 'pending';
    const pending = await refund(pi, { amount_minor: 2000, reason: 'requested_by_customer' });
    expect(pending.json().refund.status).toBe('pending');
    const [made] = stripe.refunds.slice(-1);
    expect((await webhook('refund.updated', { ...made, status: 'succeeded' })).json()).toMatchObject({
      result: 'processed',
    });
    expect((await refundRows(pi))[0]?.status).toBe('succeeded');

    // A refund the bank sent back: failed, its amount refundable again (once, even if replayed).
    const second = await refund(pi, { amount_minor: 3000, reason: 'requested_by_customer' });
    expect(await refundedOf(pi)).toBe(5000);
    const failedRefund = {
      ...stripe.refunds.at(-1),
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
    };
    expect((await webhook('refund.failed', failedRefund)).statusCode).toBe(200);
    expect((await webhook('refund.updated', failedRefund)).statusCode).toBe(200);
    expect((await webhook('refund.updated', { ...failedRefund, status: 'succeeded' })).statusCode).toBe(200);
    const rows = await refundRows(pi);
    expect(rows.find((r) => r.id === second.json().refund.id)?.status).toBe('failed');
    expect(await refundedOf(pi)).toBe(2000);

    // charge.refunded: Stripe's own total and the charge id kept beside ours, for reconciliation.
    expect((await webhook('charge.refunded', stripe.chargeOf(pi))).json()).toMatchObject({
      result: 'processed',
    });
    const [attempt] = await running.service.db.query<{
      stripe_refunded_minor: string | number;
      charge_id: string;
    }>('select stripe_refunded_minor, charge_id from payment_attempts where payment_intent_id = $1', [pi]);
    expect(Number(attempt?.stripe_refunded_minor)).toBe(5000);
    expect(attempt?.charge_id).toMatch(/^ch_/);

    // A refund made in Stripe's dashboard is recorded, and counts against what is left.
    const dashboard = {
      id: 're_dashboard_made_1',
      object: 'refund',
      amount: 1000,
      currency: 'usd',
      payment_intent: pi,
      status: 'succeeded',
      metadata: {},
    };
    expect((await webhook('refund.created', dashboard, NEXT_SECRET)).json()).toMatchObject({
      result: 'processed',
    });
    expect((await refundRows(pi)).at(-1)).toMatchObject({ source: 'stripe', status: 'succeeded' });
    expect(await refundedOf(pi)).toBe(3000);
    const left = await refund(pi, { amount_minor: 2001, reason: 'requested_by_customer' });
    expect(left.json().error.message).toContain('At most $20.00');
  });

  it('verifies the webhook with either secret during a rotation, and with no other', async () => {
    const object = { id: 'pi_rotation_check', object: 'payment_intent', metadata: {} };
    expect((await webhook('payment_intent.processing', object)).statusCode).toBe(200);
    expect((await webhook('payment_intent.processing', object, NEXT_SECRET)).statusCode).toBe(200);
    expect(
      (await webhook('payment_intent.processing', object, 'whsec_someone_elses_secret')).statusCode,
    ).toBe(403);
  });
});

describe('STRIPE_WEBHOOK_SECRET during a rotation', () => {
  it('takes a comma-separated list of whsec_ secrets, and refuses anything else in it', () => {
    const secrets = (value: string) => loadConfig({ STRIPE_WEBHOOK_SECRET: value }).payments.stripe;
    expect(secrets('whsec_new123, whsec_old456')).toMatchObject({
      webhookSecret: 'whsec_new123',
      webhookSecrets: ['whsec_new123', 'whsec_old456'],
    });
    expect(secrets('whsec_only789').webhookSecrets).toEqual(['whsec_only789']);
    for (const bad of ['whsec_a,', 'whsec_a,sk_test_b', 'whsec_a whsec_b', ','])
      expect(() => secrets(bad), bad).toThrow(ConfigError);
  });
});
