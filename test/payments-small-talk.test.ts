// What PayBot answers a customer who asks for help or chats instead of paying: a short answer, then
// the question it still needs answered, so the payment carries on. The dialog engine on its own.
// (At the name question other chat, "thank you" or "how are you today", is taken as the name.)
import { describe, expect, it } from 'vitest';
import { advance, type DialogOptions } from '../src/apps/payments/dialog/dialog.ts';
import { initialState } from '../src/apps/payments/dialog/state.ts';
import { redactMessage } from '../src/apps/payments/redact-message.ts';

const options: DialogOptions = { defaultCurrency: 'USD', maxRetries: 2, handoffMessage: 'HANDOFF' };

function reply(text: string) {
  const state = initialState();
  const redacted = redactMessage(text, state.currentField);
  return advance(state, { text: redacted.text, redacted: redacted.redacted }, options);
}

describe('PayBot small talk', () => {
  it.each([
    ['help', 'I take card payments: I need your name, the amount, and your card in the secure form.'],
    ['are you a bot?', "I'm PayBot, an automated payment assistant."],
  ])('"%s" gets "%s", and the question for the name', (text, expected) => {
    const outcome = reply(text);
    expect(outcome.reply).toContain(expected);
    expect(outcome.state.currentField).toBe('name');
    expect(outcome.reply).toMatch(/name/i);
    expect(outcome.action ?? null).toBeNull();
  });
});
