// CreditBot's tables: one row per credit request (keyed by Slack channel and message ts, whatever
// the intake mode), the polling cursor per channel, and the sample SMS traffic the sandbox Looker serves.
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  sql,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from '../../platform/db/drizzle.ts';

export const CREDIT_REQUEST_STATUSES = ['queued', 'processing', 'done', 'failed'] as const;
export type CreditRequestStatus = (typeof CREDIT_REQUEST_STATUSES)[number];
export type CreditIntake = 'events' | 'socket' | 'poll' | 'cli' | 'sandbox' | 'api';

export const creditRequests = pgTable(
  'credit_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** `channel:ts`: the same Slack message is one request across intake modes, restarts and workers. */
    messageKey: varchar('message_key', { length: 100 }).notNull(),
    channel: varchar('channel', { length: 100 }).notNull(),
    ts: varchar('ts', { length: 32 }).notNull(),
    /** A thread reply's parent: answers go to this thread (null: the message's own thread). */
    threadTs: varchar('thread_ts', { length: 32 }),
    text: text('text').notNull(),
    intake: text('intake').notNull().$type<CreditIntake>(),
    status: text('status').notNull().$type<CreditRequestStatus>().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    /** Bumped by each retry a person asks for, so that round's failure notes are new messages. */
    round: integer('round').notNull().default(1),
    /** Combined credit in integer cents, once computed. */
    amountCents: bigint('amount_cents', { mode: 'number' }),
    /**
     * The compact summary (links, product, calculator, summary table, amount, duration); for a
     * failed request, each link it got through and the one that failed (CreditProgress).
     */
    summary: jsonb('summary'),
    error: text('error'),
    /** Set when the message was edited after it was answered and is computed again for its new text. */
    editedAt: timestamp('edited_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('credit_requests_message_key_idx').on(table.messageKey),
    index('credit_requests_created_idx').on(table.createdAt),
    check(
      'credit_requests_amount_nonnegative',
      sql`${table.amountCents} is null or ${table.amountCents} >= 0`,
    ),
  ],
);

export type CreditRequestRow = typeof creditRequests.$inferSelect;

/** The newest message ts read per channel by polling: the next pass (or the catch-up after a restart) starts there. */
export const creditPollCursors = pgTable('credit_poll_cursors', {
  channel: varchar('channel', { length: 100 }).primaryKey(),
  latestTs: varchar('latest_ts', { length: 32 }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Sample SMS traffic that the sandbox Looker's Looks and Explores query. */
export const creditSampleTraffic = pgTable('credit_sample_sms_traffic', {
  id: integer('id').primaryKey(),
  accountSid: varchar('account_sid', { length: 34 }).notNull(),
  product: varchar('product', { length: 40 }).notNull(),
  fraudGuardMode: varchar('fraud_guard_mode', { length: 20 }).notNull(),
  destinationCountry: varchar('destination_country', { length: 2 }).notNull(),
  msgCount: integer('msg_count').notNull(),
  /** US dollars, exact (numeric reads back as a decimal string, never a float). */
  fraudCost: numeric('fraud_cost', { precision: 14, scale: 6 }).notNull(),
});
