// CreditBot's tables: one row per credit request (keyed by Slack channel and message ts, whatever
// the intake mode), the polling cursor per channel, and the sample SMS traffic the sandbox Looker serves.
import {
  bigint,
  boolean,
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

/**
 * The prediction models, one row per training run (`switchboard credits model train`, the schedule):
 * the newest is the one checks use. Its parameters are the fitted coefficients and intervals
 * (prediction/model.ts); evaluation is the time-ordered cross-validation of the same history.
 */
export const creditModels = pgTable('credit_models', {
  version: integer('version').primaryKey(),
  kind: text('kind').notNull(),
  parameters: jsonb('parameters').notNull(),
  evaluation: jsonb('evaluation'),
  /** Answered requests it learnt from, and the newest one's time. */
  requests: integer('requests').notNull(),
  trainedThrough: timestamp('trained_through', { withTimezone: true }),
  trigger: text('trigger').notNull(),
  trainedAt: timestamp('trained_at', { withTimezone: true }).notNull().defaultNow(),
});

export type CreditModelRow = typeof creditModels.$inferSelect;

/**
 * The second opinion on one answered request (one row per request, replaced by a new round): the
 * features read from its summary, the prediction (null, with the reason, below the minimum history),
 * the flag and, for a held reply, who approved it and when. The amount itself stays in credit_requests.
 */
export const creditChecks = pgTable(
  'credit_checks',
  {
    requestId: uuid('request_id')
      .primaryKey()
      .references(() => creditRequests.id, { onDelete: 'cascade' }),
    /** The request's own createdAt: history and training take requests in this order. */
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull(),
    /** The account SID(s) the request is for; null when nothing names one. */
    account: varchar('account', { length: 400 }),
    costCents: bigint('cost_cents', { mode: 'number' }),
    creditCents: bigint('credit_cents', { mode: 'number' }).notNull(),
    /** RequestFeatures (prediction/features.ts); null when the summary does not give them. */
    features: jsonb('features'),
    /** { amountCents, lowCents, highCents, modelVersion } or null. */
    prediction: jsonb('prediction'),
    /** Why there is no prediction. */
    predictionNote: text('prediction_note'),
    /** The line the thread reply carries about the second opinion (no prediction, and why); null: none. */
    replyNote: text('reply_note'),
    flagReason: text('flag_reason'),
    flagKinds: jsonb('flag_kinds'),
    /** The thread reply waits for a person (CREDITS_HOLD_OUTLIERS). */
    held: boolean('held').notNull().default(false),
    approvedBy: varchar('approved_by', { length: 200 }),
    approvedVia: text('approved_via').$type<'slack' | 'api' | 'console'>(),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
    /** The amount the approver posted in place of the computed one; null: posted as computed. */
    correctedCents: bigint('corrected_cents', { mode: 'number' }),
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('credit_checks_account_idx').on(table.account, table.requestedAt),
    index('credit_checks_requested_idx').on(table.requestedAt),
    // Held replies waiting for a person: few, read on every console overview.
    index('credit_checks_waiting_idx').on(table.requestedAt).where(sql`held and approved_at is null`),
  ],
);

export type CreditCheckRow = typeof creditChecks.$inferSelect;
