// PayBot's tables: chat sessions (the dialog state, so any replica can answer the next message),
// the hashed API keys of callers, and each charge attempt sent to Stripe.
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  sql,
  text,
  timestamp,
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
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (table) => [index('payment_attempts_session_idx').on(table.sessionId)],
);
