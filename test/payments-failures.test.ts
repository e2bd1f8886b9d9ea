// What a PayBot customer is told when the payment side cannot work: Stripe not set up on this
// server, or Stripe failing to open the card form; and what the API answers an id that holds a
// card number. In each case nothing is charged and the customer knows what to do next.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const API_KEY = 'chat-key-for-tests-0123456789';
const AUTH = { authorization: `Bearer ${API_KEY}` };

describe('PayBot when payments cannot go through', () => {
  let stripe: FakeStripe;
  let withStripe: TestService;
  let withoutStripe: TestService;
  beforeAll(async () => {
    stripe = await startFakeStripe();
    const env = { CHAT_API_KEYS: API_KEY, PUBLIC_URL: 'https://pay.example.com' };
    [withStripe, withoutStripe] = await Promise.all([
      startTestService('pglite', {
        apps: [createPaymentsApp()],
        env: { ...env, ...stripe.env, STRIPE_MAX_NETWORK_RETRIES: '0' },
      }),
      startTestService('pglite', { apps: [createPaymentsApp()], env }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([withStripe?.dispose(), withoutStripe?.dispose()]);
    await stripe?.close();
  });
  afterEach(() => stripe.http.clearFaults());

  const post = (on: TestService, payload: object) =>
    on.service.app.inject({ method: 'POST', url: '/chat', headers: AUTH, payload });
  async function chat(on: TestService, sessionId: string, message: string) {
    const response = await post(on, { sessionId, message });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  it('without Stripe configured: says card payments are not set up, charges nothing, offers no card form', async () => {
    await chat(withoutStripe, 'no-stripe', 'Hi, I want to make a payment');
    await chat(withoutStripe, 'no-stripe', 'Jane Doe');
    const answer = await chat(withoutStripe, 'no-stripe', '$45.10');
    expect(answer.status).toBe('error');
    expect(answer.response).toContain(
      'Card payments are not set up on this server yet, so I cannot take the payment. Nothing was charged.',
    );
    expect(answer.response).not.toContain('secure card form');
    expect(answer.payment).toBeUndefined();
  });

  it('when Stripe fails to open Checkout: asks to try again, and "card" then opens it', async () => {
    await chat(withStripe, 'stripe-down', 'Hi, I want to make a payment');
    await chat(withStripe, 'stripe-down', 'Jane Doe');
    const checkout = (r: { method: string; path: string }) =>
      r.method === 'POST' && r.path === '/v1/checkout/sessions';
    stripe.http.inject({
      match: checkout,
      status: 500,
      body: { error: { type: 'api_error', message: 'An unknown error occurred' } },
    });
    const failed = await chat(withStripe, 'stripe-down', '$45.10');
    expect(failed.response).toContain(
      'I could not open the secure card form just now. Please say "card" to try again in a moment.',
    );
    expect(failed.payment).toBeUndefined();
    expect(stripe.checkoutSessions.size).toBe(0);

    const retried = await chat(withStripe, 'stripe-down', 'card');
    expect(retried).toMatchObject({ currentField: 'card' });
    expect(retried.payment?.checkoutUrl).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    expect(stripe.paymentIntents).toHaveLength(0);
  });

  it('refuses a session or invoice id holding a card number with 400, never quoting it', async () => {
    for (const field of ['sessionId', 'invoiceId']) {
      const payload = { sessionId: 'card-in-id', message: 'hello', [field]: 'order-4242424242424242' };
      const response = await post(withStripe, payload);
      expect(response.statusCode).toBe(400);
      const { error } = response.json();
      expect(error).toMatchObject({
        code: 'invalid_input',
        message: 'Card numbers are not accepted here: enter the card only in the secure card form',
        requestId: expect.any(String),
      });
      expect(response.body).not.toContain('4242424242424242');
    }
  });
});
