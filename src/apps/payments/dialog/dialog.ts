// The dialog engine: a pure function from (state, one redacted message, what the service already
// looked up) to (new state, reply, the one side effect to perform). No I/O here: Stripe calls,
// invoice lookups and the optional language model are done by the caller (chat.ts) around it.
import { formatMoney } from '../../../platform/money.ts';
import { correctionTarget, type Extracted, extract, type Intent, namedField, parseIntent } from './parse.ts';
import type { CardSource } from './state.ts';
import { type CardSummary, type DialogState, type Field, initialState, nextField } from './state.ts';

export interface DialogOptions {
  defaultCurrency: string;
  maxRetries: number;
  handoffMessage: string;
}

export type InvoiceLookup =
  | { id: string; found: false }
  | { id: string; found: true; amountMinor: number; currency: string; payable: boolean };

export interface Turn {
  /** The message with card numbers and security codes already replaced by masks. */
  text: string;
  /** What redaction removed, so the customer is told to use the secure card step. */
  redacted: { card: boolean; cvv: boolean };
  /** The invoice the message (or the /pay link) names, looked up by the caller. */
  invoice?: InvoiceLookup;
  /** The card Stripe collected since the last turn (ConfirmationToken or completed Checkout). */
  card?: CardSummary & { source: CardSource };
  /** Fields a language model read from free text the rules could not (null: none, or no model). */
  interpreted?: Extracted | null;
}

export type Action = 'open_card' | 'charge' | null;

export interface Outcome {
  state: DialogState;
  reply: string;
  action: Action;
}

export type ChargeResult =
  | { kind: 'succeeded' | 'processing'; paymentIntentId: string }
  | { kind: 'requires_action'; paymentIntentId: string }
  | { kind: 'declined'; message: string }
  | { kind: 'unavailable' };

export const PROMPTS: Record<Field, string> = {
  name: 'What is your full name?',
  amount: 'How much would you like to pay? For example $50.00 or 50 EUR.',
  card: 'Please enter your card in the secure card form from Stripe (your card details never pass through this chat).',
  confirmation: 'Reply "yes" to pay, or "no" to change something.',
};

const CARD_WARNING =
  'For your security, never type card details into the chat: I removed them and did not keep them. ' +
  'Your card goes only into the secure card form.';

/** Whether the rules read nothing in this message, so a language model may be asked. */
export function rulesFoundNothing(state: DialogState, text: string, options: DialogOptions): boolean {
  if (state.status === 'completed' || state.status === 'error') return false;
  if (state.currentField === 'card' || state.currentField === 'confirmation') return false;
  if (parseIntent(text) !== null) return false;
  const { found, problems } = extract(text, state.currentField, options.defaultCurrency);
  return Object.keys(found).length === 0 && Object.keys(problems).length === 0;
}

export function startConversation(): Outcome {
  return {
    state: initialState(),
    reply: `Hi! I can take a payment for you. ${PROMPTS.name}`,
    action: null,
  };
}

export function advance(previous: DialogState, turn: Turn, options: DialogOptions): Outcome {
  const state: DialogState = { ...previous };
  const notes: string[] = [];
  if (turn.redacted.card || turn.redacted.cvv) notes.push(CARD_WARNING);
  const intent: Intent = parseIntent(turn.text);

  // A new conversation in the same session is a new charge attempt: its idempotency key must differ
  // from any earlier payment's, or Stripe would answer the earlier one (or refuse other parameters).
  const fresh = (): DialogState => ({ ...initialState(), attempt: previous.attempt + 1 });
  if (intent === 'cancel') {
    return {
      state: fresh(),
      reply: `${prefix(notes)}Cancelled: nothing was charged. Whenever you are ready, tell me your name to start again.`,
      action: null,
    };
  }
  if (intent === 'restart') {
    return {
      state: fresh(),
      reply: `${prefix(notes)}Let's start over. ${PROMPTS.name}`,
      action: null,
    };
  }
  if (state.status === 'completed') {
    return {
      state,
      reply: `${prefix(notes)}Your payment${summaryAmount(state)} is complete.${receiptNote(state, 'sent')} Say "restart" to make another payment.`,
      action: null,
    };
  }
  if (state.status === 'error')
    return { state, reply: `${prefix(notes)}${options.handoffMessage}`, action: null };

  if (turn.card) {
    state.card = turn.card;
    state.checkoutSessionId = undefined;
  }

  // A charge already under way: a repeated "yes" (or a client retry) must not start another.
  if (state.paymentIntentId && state.chargeStatus && state.chargeStatus !== 'failed') {
    if (state.chargeStatus === 'requires_action' && intent === 'yes')
      return { state, reply: '', action: 'charge' };
    const waiting =
      state.chargeStatus === 'requires_action'
        ? 'Your bank needs you to verify this payment: please complete the check it shows you.'
        : 'Your payment is being processed; I will confirm as soon as Stripe does.';
    return { state, reply: `${prefix(notes)}${waiting}`, action: null };
  }

  const read = extract(turn.text, state.currentField, options.defaultCurrency);
  let found: Extracted = read.found;
  // The receipt address may come in any message; it never holds the conversation up.
  const emailGiven = Boolean(read.found.email && read.found.email !== state.receiptEmail);
  if (emailGiven && read.found.email) {
    state.receiptEmail = read.found.email;
    notes.push(`Stripe will email your receipt to ${state.receiptEmail}.`);
  }
  if (Object.keys(found).length === 0 && turn.interpreted) found = turn.interpreted;

  if (state.currentField === 'confirmation' && intent === 'yes' && !hasAny(found)) {
    state.askedWhatToChange = false;
    return { state, reply: notes.join(' '), action: 'charge' };
  }

  // "no" at confirmation, then what to change.
  let clear: Field | null = null;
  if (state.currentField === 'confirmation' && (intent === 'no' || state.askedWhatToChange)) {
    clear = namedField(turn.text);
    if (!clear && !hasAny(found)) {
      state.askedWhatToChange = true;
      return {
        state,
        reply: `${prefix(notes)}What would you like to change: your name, the amount, or the card?`,
        action: null,
      };
    }
  } else {
    const target = correctionTarget(turn.text);
    if (target && !found[target === 'amount' ? 'amount' : 'name'] && target !== 'card') clear = target;
    if (target === 'card') clear = 'card';
  }
  state.askedWhatToChange = false;

  const applied = apply(state, found, turn, notes);
  if (clear && !applied.includes(clear)) {
    if (clear === 'amount' && state.invoiceId) {
      notes.push(`The amount is fixed by invoice ${state.invoiceId}.`);
    } else {
      forget(state, clear);
      applied.push(clear);
    }
  }

  const before = state.currentField;
  const field = nextField(state);
  if (applied.length > 0 || field !== before) state.retries = 0;

  if (applied.length === 0 && field === before && !turn.card && emailGiven) {
    // Only the receipt address: noted, and the question stands (the card form already shown stays).
    return { state, reply: `${prefix(notes)}${prompt(state)}`, action: null };
  }
  if (applied.length === 0 && field === before && !turn.card) {
    // Nothing usable in this message.
    const problem = before === 'name' || before === 'amount' ? read.problems[before] : undefined;
    if (intent === 'smalltalk' || intent === 'help' || (intent === 'yes' && before !== 'confirmation')) {
      return {
        state,
        reply: `${prefix(notes)}${smallTalk(turn.text, intent)} ${prompt(state)}`,
        action: null,
      };
    }
    if (notes.length > 0 && !problem && before === 'card') {
      return { state, reply: `${prefix(notes)}${PROMPTS.card}`, action: 'open_card' };
    }
    state.retries += 1;
    if (state.retries > options.maxRetries) {
      state.status = 'error';
      return { state, reply: `${prefix(notes)}${options.handoffMessage}`, action: null };
    }
    const why = problem
      ? `Sorry, ${problem}.`
      : before === 'card'
        ? 'I do not have your card yet.'
        : `Sorry, I could not read ${before === 'name' ? 'a name' : before === 'amount' ? 'an amount' : 'that'} there.`;
    return {
      state,
      reply: `${prefix(notes)}${why} ${prompt(state)}`,
      action: before === 'card' ? 'open_card' : null,
    };
  }

  state.currentField = field;
  if (field === 'card') {
    state.status = 'collecting';
    return {
      state,
      reply: `${prefix(notes)}${acknowledge(state, applied)}${PROMPTS.card}`,
      action: 'open_card',
    };
  }
  if (field === 'confirmation') {
    state.status = 'confirming';
    return { state, reply: `${prefix(notes)}${summary(state)} ${PROMPTS.confirmation}`, action: null };
  }
  state.status = 'collecting';
  return { state, reply: `${prefix(notes)}${acknowledge(state, applied)}${PROMPTS[field]}`, action: null };
}

/** The state after Stripe answered a charge; a decline goes back to the card step. */
export function afterCharge(previous: DialogState, result: ChargeResult): Outcome {
  const state: DialogState = { ...previous };
  switch (result.kind) {
    case 'succeeded':
    case 'processing':
      state.paymentIntentId = result.paymentIntentId;
      state.chargeStatus = result.kind;
      state.status = 'confirming';
      return {
        state,
        reply: `Thank you! Your payment${summaryAmount(state)} is being confirmed by Stripe; this takes a moment.${receiptNote(state)}`,
        action: null,
      };
    case 'requires_action':
      state.paymentIntentId = result.paymentIntentId;
      state.chargeStatus = 'requires_action';
      state.status = 'confirming';
      return {
        state,
        reply: 'Your bank needs you to verify this payment. Please complete the check it shows you.',
        action: null,
      };
    case 'declined':
      state.card = undefined;
      state.paymentIntentId = undefined;
      state.chargeStatus = undefined;
      state.attempt += 1;
      state.currentField = 'card';
      state.status = 'collecting';
      return {
        state,
        reply: `${result.message} Nothing was charged. Please try another card in the secure form.`,
        action: 'open_card',
      };
    case 'unavailable':
      state.status = 'confirming';
      return {
        state,
        reply: 'I could not reach the payment service, and nothing was charged. Reply "yes" to try again.',
        action: null,
      };
  }
}

/** The Stripe webhook settled the payment: the only way a session becomes completed. */
export function settle(
  previous: DialogState,
  outcome: 'succeeded' | 'failed',
  message?: string,
): DialogState {
  const state: DialogState = { ...previous };
  if (outcome === 'succeeded') {
    state.status = 'completed';
    state.chargeStatus = 'succeeded_confirmed';
    state.currentField = 'confirmation';
    return state;
  }
  return afterCharge(state, { kind: 'declined', message: message ?? 'The payment failed.' }).state;
}

function apply(state: DialogState, found: Extracted, turn: Turn, notes: string[]): Field[] {
  const applied: Field[] = [];
  if (found.name && found.name !== state.name) {
    state.name = found.name;
    applied.push('name');
  }
  if (turn.invoice && turn.invoice.id !== state.invoiceId) {
    if (!turn.invoice.found) notes.push(`I could not find invoice ${turn.invoice.id}.`);
    else if (!turn.invoice.payable) notes.push(`Invoice ${turn.invoice.id} is not open for payment.`);
    else {
      state.invoiceId = turn.invoice.id;
      state.amountMinor = turn.invoice.amountMinor;
      state.currency = turn.invoice.currency;
      notes.push(
        `Invoice ${turn.invoice.id}: ${formatMoney(turn.invoice.amountMinor, turn.invoice.currency)}.`,
      );
      applied.push('amount');
    }
  } else if (found.amount) {
    if (state.invoiceId) {
      if (found.amount.minor !== state.amountMinor)
        notes.push(`The amount is fixed by invoice ${state.invoiceId}.`);
    } else if (found.amount.minor !== state.amountMinor || found.amount.currency !== state.currency) {
      state.amountMinor = found.amount.minor;
      state.currency = found.amount.currency;
      applied.push('amount');
    }
  }
  if (turn.card) applied.push('card');
  return applied;
}

function forget(state: DialogState, field: Field): void {
  if (field === 'name') state.name = undefined;
  if (field === 'amount') {
    state.amountMinor = undefined;
    state.currency = undefined;
  }
  if (field === 'card') {
    state.card = undefined;
    state.checkoutSessionId = undefined;
  }
}

const hasAny = (found: Extracted) => Boolean(found.name || found.amount || found.invoiceId);
const prefix = (notes: string[]) => (notes.length ? `${notes.join(' ')} ` : '');

function prompt(state: DialogState): string {
  return state.currentField === 'confirmation'
    ? `${summary(state)} ${PROMPTS.confirmation}`
    : PROMPTS[state.currentField];
}

function acknowledge(state: DialogState, applied: Field[]): string {
  const parts: string[] = [];
  if (applied.includes('name') && state.name) parts.push(`Thanks, ${state.name}.`);
  if (applied.includes('amount') && state.amountMinor !== undefined && state.currency && !state.invoiceId)
    parts.push(`Amount: ${formatMoney(state.amountMinor, state.currency)}.`);
  return parts.length ? `${parts.join(' ')} ` : '';
}

function summaryAmount(state: DialogState): string {
  return state.amountMinor !== undefined && state.currency
    ? ` of ${formatMoney(state.amountMinor, state.currency)}`
    : '';
}

/** Brand, last 4 digits and expiry: all a summary ever shows of a card. */
export function describeCard(card: CardSummary): string {
  const brand = card.brand.charAt(0).toUpperCase() + card.brand.slice(1);
  return `${brand} ending in ${card.last4} (expires ${String(card.expMonth).padStart(2, '0')}/${String(card.expYear).slice(-2)})`;
}

export function summary(state: DialogState): string {
  const what = state.invoiceId ? ` for invoice ${state.invoiceId}` : '';
  const receipt = state.receiptEmail
    ? ` Receipt by email to ${state.receiptEmail}.`
    : ' For a receipt by email, send me your email address.';
  return `Please confirm: pay ${formatMoney(state.amountMinor ?? 0, state.currency ?? 'USD')}${what} as ${state.name} with ${state.card ? describeCard(state.card) : 'your card'}.${receipt}`;
}

/** What the customer hears about the receipt once the payment is made (nothing without an address). */
function receiptNote(state: DialogState, when: 'will' | 'sent' = 'will'): string {
  if (!state.receiptEmail) return '';
  return when === 'sent'
    ? ` Stripe sends the receipt to ${state.receiptEmail}.`
    : ` Stripe will email your receipt to ${state.receiptEmail}.`;
}

function smallTalk(text: string, intent: Intent): string {
  if (intent === 'help')
    return 'I take card payments: I need your name, the amount, and your card in the secure form.';
  if (/\b(?:who|what) are you\b|\bbot\b|\bhuman\b|\breal\b/i.test(text))
    return "I'm PayBot, an automated payment assistant.";
  if (/\bhow are you\b/i.test(text)) return "I'm well, thanks for asking.";
  if (/^(?:thanks|thank you|cheers)/i.test(text)) return "You're welcome.";
  if (/^(?:yes|y|yeah|ok|okay|sure)/i.test(text)) return 'Great.';
  if (/\bpay/i.test(text)) return "Sure, I'll help you pay.";
  if (/\b(?:weather|joke)\b/i.test(text)) return "I can only help with payments, I'm afraid.";
  return 'Hello!';
}
