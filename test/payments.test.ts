// PayBot end to end: the real service (PGlite and PostgreSQL), POST /chat through Fastify, the real
// stripe SDK against the local Stripe fake, and signed webhooks.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import type { Extracted } from '../src/apps/payments/dialog/parse.ts';
import type { FreeTextInterpreter } from '../src/apps/payments/interpreter.ts';
import { route } from './fakes/http-fake.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { databaseKinds } from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const API_KEY = 'chat-key-for-tests-0123456789';
const AUTH = { authorization: `Bearer ${API_KEY}` };

interface ChatAnswer {
  response: string;
  status: string;
  sessionId: string;
  currentField: string;
  payment?: {
    checkoutUrl?: string;
    publishableKey?: string;
    clientSecret?: string;
    nextAction?: unknown;
    amount?: number;
  };
}

describe.each(databaseKinds)('PayBot on %s', (kind) => {
  let stripe: FakeStripe;
  /** Hosted card step (the default), with a recording interpreter that has 0.2 s to answer. */
  let hosted: TestService;
  /** Embedded card step (Payment Element). */
  let embedded: TestService;
  const prompts: string[] = [];
  const interpreter: FreeTextInterpreter = {
    name: 'recording',
    interpret: async (text, field): Promise<Extracted | null> => {
      prompts.push(text);
      if (text.includes('slow')) return new Promise(() => {});
      if (field === 'name' && text.includes('starman')) return { name: 'Ziggy Stardust' };
      return null;
    },
  };

  beforeAll(async () => {
    stripe = await startFakeStripe();
    const env = {
      ...stripe.env,
      CHAT_API_KEYS: API_KEY,
      PUBLIC_URL: 'https://pay.example.com',
      STRIPE_MAX_NETWORK_RETRIES: '2',
      PAYMENTS_INTERPRETER_TIMEOUT_SECONDS: '0.2',
    };
    [hosted, embedded] = await Promise.all([
      startTestService(kind, { apps: [createPaymentsApp({ interpreter })], env }),
      startTestService(kind, {
        apps: [createPaymentsApp()],
        env: { ...env, PAYMENTS_CARD_MODE: 'embedded' },
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([hosted?.dispose(), embedded?.dispose()]);
    await stripe?.close();
  });
  afterEach(() => stripe.http.clearFaults());

  async function chat(
    on: TestService,
    session: string,
    message: string,
    extra: Record<string, unknown> = {},
  ): Promise<ChatAnswer> {
    const response = await on.service.app.inject({
      method: 'POST',
      url: '/chat',
      headers: AUTH,
      payload: { sessionId: session, message, ...extra },
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  async function webhook(on: TestService, type: string, object: object, options: { id?: string } = {}) {
    const { body, signature } = stripe.signEvent(type, object, options);
    return on.service.app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      payload: body,
    });
  }

  it('hosted mode: Checkout collects the card, the summary shows brand/last 4/expiry, confirm charges once, the webhook completes', async () => {
    let answer = await chat(hosted, 's-hosted', 'Hi, I want to make a payment');
    expect(answer).toMatchObject({ status: 'collecting', currentField: 'name', sessionId: 's-hosted' });
    answer = await chat(hosted, 's-hosted', 'Jane Doe');
    expect(answer.currentField).toBe('amount');
    answer = await chat(hosted, 's-hosted', '$45.10');
    expect(answer).toMatchObject({ status: 'collecting', currentField: 'card' });
    expect(answer.payment?.checkoutUrl).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    const checkoutId = answer.payment?.checkoutUrl?.split('/').pop() as string;
    expect(stripe.checkoutSessions.get(checkoutId)).toMatchObject({ mode: 'setup', currency: 'usd' });

    answer = await chat(hosted, 's-hosted', 'done');
    expect(answer.response).toContain('I do not have your card yet');
    stripe.completeCheckout(checkoutId, { brand: 'mastercard', last4: '4444', exp_month: 3, exp_year: 2031 });
    answer = await chat(hosted, 's-hosted', 'done now');
    expect(answer).toMatchObject({ status: 'confirming', currentField: 'confirmation' });
    expect(answer.response).toContain('Mastercard ending in 4444 (expires 03/31)');
    expect(answer.response).toContain('$45.10');

    const before = stripe.paymentIntents.length;
    answer = await chat(hosted, 's-hosted', 'yes');
    expect(answer.status).toBe('confirming');
    const intent = stripe.paymentIntents.at(-1)!;
    expect(intent).toMatchObject({ amount: 4510, currency: 'usd', status: 'succeeded' });
    // A second "confirm" and a client retry do not charge again.
    await chat(hosted, 's-hosted', 'yes');
    await chat(hosted, 's-hosted', 'confirm');
    expect(stripe.paymentIntents.length - before).toBe(1);

    const delivered = await webhook(hosted, 'payment_intent.succeeded', { ...intent, status: 'succeeded' });
    expect(delivered.statusCode).toBe(200);
    answer = await chat(hosted, 's-hosted', 'thanks');
    expect(answer.status).toBe('completed');
    expect(answer.response).toContain('$45.10 is complete');
  });

  it('embedded mode: the ConfirmationToken from the Payment Element, 3-D Secure, then a decline back to the card step', async () => {
    let answer = await chat(embedded, 's-emb', "I'm Ann Lee and I'd like to pay 30 EUR");
    expect(answer).toMatchObject({ currentField: 'card' });
    expect(answer.payment).toEqual({
      publishableKey: 'pk_test_fake_paybot',
      amount: 3000,
      currency: 'eur',
      amountText: '€30.00',
      description: 'Payment to PayBot',
    });

    const token = stripe.createConfirmationToken({ behaviour: { outcome: '3ds' } });
    answer = await chat(embedded, 's-emb', 'card entered', { confirmationToken: token });
    expect(answer.response).toContain('Visa ending in 4242 (expires 12/30)');
    answer = await chat(embedded, 's-emb', 'yes');
    expect(answer.payment?.clientSecret).toMatch(/^pi_\w+_secret_/);
    expect(answer.payment?.nextAction).toMatchObject({ type: 'use_stripe_sdk' });
    const intent = stripe.paymentIntents.at(-1)!;
    expect(intent.metadata.paybot_session).toBe('s-emb');

    // The customer fails the bank's check: the failure webhook sends the session back to the card step.
    const failed = stripe.finishAuthentication(intent.id, false);
    expect((await webhook(embedded, 'payment_intent.payment_failed', failed)).statusCode).toBe(200);
    answer = await chat(embedded, 's-emb', 'what now?');
    expect(answer).toMatchObject({ status: 'collecting', currentField: 'card' });

    const declining = stripe.createConfirmationToken({
      last4: '0002',
      behaviour: {
        outcome: 'decline',
        declineCode: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
      },
    });
    await chat(embedded, 's-emb', 'new card', { confirmationToken: declining });
    answer = await chat(embedded, 's-emb', 'yes');
    expect(answer.response).toContain('Your card has insufficient funds.');
    expect(answer).toMatchObject({ status: 'collecting', currentField: 'card' });
    expect(answer.payment?.publishableKey).toBe('pk_test_fake_paybot');
  });

  it('retries a Stripe 500 with the same idempotency key and charges once', async () => {
    await chat(embedded, 's-500', 'I am Bo Chen, pay $9.99');
    await chat(embedded, 's-500', 'card', { confirmationToken: stripe.createConfirmationToken() });
    const before = stripe.paymentIntents.length;
    stripe.http.inject({
      match: route('POST', '/v1/payment_intents'),
      status: 500,
      body: { error: { type: 'api_error', message: 'Something went wrong on our end.' } },
      afterProcessing: true,
    });
    const answer = await chat(embedded, 's-500', 'yes');
    expect(answer.response).toContain('being confirmed');
    const posts = stripe.http.requests
      .filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents')
      .slice(-2);
    expect(posts).toHaveLength(2);
    expect(posts[0]?.headers['idempotency-key']).toBe('paybot:s-500:charge:1');
    expect(posts[1]?.headers['idempotency-key']).toBe('paybot:s-500:charge:1');
    expect(stripe.paymentIntents.length - before).toBe(1);
  });

  it('serialises concurrent messages on one session: one charge for a burst of confirms', async () => {
    await chat(embedded, 's-burst', 'I am Cy Twombly, pay $5');
    await chat(embedded, 's-burst', 'card', { confirmationToken: stripe.createConfirmationToken() });
    const before = stripe.paymentIntents.length;
    const answers = await Promise.all(Array.from({ length: 5 }, () => chat(embedded, 's-burst', 'yes')));
    expect(stripe.paymentIntents.length - before).toBe(1);
    expect(answers.filter((a) => a.response.includes('being confirmed'))).toHaveLength(1);
  });

  it('pays an invoice and marks it paid from the webhook', async () => {
    const service = embedded;
    await service.service.db.query(
      `insert into invoices (id, vendor_name, total_minor, currency, matched_status) values ('INV-2026-0042', 'Acme', 123456, 'USD', 'APPROVED')`,
    );
    let answer = await chat(embedded, 's-inv', 'I want to pay invoice INV-2026-0042, my name is Dee Ray');
    expect(answer.response).toContain('$1,234.56');
    expect(answer.payment?.amount).toBe(123456);
    answer = await chat(embedded, 's-inv', 'change the amount to $5');
    expect(answer.response).toContain('fixed by invoice INV-2026-0042');
    await chat(embedded, 's-inv', 'card', { confirmationToken: stripe.createConfirmationToken() });
    await chat(embedded, 's-inv', 'yes');
    const intent = stripe.paymentIntents.at(-1)!;
    expect(intent.metadata.invoice_id).toBe('INV-2026-0042');
    const event = { id: 'evt_invoice_paid_1' };
    expect((await webhook(embedded, 'payment_intent.succeeded', intent, event)).statusCode).toBe(200);
    const [row] = await service.service.db.query<{ matched_status: string }>(
      `select matched_status from invoices where id = 'INV-2026-0042'`,
    );
    expect(row?.matched_status).toBe('PAID');
    // The same event again changes nothing and is acknowledged (Stripe re-signs its retries).
    const again = await webhook(embedded, 'payment_intent.succeeded', intent, event);
    expect(again.json()).toMatchObject({ result: 'duplicate' });
    answer = await chat(embedded, 's-inv', 'ok');
    expect(answer.status).toBe('completed');
  });

  it('rejects unsigned, forged and stale webhooks', async () => {
    const service = hosted;
    const { body, signature } = stripe.signEvent('payment_intent.succeeded', {
      id: 'pi_x',
      object: 'payment_intent',
    });
    const post = (headers: Record<string, string>, payload = body) =>
      service.service.app.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    expect((await post({})).statusCode).toBe(401);
    expect((await post({ 'stripe-signature': signature }, body.replace('pi_x', 'pi_y'))).statusCode).toBe(
      403,
    );
    const stale = stripe.signEvent(
      'payment_intent.succeeded',
      { id: 'pi_x' },
      { timestamp: Math.floor(Date.now() / 1000) - 3600 },
    );
    expect((await post({ 'stripe-signature': stale.signature }, stale.body)).statusCode).toBe(403);
  });

  it('expires sessions after the TTL and starts over', async () => {
    const service = hosted;
    await chat(hosted, 's-exp', 'Jane Doe');
    await service.service.db.query(
      `update chat_sessions set expires_at = now() - interval '1 second' where id = 's-exp'`,
    );
    const answer = await chat(hosted, 's-exp', '$20');
    expect(answer.response).toContain('expired after 60 minutes');
    expect(answer.currentField).toBe('name');
  });

  it('asks the interpreter only for free text the rules cannot read, with the card removed, within its time limit', async () => {
    const before = prompts.length;
    let answer = await chat(hosted, 's-ai', 'Jane Doe');
    expect(prompts.length).toBe(before);
    await chat(hosted, 's-ai', 'restart');
    answer = await chat(hosted, 's-ai', 'everyone knows me as the starman, card 4111-1111-1111-1111');
    expect(answer.currentField).toBe('amount');
    expect(answer.response).toContain('Ziggy Stardust');
    expect(answer.response).toContain('never type card details');
    answer = await chat(hosted, 's-ai', 'something slow and vague');
    expect(answer.response).toContain('could not read an amount');
    expect(prompts.slice(before)).toEqual([
      'everyone knows me as the starman, card [REDACTED CARD]',
      'something slow and vague',
    ]);
  });

  it('checks API keys, stored hashed keys, sizes and rates', async () => {
    const service = hosted;
    const app = service.service.app;
    const post = (headers: Record<string, string>, payload: object) =>
      app.inject({ method: 'POST', url: '/chat', headers, payload });
    expect((await post({}, { sessionId: 'k', message: 'hi' })).statusCode).toBe(401);
    expect((await post({ authorization: 'Bearer nope' }, { sessionId: 'k', message: 'hi' })).statusCode).toBe(
      401,
    );

    const created = await app.inject({ method: 'POST', url: '/payments/api-keys', payload: { name: 'web' } });
    expect(created.statusCode).toBe(201);
    const { key, id } = created.json();
    const rows = await service.service.db.query<{ key_hash: string }>('select key_hash from chat_api_keys');
    expect(rows[0]?.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(
      (await post({ authorization: `Bearer ${key}` }, { sessionId: 'k', message: 'hi' })).statusCode,
    ).toBe(200);
    await app.inject({ method: 'POST', url: `/payments/api-keys/${id}/revoke` });
    expect(
      (await post({ authorization: `Bearer ${key}` }, { sessionId: 'k', message: 'hi' })).statusCode,
    ).toBe(401);

    const long = await post(AUTH, { sessionId: 'k2', message: 'x'.repeat(1001) });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.code).toBe('invalid_input');
    const big = await post(AUTH, { sessionId: 'k2', message: 'y'.repeat(9000) });
    expect(big.statusCode).toBe(413);
    const bad = await post(AUTH, { sessionId: 'bad id!', message: 'hi' });
    expect(bad.json().error.details[0].field).toBe('body.sessionId');

    for (let i = 0; i < 30; i++)
      expect((await post(AUTH, { sessionId: 'k3', message: 'hi' })).statusCode).toBe(200);
    const limited = await post(AUTH, { sessionId: 'k3', message: 'hi' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    // The count lives in the session's row (every replica sees it) and starts again the next minute.
    await service.service.db.query(
      `update chat_sessions set window_started_at = now() - interval '61 seconds' where id = 'k3'`,
    );
    expect((await post(AUTH, { sessionId: 'k3', message: 'hi' })).statusCode).toBe(200);
    expect((await post(AUTH, { sessionId: 'k3', message: 'hi' })).statusCode).toBe(200);
  });

  it('never lets a typed card number or security code land in logs, database rows or model prompts', async () => {
    const cards = ['4242 4242 4242 4242', '4000-0566-5566-5556', '5555555555554444', '378282246310005'];
    const conversations: Array<[TestService, string, string[]]> = [
      [
        hosted,
        'leak-1',
        [`hi my card is ${cards[0]}`, 'Jane Doe', '$20', `ok ${cards[1]} exp 12/29 security code 9187`],
      ],
      [
        hosted,
        'leak-2',
        [`Ann Lee ${cards[2]}`, `pay 40 EUR with ${cards[3]}`, 'the code is 9187', 'cancel'],
      ],
      [hosted, 'leak-3', [`everyone knows me as ${cards[0]}`, 'something vague again']],
      [
        embedded,
        'leak-4',
        ['I am Bo Chen, pay $12', `card ${cards[2]} cvv 9187`, `actually my name is ${cards[1]}`],
      ],
    ];
    for (const [on, session, messages] of conversations) {
      for (const message of messages) {
        const answer = await chat(on, session, message);
        expect(JSON.stringify(answer)).not.toMatch(/\d{13}|\d{4}[ -]\d{4}[ -]\d{4}/);
      }
    }
    // Refused requests too (too long, a bad session id) carry the number.
    await hosted.service.app.inject({
      method: 'POST',
      url: '/chat',
      headers: AUTH,
      payload: { sessionId: 'leak 5', message: `card ${cards[0]}` },
    });

    const haystacks: string[] = [prompts.join('\n'), hosted.logs.text(), embedded.logs.text()];
    for (const on of [hosted, embedded]) {
      const tables = await on.service.db.query<{ s: string; t: string }>(
        `select table_schema as s, table_name as t from information_schema.tables
          where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`,
      );
      expect(tables.map((table) => table.t)).toContain('chat_sessions');
      for (const { s: schema, t: table } of tables) {
        const rows = await on.service.db.query<{ row: string }>(
          `select t::text as row from "${schema}"."${table}" t`,
        );
        haystacks.push(rows.map((r) => r.row).join('\n'));
      }
    }
    const everything = haystacks.join('\n');
    // The conversations did reach the stores: the searched text is not empty.
    expect(everything).toContain('leak-1');
    expect(everything).toContain('Bo Chen');
    for (const card of cards) {
      expect(everything).not.toContain(card);
      expect(everything).not.toContain(card.replace(/[ -]/g, ''));
    }
    expect([...everything.matchAll(/.{0,80}(?:code (?:is )?|cvv )9187.{0,40}/g)].map((m) => m[0])).toEqual(
      [],
    );
  });

  it('hosted mode: checkout.session.completed brings the card into the session without a chat message', async () => {
    let answer = await chat(hosted, 's-cs', "I'm Kim Park and I'd like to pay 12 GBP");
    const checkoutId = answer.payment?.checkoutUrl?.split('/').pop() as string;
    stripe.completeCheckout(checkoutId, { last4: '1881', exp_month: 1, exp_year: 2032 });
    const event = { ...stripe.checkoutSessions.get(checkoutId), status: 'complete' };
    expect((await webhook(hosted, 'checkout.session.completed', event)).statusCode).toBe(200);
    const [row] = await hosted.service.db.query<{ status: string }>(
      `select status from chat_sessions where id = 's-cs'`,
    );
    expect(row?.status).toBe('confirming');
    answer = await chat(hosted, 's-cs', 'hello?');
    expect(answer.response).toContain('Visa ending in 1881 (expires 01/32)');
    expect(answer.response).toContain('£12.00');
  });

  it('gives the /pay page a token for its own session only', async () => {
    const page = await hosted.service.app.inject({ method: 'GET', url: '/pay?session=s-hosted' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain(
      new URL(stripe.env.STRIPE_JS_URL as string).origin,
    );
    const session = page.body.match(/data-session="([^"]+)"/)?.[1] as string;
    const token = page.body.match(/data-token="([^"]+)"/)?.[1] as string;
    expect(session).toMatch(/^web-/);
    const post = (sessionId: string) =>
      hosted.service.app.inject({
        method: 'POST',
        url: '/chat',
        headers: { 'x-pay-page-token': token },
        payload: { sessionId, message: 'hello' },
      });
    expect((await post(session)).statusCode).toBe(200);
    expect((await post('s-hosted')).statusCode).toBe(401);
  });

  it('3-D Secure passed: the next message hears that the payment is being confirmed, not to verify again', async () => {
    await chat(embedded, 's-3ds', "I'm Lu Wei and I'd like to pay $70");
    await chat(embedded, 's-3ds', 'card', {
      confirmationToken: stripe.createConfirmationToken({ behaviour: { outcome: '3ds' } }),
    });
    let answer = await chat(embedded, 's-3ds', 'yes');
    expect(answer.payment?.clientSecret).toBeTruthy();
    answer = await chat(embedded, 's-3ds', 'ok?');
    expect(answer.response).toContain('verify');
    stripe.finishAuthentication(stripe.paymentIntents.at(-1)!.id, true);
    answer = await chat(embedded, 's-3ds', 'verification done');
    expect(answer.response).toContain('being processed');
    expect(answer.status).toBe('confirming');
  });
});
