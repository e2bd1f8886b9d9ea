// Receipts: an email address, given in any message (never a step of its own), goes to Stripe as the
// PaymentIntent's receipt_email, and the customer hears where the receipt goes. Through the dialog
// alone, then through the service against the Stripe fake (what Stripe received).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { advance, afterCharge, type DialogOptions, settle } from '../src/apps/payments/dialog/dialog.ts';
import { parseEmail } from '../src/apps/payments/dialog/parse.ts';
import { type DialogState, initialState } from '../src/apps/payments/dialog/state.ts';
import { redactMessage } from '../src/apps/payments/redact-message.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const options: DialogOptions = { defaultCurrency: 'USD', maxRetries: 2, handoffMessage: 'HANDOFF' };
const card = {
  brand: 'visa',
  last4: '4242',
  expMonth: 12,
  expYear: 2030,
  source: { kind: 'confirmation_token' as const, id: 'ctoken_1' },
};

function talk(messages: string[], start: DialogState = initialState()) {
  let state = start;
  let reply = '';
  for (const message of messages) {
    const redacted = redactMessage(message, state.currentField);
    const outcome = advance(state, { text: redacted.text, redacted: redacted.redacted }, options);
    state = outcome.state;
    reply = outcome.reply;
  }
  return { state, reply };
}

describe('the receipt address in the dialog', () => {
  it('reads addresses, and nothing that only looks a little like one', () => {
    expect(parseEmail('send it to Jane.Doe+pay@Example.co.uk please')).toBe('jane.doe+pay@example.co.uk');
    expect(parseEmail('jane@example.com.')).toBe('jane@example.com');
    for (const text of ['jane@', '@example.com', 'jane@example', 'jane..doe@example.com', 'a@b.c', 'pay $50'])
      expect(parseEmail(text), text).toBeNull();
  });

  it('takes the address with the name or on its own, holds nothing up, and shows it in the summary', () => {
    let { state, reply } = talk(['Jane Doe, jane@example.com']);
    expect(state).toMatchObject({
      name: 'Jane Doe',
      receiptEmail: 'jane@example.com',
      currentField: 'amount',
    });
    expect(reply).toContain('Stripe will email your receipt to jane@example.com');

    ({ state, reply } = talk(['Bo Chen', 'my email is bo@example.org']));
    expect(state).toMatchObject({ name: 'Bo Chen', receiptEmail: 'bo@example.org', currentField: 'amount' });
    expect(state.retries).toBe(0);
    expect(reply).toContain('How much would you like to pay?');

    // Without one, the summary offers it; with one, it names it.
    ({ state } = talk(['Ann Lee', '$20']));
    const confirming = advance(
      { ...state, card, currentField: 'confirmation', status: 'confirming' },
      { text: 'hmm', redacted: { card: false, cvv: false } },
      options,
    );
    expect(confirming.reply).toContain('For a receipt by email, send me your email address');
    const given = advance(
      confirming.state,
      { text: 'ann@example.com', redacted: { card: false, cvv: false } },
      options,
    );
    expect(given.reply).toContain('Receipt by email to ann@example.com');
    expect(given.state.currentField).toBe('confirmation');
    expect(given.action).toBeNull();
  });

  it('the final messages say where the receipt goes', () => {
    const state: DialogState = {
      ...initialState(),
      name: 'Ann Lee',
      amountMinor: 2000,
      currency: 'USD',
      card,
      receiptEmail: 'ann@example.com',
      currentField: 'confirmation',
      status: 'confirming',
    };
    const charged = afterCharge(state, { kind: 'succeeded', paymentIntentId: 'pi_1' });
    expect(charged.reply).toContain('Stripe will email your receipt to ann@example.com');
    const done = advance(
      settle(charged.state, 'succeeded'),
      { text: 'thanks', redacted: { card: false, cvv: false } },
      options,
    );
    expect(done.reply).toContain('is complete. Stripe sends the receipt to ann@example.com');
    const without = afterCharge(
      { ...state, receiptEmail: undefined },
      { kind: 'succeeded', paymentIntentId: 'pi_2' },
    );
    expect(without.reply).not.toContain('receipt');
  });
});

describe('receipt_email at Stripe', () => {
  let stripe: FakeStripe;
  let running: TestService;
  beforeAll(async () => {
    stripe = await startFakeStripe();
    running = await startTestService('pglite', {
      apps: [createPaymentsApp()],
      env: { ...stripe.env, PAYMENTS_CARD_MODE: 'embedded', CHAT_API_KEYS: 'receipt-test-key-0123456789' },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await stripe?.close();
  });

  const chat = async (message: string, extra: object = {}) => {
    const response = await running.service.app.inject({
      method: 'POST',
      url: '/chat',
      headers: { authorization: 'Bearer receipt-test-key-0123456789' },
      payload: { sessionId: 'receipt-1', message, ...extra },
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { response: string; status: string };
  };

  it('sends the address as receipt_email and says so in the final message; without one, none is sent', async () => {
    await chat('I am Kim Park, pay $12, receipt to Kim@Example.com');
    await chat('card', { confirmationToken: stripe.createConfirmationToken() });
    const answer = await chat('yes');
    expect(answer.response).toContain('Stripe will email your receipt to kim@example.com');
    expect(stripe.paymentIntents.at(-1)?.receipt_email).toBe('kim@example.com');
    const sent = stripe.http.requests.filter((r) => r.path === '/v1/payment_intents').at(-1);
    expect(sent?.form?.get('receipt_email')).toBe('kim@example.com');

    await chat('restart');
    await chat('I am Kim Park, pay $13');
    await chat('card', { confirmationToken: stripe.createConfirmationToken() });
    expect((await chat('yes')).response).not.toContain('receipt');
    expect(stripe.paymentIntents.at(-1)?.receipt_email).toBeNull();
  });
});
