// The dialog's state: what a session has collected so far and where the conversation stands. It is
// stored as JSON in chat_sessions and must never hold card data: the card is known only by what
// Stripe tells us about it (brand, last 4 digits, expiry) and by Stripe's own object ids.

export type Status = 'collecting' | 'confirming' | 'completed' | 'error';
export type Field = 'name' | 'amount' | 'card' | 'confirmation';
export const FIELDS: readonly Field[] = ['name', 'amount', 'card', 'confirmation'];

export interface CardSummary {
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

/** Where the card came from: a ConfirmationToken (embedded) or a Checkout Session in setup mode (hosted). */
export type CardSource =
  | { kind: 'confirmation_token'; id: string }
  | { kind: 'payment_method'; id: string; checkoutSessionId: string };

export interface DialogState {
  status: Status;
  currentField: Field;
  name?: string;
  amountMinor?: number;
  currency?: string;
  /** Optional: Stripe emails its receipt here (`receipt_email`). Personal data: erased with the session. */
  receiptEmail?: string;
  /** Set when paying an invoice: the amount then comes from the invoice and cannot be changed. */
  invoiceId?: string;
  card?: CardSummary & { source: CardSource };
  /** Hosted card step: the Checkout Session waiting for the customer. */
  checkoutSessionId?: string;
  /** Increases with each charge attempt (after a decline): part of the idempotency key. */
  attempt: number;
  /** Failed tries at the current field. */
  retries: number;
  /** After "no" at confirmation: the next message names what to change. */
  askedWhatToChange?: boolean;
  /** The PaymentIntent of the current attempt, once created. */
  paymentIntentId?: string;
  /** Stripe's answer to the last charge (`succeeded`, `requires_action`, `processing`). */
  chargeStatus?: string;
  /** Messages in a row that were only a 4-6 digit group (a card typed in pieces); a count, never digits. */
  cardFragments?: number;
  /** The amount was read from such a piece, so it is dropped if the next message is another piece. */
  amountFromFragment?: boolean;
}

export const initialState = (): DialogState => ({
  status: 'collecting',
  currentField: 'name',
  attempt: 1,
  retries: 0,
});

/** The first field still missing, in the order a payment needs them. */
export function nextField(state: DialogState): Field {
  if (!state.name) return 'name';
  if (state.amountMinor === undefined) return 'amount';
  if (!state.card) return 'card';
  return 'confirmation';
}
