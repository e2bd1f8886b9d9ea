// One chat turn: redact, read the session (and refuse it past its messages per minute), look up
// what the message refers to (an invoice, the card Stripe collected), let the dialog decide, perform
// its one action against Stripe, and store the new state. Used by POST /chat; the dialog itself is
// pure (dialog/dialog.ts).

import type { Database } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/log.ts';
import { formatMoney } from '../../platform/money.ts';
import { containsCardNumber, errorText } from '../../platform/redact.ts';
import type { PaymentsConfig } from './config.ts';
import {
  advance,
  afterCharge,
  type ChargeResult,
  type InvoiceLookup,
  type Outcome,
  PROMPTS,
  rulesFoundNothing,
  type Turn,
} from './dialog/dialog.ts';
import { parseInvoiceId } from './dialog/parse.ts';
import { type DialogState, type Field, initialState, type Status } from './dialog/state.ts';
import { type FreeTextInterpreter, interpretWithin } from './interpreter.ts';
import type { PaymentMetrics } from './metrics.ts';
import { redactMessage } from './redact-message.ts';
import { SessionLocks } from './session-lock.ts';
import { findInvoice, loadSession, recordAttempt, saveSession } from './store.ts';
import {
  cardFromCheckout,
  cardFromConfirmationToken,
  charge,
  idempotencyKey,
  openCardStep,
  type StripeClient,
} from './stripe-gateway.ts';

export interface ChatDeps {
  db: Database;
  stripe: StripeClient | null;
  config: PaymentsConfig;
  interpreter: FreeTextInterpreter;
  log: Logger;
  locks: SessionLocks;
  metrics: PaymentMetrics;
}

export interface ChatRequest {
  sessionId: string;
  message: string;
  /** From the /pay page's Payment Element (embedded mode). */
  confirmationToken?: string;
  /** From /pay?invoice=<id>. */
  invoiceId?: string;
  /** Where Stripe sends the customer back (Checkout, 3-D Secure): the /pay page. */
  returnUrl: string;
}

/** What the customer is about to pay, shown with the card step (before any card is asked for). */
export interface PaymentPurpose {
  /** The amount formatted once, by platform/money.ts ("$25.99"). */
  amountText: string;
  /** "Invoice INV-77", or "Payment to <brand>". */
  description: string;
}

export type PaymentAction =
  | ({ checkoutUrl: string } & PaymentPurpose)
  | ({ publishableKey: string; amount: number; currency: string } & PaymentPurpose)
  | { clientSecret: string; nextAction: unknown };

export interface ChatResponse {
  response: string;
  status: Status;
  sessionId: string;
  currentField: Field;
  payment?: PaymentAction;
}

const MAX_RACES = 5;

export const createSessionLocks = () => new SessionLocks();

export function handleChat(deps: ChatDeps, request: ChatRequest): Promise<ChatResponse> {
  // An id holding a card number is refused, never stored as a key or quoted back (PCI DSS FAQ 1157).
  for (const [field, id] of [
    ['sessionId', request.sessionId],
    ['invoiceId', request.invoiceId],
  ] as const) {
    if (id && containsCardNumber(id))
      throw new AppError(
        'invalid_input',
        `The ${field} looks like a card number; card numbers are not accepted`,
        {
          details: [{ field: `body.${field}`, message: 'looks like a card number' }],
        },
      );
  }
  const started = performance.now();
  return deps.locks.run(request.sessionId, async () => {
    for (let race = 0; race < MAX_RACES; race++) {
      const stripeUse = { called: false };
      const answer = await takeTurn(deps, request, stripeUse);
      if (answer) {
        deps.metrics.turnDuration.observe(
          { stripe: stripeUse.called ? 'called' : 'none' },
          (performance.now() - started) / 1000,
        );
        return answer;
      }
      deps.log.debug(
        { sessionId: request.sessionId },
        'another replica answered this session first; redoing the turn',
      );
    }
    throw new Error('the session kept changing under this message');
  });
}

/**
 * One attempt at the turn; null when another replica saved the session in between. `stripeUse` is set
 * when the turn calls Stripe (for the turn-duration metric).
 */
async function takeTurn(
  deps: ChatDeps,
  request: ChatRequest,
  stripeUse: { called: boolean },
): Promise<ChatResponse | null> {
  const { db, config, stripe, log } = deps;
  const stored = await loadSession(db, request.sessionId);
  if (stored && stored.messagesThisMinute >= config.ratePerSessionPerMinute)
    throw new AppError('rate_limited', 'Too many messages in this session; wait a moment', {
      retryAfterSeconds: Math.max(1, stored.windowSecondsLeft),
    });
  // An expired session starts over as a new charge attempt (a fresh idempotency key at Stripe).
  let state: DialogState =
    stored && !stored.expired
      ? stored.state
      : { ...initialState(), attempt: (stored?.state.attempt ?? 0) + 1 };
  const notes: string[] = [];
  if (stored?.expired) {
    notes.push(
      `Your previous conversation expired after ${Math.round(config.sessionTtlMs / 60_000)} minutes without a message, so we are starting over.`,
    );
  }
  const redacted = redactMessage(request.message, state.currentField, state.cardFragments ?? 0);
  const turn: Turn = { text: redacted.text, redacted: redacted.redacted };
  // A second card piece in a row: the amount the first piece set was card digits too.
  if (redacted.fragment && redacted.redacted.card && state.amountFromFragment && !state.invoiceId)
    state = { ...state, amountMinor: undefined, currency: undefined };
  const amountBefore = state.amountMinor;

  const invoiceId = request.invoiceId ?? parseInvoiceId(redacted.text);
  if (invoiceId && invoiceId !== state.invoiceId) turn.invoice = await lookupInvoice(db, invoiceId);

  if (stripe && !state.card) {
    try {
      if (request.confirmationToken) {
        stripeUse.called = true;
        turn.card = (await cardFromConfirmationToken(stripe, request.confirmationToken)) ?? undefined;
      } else if (state.currentField === 'card' && state.checkoutSessionId) {
        stripeUse.called = true;
        turn.card = (await cardFromCheckout(stripe, state.checkoutSessionId)) ?? undefined;
      }
    } catch (error) {
      log.warn({ err: error, sessionId: request.sessionId }, 'could not read the card from Stripe');
    }
  }

  // Waiting on the bank's check (3-D Secure): ask Stripe how it ended, so the customer is not told to
  // verify again after doing so. Only the webhook makes the session completed.
  if (stripe && state.chargeStatus === 'requires_action' && state.paymentIntentId) {
    stripeUse.called = true;
    const settled = await authenticationOutcome(stripe, state.paymentIntentId, log);
    if (settled) state = afterCharge(state, settled).state;
  }

  const options = {
    defaultCurrency: config.defaultCurrency,
    maxRetries: config.maxRetries,
    handoffMessage: config.handoffMessage,
  };
  // A bare digit group may be a piece of a card: never offered to a model.
  if (!turn.card && !turn.invoice && !redacted.fragment && rulesFoundNothing(state, turn.text, options)) {
    turn.interpreted = await interpretWithin(
      deps.interpreter,
      turn.text,
      state.currentField,
      config.interpreterTimeoutMs,
      log,
    );
  }

  let outcome: Outcome = advance(state, turn, options);
  const { cardFragments: _count, amountFromFragment: _fromPiece, ...rest } = outcome.state;
  outcome.state = rest;
  if (redacted.fragment) {
    outcome.state.cardFragments = (state.cardFragments ?? 0) + 1;
    if (outcome.state.amountMinor !== undefined && outcome.state.amountMinor !== amountBefore)
      outcome.state.amountFromFragment = true;
  }
  let payment: PaymentAction | undefined;
  const replies = [...notes, outcome.reply];
  for (let step = 0; step < 2 && outcome.action; step++) {
    const action = outcome.action;
    outcome = { ...outcome, action: null };
    if (!stripe) {
      outcome.state = { ...outcome.state, status: 'error' };
      // Do not invite the customer to a card form that cannot open.
      replies[replies.length - 1] = (replies.at(-1) ?? '').replace(PROMPTS.card, '').trim();
      replies.push(
        'Card payments are not set up on this server yet, so I cannot take the payment. Nothing was charged.',
      );
      break;
    }
    stripeUse.called = true;
    if (action === 'open_card') {
      try {
        const step = await openCardStep(stripe, config, request.sessionId, outcome.state, request.returnUrl);
        const purpose = paymentPurpose(outcome.state, config);
        if (step.mode === 'hosted') {
          outcome.state = { ...outcome.state, checkoutSessionId: step.checkoutSessionId };
          payment = { checkoutUrl: step.checkoutUrl, ...purpose };
          replies.push(
            `Open the secure Stripe page to enter your card: ${step.checkoutUrl} - then tell me when you are done.`,
          );
        } else {
          payment = {
            publishableKey: step.publishableKey,
            amount: step.amount,
            currency: step.currency,
            ...purpose,
          };
        }
      } catch (error) {
        log.warn({ err: error, sessionId: request.sessionId }, 'could not open the card step');
        replies.push(
          'I could not open the secure card form just now. Please say "card" to try again in a moment.',
        );
      }
    } else if (action === 'charge') {
      const key = idempotencyKey(request.sessionId, 'charge', outcome.state.attempt);
      const charged = await charge(stripe, request.sessionId, outcome.state, request.returnUrl);
      if (charged.failure)
        log.warn({ sessionId: request.sessionId, reason: charged.failure }, 'charge failed at Stripe');
      const result = charged.result;
      await recordAttempt(db, {
        idempotencyKey: key,
        sessionId: request.sessionId,
        paymentIntentId: 'paymentIntentId' in result ? result.paymentIntentId : null,
        amountMinor: outcome.state.amountMinor ?? 0,
        currency: outcome.state.currency ?? config.defaultCurrency,
        invoiceId: outcome.state.invoiceId ?? null,
        status: result.kind,
        error: storedFailure(result.kind === 'declined' ? result.message : charged.failure),
      });
      if (charged.clientAction) payment = charged.clientAction;
      outcome = afterCharge(outcome.state, result);
      replies.push(outcome.reply);
    }
  }

  const saved = await saveSession(
    db,
    request.sessionId,
    outcome.state,
    stored?.version ?? null,
    config.sessionTtlMs,
  );
  if (!saved) return null;
  return {
    response: replies.filter(Boolean).join(' '),
    status: outcome.state.status,
    sessionId: request.sessionId,
    currentField: outcome.state.currentField,
    ...(payment ? { payment } : {}),
  };
}

export function paymentPurpose(state: DialogState, config: PaymentsConfig): PaymentPurpose {
  return {
    amountText: formatMoney(state.amountMinor ?? 0, state.currency ?? config.defaultCurrency),
    description: state.invoiceId ? `Invoice ${state.invoiceId}` : `Payment to ${config.brand.name}`,
  };
}

/** Stripe's words about a failed charge, as kept in payment_attempts: scrubbed of card data and keys. */
const storedFailure = (message: string | undefined) => (message ? errorText(message) : null);

async function authenticationOutcome(
  stripe: StripeClient,
  paymentIntentId: string,
  log: Logger,
): Promise<ChargeResult | null> {
  try {
    const intent = await stripe.paymentIntents.retrieve(paymentIntentId);
    if (intent.status === 'succeeded' || intent.status === 'processing')
      return { kind: intent.status === 'succeeded' ? 'succeeded' : 'processing', paymentIntentId };
    if (intent.status === 'requires_payment_method')
      return {
        kind: 'declined',
        message: intent.last_payment_error?.message ?? 'The payment was not authenticated.',
      };
    return null;
  } catch (error) {
    log.warn({ err: error, paymentIntentId }, 'could not read the PaymentIntent from Stripe');
    return null;
  }
}

async function lookupInvoice(db: Database, id: string): Promise<InvoiceLookup> {
  const invoice = await findInvoice(db.orm, id);
  if (!invoice) return { id, found: false };
  return {
    id,
    found: true,
    amountMinor: invoice.amountMinor,
    currency: invoice.currency,
    payable:
      invoice.matchedStatus !== 'PAID' && invoice.matchedStatus !== 'REJECTED' && invoice.amountMinor > 0,
  };
}
