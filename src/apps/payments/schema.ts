// PayBot's tables: chat sessions (the dialog state, so any replica can answer the next message),
// the hashed API keys of callers, each charge attempt sent to Stripe, and the refunds of those charges.
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  sql,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from '../../platform/db/drizzle.ts';

export const chatSessions = pgTable(
  'chat_sessions',
  {
    id: varchar('id', { length: 100 }).primaryKey(),
    /** The dialog state (see dialog/state.ts). Holds redacted text only, never card data. */
    state: jsonb('state').notNull(),
    /** Bumped by every turn: a replica that read an older version retries instead of overwriting. */
    version: integer('version').notNull().default(0),
    status: varchar('status', { length: 20 }).notNull(),
    /** Stripe objects this session made, so webhooks find their session. */
    paymentIntentId: varchar('payment_intent_id', { length: 100 }),
    checkoutSessionId: varchar('checkout_session_id', { length: 100 }),
    /**
     * The per-session rate limit, counted in the row the turn reads and writes anyway (no extra
     * round trip, and every replica sees it): messages since `window_started_at`, a fixed minute.
     */
    windowStartedAt: timestamp('window_started_at', { withTimezone: true }),
    windowMessages: integer('window_messages').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /**
     * When the person's data in `state` (name, receipt email, card summary) was erased, by the
     * retention job or on request; the row stays for what accounting needs (see erasure.ts).
     */
    erasedAt: timestamp('erased_at', { withTimezone: true }),
  },
  (table) => [
    index('chat_sessions_expires_idx').on(table.expiresAt),
    index('chat_sessions_payment_intent_idx').on(table.paymentIntentId),
    index('chat_sessions_checkout_idx').on(table.checkoutSessionId),
  ],
);

export type ChatSessionRow = typeof chatSessions.$inferSelect;

export const chatApiKeys = pgTable('chat_api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: varchar('name', { length: 100 }).notNull(),
  /** SHA-256 of the key, hex: the key itself is shown once, at creation. */
  keyHash: varchar('key_hash', { length: 64 }).notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export const paymentAttempts = pgTable(
  'payment_attempts',
  {
    /** The idempotency key sent to Stripe: `paybot:<session>:<attempt>`. */
    idempotencyKey: varchar('idempotency_key', { length: 200 }).primaryKey(),
    sessionId: varchar('session_id', { length: 100 }).notNull(),
    paymentIntentId: varchar('payment_intent_id', { length: 100 }),
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: varchar('currency', { length: 3 }).notNull(),
    invoiceId: varchar('invoice_id', { length: 100 }),
    /** Stripe's status, then `succeeded` / `failed` from the webhook. */
    status: varchar('status', { length: 40 }).notNull(),
    error: text('error'),
    /**
     * Refunded or being refunded (every refund not failed or canceled), reserved before Stripe is
     * asked: the check below makes "never more than was charged" the database's rule, whatever the
     * number of operators refunding at once.
     */
    refundedMinor: bigint('refunded_minor', { mode: 'number' }).notNull().default(0),
    /** Stripe's own total (`amount_refunded` of charge.refunded), for reconciliation. */
    stripeRefundedMinor: bigint('stripe_refunded_minor', { mode: 'number' }),
    chargeId: varchar('charge_id', { length: 100 }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (table) => [
    index('payment_attempts_session_idx').on(table.sessionId),
    index('payment_attempts_payment_intent_idx').on(table.paymentIntentId),
    check(
      'payment_attempts_refunds_within_charge',
      sql`${table.refundedMinor} >= 0 and ${table.refundedMinor} <= ${table.amountMinor}`,
    ),
  ],
);

export type PaymentAttemptRow = typeof paymentAttempts.$inferSelect;

export const paymentRefunds = pgTable(
  'payment_refunds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    paymentIntentId: varchar('payment_intent_id', { length: 100 }).notNull(),
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: varchar('currency', { length: 3 }).notNull(),
    /** Stripe's reasons: duplicate, fraudulent, requested_by_customer (null for one made at Stripe). */
    reason: varchar('reason', { length: 40 }),
    /** `requested` until Stripe answers; then Stripe's: pending, succeeded, failed, canceled, requires_action. */
    status: varchar('status', { length: 30 }).notNull(),
    failureReason: text('failure_reason'),
    /** The Idempotency-Key sent to Stripe (`paybot:refund:<id>`): a retry is the same refund. */
    idempotencyKey: varchar('idempotency_key', { length: 200 }).notNull().unique(),
    /** The operator's own Idempotency-Key header: the same request again answers this refund. */
    requestKey: varchar('request_key', { length: 200 }),
    stripeRefundId: varchar('stripe_refund_id', { length: 100 }).unique(),
    /** `api` (POST /payments/:id/refunds) or `stripe` (made in Stripe's dashboard, learnt by webhook). */
    source: varchar('source', { length: 20 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('payment_refunds_payment_intent_idx').on(table.paymentIntentId),
    uniqueIndex('payment_refunds_request_key_idx').on(table.paymentIntentId, table.requestKey),
    check('payment_refunds_amount_positive', sql`${table.amountMinor} > 0`),
  ],
);

export type PaymentRefundRow = typeof paymentRefunds.$inferSelect;
