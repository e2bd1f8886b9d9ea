// The dialog engine on its own: pure functions, no service. Every dialog feature of the issue.
import { describe, expect, it } from 'vitest';
import {
  advance,
  afterCharge,
  type DialogOptions,
  settle,
  type Turn,
} from '../src/apps/payments/dialog/dialog.ts';
import { parseAmount, parseIntent, parseName } from '../src/apps/payments/dialog/parse.ts';
import { type DialogState, initialState } from '../src/apps/payments/dialog/state.ts';
import { interpretWithin } from '../src/apps/payments/interpreter.ts';
import { redactMessage } from '../src/apps/payments/redact-message.ts';
import { captureLogs } from './helpers/logs.ts';

const options: DialogOptions = { defaultCurrency: 'USD', maxRetries: 2, handoffMessage: 'HANDOFF' };
const card = {
  brand: 'visa',
  last4: '4242',
  expMonth: 12,
  expYear: 2030,
  source: { kind: 'confirmation_token' as const, id: 'ctoken_1' },
};

function say(state: DialogState, text: string, extra: Partial<Turn> = {}) {
  const redacted = redactMessage(text, state.currentField);
  return advance(state, { text: redacted.text, redacted: redacted.redacted, ...extra }, options);
}

/** Runs messages in order from a fresh state and returns the last outcome. */
function conversation(...messages: string[]) {
  let state = initialState();
  let outcome = say(state, messages[0] as string);
  for (const message of messages.slice(1)) {
    state = outcome.state;
    outcome = say(state, message);
  }
  return outcome;
}

describe('parsing', () => {
  it('reads amounts with currency as exact minor units', () => {
    expect(parseAmount('$1,234.50', 'USD', false)).toEqual({ minor: 123450, currency: 'USD' });
    expect(parseAmount('pay 50 usd please', 'USD', false)).toEqual({ minor: 5000, currency: 'USD' });
    expect(parseAmount('€12.5', 'USD', false)).toEqual({ minor: 1250, currency: 'EUR' });
    expect(parseAmount('20 euros', 'USD', false)).toEqual({ minor: 2000, currency: 'EUR' });
    expect(parseAmount('JPY 500', 'USD', false)).toEqual({ minor: 500, currency: 'JPY' });
    expect(parseAmount('0.1', 'USD', true)).toEqual({ minor: 10, currency: 'USD' });
    expect(parseAmount('42', 'USD', false)).toBeNull();
    expect(parseAmount('$10.999', 'USD', false)).toEqual({ error: 'USD amounts have at most 2 decimals' });
    expect(parseAmount('JPY 5.5', 'USD', false)).toEqual({ error: 'JPY amounts have no decimals' });
    expect(parseAmount('$0', 'USD', false)).toEqual({ error: 'the amount must be more than zero' });
  });

  it('reads names and intents', () => {
    expect(parseName("Hi, I'm jane doe and I want to pay", false)).toEqual({ name: 'Jane Doe' });
    expect(parseName('Jane Doe', true)).toEqual({ name: 'Jane Doe' });
    expect(parseName('Jane Doe', false)).toBeNull();
    expect(parseName('yes', true)).toBeNull();
    // Replies made only of courtesy words are not names, however they are cased or punctuated.
    for (const reply of [
      'thank you',
      'Thank You!',
      'ok thanks',
      'hi there',
      'good morning',
      'no idea',
      'sorry',
    ])
      expect(parseName(reply, true)).toBeNull();
    // A name that has such a word in it is still a name.
    expect(parseName('Hope Good', true)).toEqual({ name: 'Hope Good' });
    expect(parseName("I'm Joy Morning", false)).toEqual({ name: 'Joy Morning' });
    expect(parseIntent('Yes!')).toBe('yes');
    expect(parseIntent('nope')).toBe('no');
    expect(parseIntent('cancel')).toBe('cancel');
    expect(parseIntent('start over')).toBe('restart');
    expect(parseIntent('how are you?')).toBe('smalltalk');
  });
});

describe('dialog', () => {
  it('keeps asking for the name when the customer only says thank you', () => {
    let outcome = say(initialState(), 'I want to make a payment');
    outcome = say(outcome.state, 'thank you');
    expect(outcome.state).toMatchObject({ currentField: 'name', status: 'collecting' });
    expect(outcome.state.name ?? null).toBeNull();
    outcome = say(outcome.state, 'Jane Doe');
    expect(outcome.state).toMatchObject({ name: 'Jane Doe', currentField: 'amount' });
  });

  it('collects name, amount, card, then confirms and charges', () => {
    let outcome = say(initialState(), 'I want to make a payment');
    expect(outcome.state.currentField).toBe('name');
    outcome = say(outcome.state, 'Jane Doe');
    expect(outcome.state).toMatchObject({ name: 'Jane Doe', currentField: 'amount', status: 'collecting' });
    outcome = say(outcome.state, '45.10');
    expect(outcome.state).toMatchObject({ amountMinor: 4510, currency: 'USD', currentField: 'card' });
    expect(outcome.action).toBe('open_card');
    outcome = say(outcome.state, 'done', { card });
    expect(outcome.state).toMatchObject({ currentField: 'confirmation', status: 'confirming' });
    expect(outcome.reply).toContain('Visa ending in 4242 (expires 12/30)');
    expect(outcome.reply).toContain('$45.10');
    outcome = say(outcome.state, 'yes');
    expect(outcome.action).toBe('charge');
  });

  it('takes several fields from one message', () => {
    const outcome = say(initialState(), "Hi, I'm Jane Doe and I'd like to pay $120.00");
    expect(outcome.state).toMatchObject({ name: 'Jane Doe', amountMinor: 12000, currentField: 'card' });
    expect(outcome.action).toBe('open_card');
  });

  it('reads a bare name and an amount given together when asked for the name, and no name from the rest of a sentence', () => {
    let outcome = say(initialState(), 'Jane Doe, 12 USD');
    expect(outcome.state).toMatchObject({ name: 'Jane Doe', amountMinor: 1200, currentField: 'card' });
    outcome = say(initialState(), 'I want to pay $12');
    expect(outcome.state).toMatchObject({ amountMinor: 1200, currentField: 'name' });
    expect(outcome.state.name ?? null).toBeNull();
  });

  it('says what was wrong when it re-prompts, and hands off after the retries', () => {
    let outcome = conversation('Jane Doe', '$10.999');
    expect(outcome.reply).toContain('USD amounts have at most 2 decimals');
    expect(outcome.state).toMatchObject({ currentField: 'amount', retries: 1 });
    outcome = say(outcome.state, 'lots');
    expect(outcome.reply).toContain('could not read an amount');
    outcome = say(outcome.state, 'hmm');
    expect(outcome.state.status).toBe('error');
    expect(outcome.reply).toBe('HANDOFF');
    expect(say(outcome.state, 'Jane').reply).toBe('HANDOFF');
    expect(say(outcome.state, 'restart').state).toMatchObject({ status: 'collecting', currentField: 'name' });
  });

  it('takes corrections at any point', () => {
    let outcome = conversation('Jane Doe', '$20');
    outcome = say(outcome.state, 'actually my name is Janet Doe');
    expect(outcome.state).toMatchObject({ name: 'Janet Doe', amountMinor: 2000, currentField: 'card' });
    outcome = say(outcome.state, 'sorry, change the amount to 30 EUR');
    expect(outcome.state).toMatchObject({ amountMinor: 3000, currency: 'EUR' });
  });

  it('asks what to change after "no" at confirmation', () => {
    let outcome = conversation('Jane Doe', '$20');
    outcome = say(outcome.state, 'ok', { card });
    expect(outcome.state.currentField).toBe('confirmation');
    outcome = say(outcome.state, 'no');
    expect(outcome.reply).toContain('What would you like to change');
    outcome = say(outcome.state, 'the amount');
    expect(outcome.state).toMatchObject({ currentField: 'amount', amountMinor: undefined });
    outcome = say(outcome.state, '25');
    expect(outcome.state).toMatchObject({ currentField: 'confirmation', amountMinor: 2500 });
    outcome = say(outcome.state, 'no, the name is Jo Smith');
    expect(outcome.state).toMatchObject({ name: 'Jo Smith', currentField: 'confirmation' });
  });

  it('cancels and restarts', () => {
    // Everything forgotten; the next payment is a new attempt (a new idempotency key at Stripe).
    const outcome = conversation('Jane Doe', '$20', 'cancel');
    expect(outcome.state).toEqual({ ...initialState(), attempt: 2 });
    expect(outcome.reply).toContain('nothing was charged');
    expect(conversation('Jane Doe', 'start over').state).toEqual({ ...initialState(), attempt: 2 });
  });

  it('answers small talk briefly and steers back', () => {
    const outcome = conversation('Jane Doe', 'how are you?');
    expect(outcome.reply).toMatch(/well.*How much would you like to pay/);
    expect(outcome.state.retries).toBe(0);
  });

  it('redacts card numbers and security codes and says to use the secure step', () => {
    let outcome = conversation('Jane Doe', '$20');
    const raw = 'my card is 4242 4242 4242 4242 cvv 123';
    const redacted = redactMessage(raw, 'card');
    expect(redacted.text).not.toMatch(/4242|123/);
    expect(redacted.redacted).toEqual({ card: true, cvv: true });
    outcome = say(outcome.state, raw);
    expect(outcome.reply).toContain('never type card details');
    expect(outcome.action).toBe('open_card');
    expect(JSON.stringify(outcome.state)).not.toContain('4242');
    // An amount is not a CVV outside the card step.
    expect(redactMessage('$123', 'amount').text).toBe('$123');
  });

  it('reads digits of any script, and masks card numbers written in them', () => {
    expect(conversation('Jane Doe', '٥٠ USD').state).toMatchObject({ amountMinor: 5000, currency: 'USD' });
    const wide = redactMessage('４２４２ ４２４２ ４２４２ ４２４２', 'name');
    expect(wide).toMatchObject({ text: '[REDACTED CARD]', redacted: { card: true } });
  });

  it('treats a card typed one group per message as card data: masked from the second piece, never the amount', () => {
    const first = redactMessage('4242', 'amount');
    expect(first).toMatchObject({ text: '4242', fragment: true });
    expect(redactMessage('4242', 'card', 1)).toEqual({
      text: '[REDACTED CARD]',
      redacted: { card: true, cvv: false },
      fragment: true,
    });
    // The last piece may be shorter; an ordinary message ends the run.
    expect(redactMessage('424', 'amount', 3).text).toBe('[REDACTED CARD]');
    expect(redactMessage('$4242', 'amount', 1)).toMatchObject({ text: '$4242', fragment: false });
    expect(redactMessage('1,500', 'amount').fragment).toBe(false);
  });

  it('goes back to the card step on a decline, and completes only when settled', () => {
    let outcome = conversation('Jane Doe', '$20');
    outcome = say(outcome.state, 'ok', { card });
    const declined = afterCharge(outcome.state, { kind: 'declined', message: 'Your card was declined.' });
    expect(declined.state).toMatchObject({
      currentField: 'card',
      attempt: 2,
      card: undefined,
      status: 'collecting',
    });
    expect(declined.action).toBe('open_card');
    const charged = afterCharge(outcome.state, { kind: 'succeeded', paymentIntentId: 'pi_1' });
    expect(charged.state.status).toBe('confirming');
    expect(say(charged.state, 'yes').action).toBeNull();
    expect(settle(charged.state, 'succeeded').status).toBe('completed');
  });
});

describe('interpreter answers', () => {
  it('never takes a name with digits of any script or a mask from a model', async () => {
    const { log } = captureLogs();
    for (const name of ['４２４２ ４２４２', '٤٢٤٢', 'Jane 4242', '[REDACTED CARD]', 'REDACTED CARD]'])
      expect(
        await interpretWithin({ name: 'm', interpret: async () => ({ name }) }, 'x', 'name', 1000, log),
      ).toBeNull();
    expect(
      await interpretWithin(
        { name: 'm', interpret: async () => ({ name: 'Zoë Ōta' }) },
        'x',
        'name',
        1000,
        log,
      ),
    ).toEqual({
      name: 'Zoë Ōta',
    });
  });
});
