// Tables of the channels: the outbox every app sends through, the suppression list every app
// honours, the inbound-event log that dedupes provider retries and replays, and the sandbox inbox.
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  sql,
  text,
  timestamp,
  uuid,
  varchar,
} from '../db/drizzle.ts';

export const outboxMessages = pgTable(
  'outbox_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** One message per key, ever: e.g. `invoice:42:email:ap@example.com`. */
    dedupeKey: text('dedupe_key').notNull().unique(),
    channel: text('channel').notNull().$type<'sms' | 'email' | 'slack'>(),
    recipient: text('recipient').notNull(),
    sender: text('sender'),
    content: jsonb('content').notNull().$type<Record<string, unknown>>(),
    status: text('status').notNull().$type<OutboxStatus>(),
    attempts: integer('attempts').notNull().default(0),
    segments: integer('segments'),
    sendAfter: timestamp('send_after', { withTimezone: true }),
    timeZone: text('time_zone'),
    driver: text('driver'),
    providerId: text('provider_id'),
    errorCode: text('error_code'),
    lastError: text('last_error'),
    meta: jsonb('meta').notNull().default(sql`'{}'::jsonb`).$type<Record<string, unknown>>(),
    /** When the current (or last) send attempt began. */
    attemptStartedAt: timestamp('attempt_started_at', { withTimezone: true }),
    /** The attempt that owns the row while it is `sending`: only it may send or settle the row. */
    attemptId: uuid('attempt_id'),
    /** The owner's claim runs out here unless renewed; past it the row may be claimed again. */
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    /**
     * When the earliest attempt began that may have reached the provider without our recording it
     * (null: none). A read-back before any resend covers everything since: not only the last attempt.
     */
    unconfirmedSince: timestamp('unconfirmed_since', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (table) => [
    index('outbox_messages_status_idx').on(table.status, table.sendAfter),
    index('outbox_messages_provider_idx').on(table.driver, table.providerId),
    index('outbox_messages_created_idx').on(table.createdAt),
    // The console's and the API's recipient filter: one person's messages, newest first.
    index('outbox_messages_recipient_idx').on(table.recipient, table.createdAt),
    // The lease sweep's question, "which sending rows lost their owner?", answered without a scan.
    index('outbox_messages_lease_idx').on(table.leaseExpiresAt).where(sql`status = 'sending'`),
  ],
);

/** `cancelled`: a precondition said the message was no longer wanted when its turn came. */
export const OUTBOX_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'suppressed',
  'cancelled',
] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];
export type OutboxRow = typeof outboxMessages.$inferSelect;

export const smsSuppressions = pgTable('sms_suppressions', {
  phone: text('phone').primaryKey(),
  /** `keyword` (the person texted STOP...), `provider` (Twilio 21610), or `manual`. */
  reason: text('reason').notNull(),
  detail: text('detail'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Every opt-out and opt-in, kept as the consent record carriers and regulators ask for. */
export const smsConsentEvents = pgTable(
  'sms_consent_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    phone: text('phone').notNull(),
    event: text('event').notNull().$type<'opt_out' | 'opt_in'>(),
    source: text('source').notNull(),
    detail: text('detail'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('sms_consent_events_phone_idx').on(table.phone, table.createdAt)],
);

/** Provider events already processed, by the provider's own id: retries and replays change nothing. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    provider: text('provider').notNull(),
    eventId: text('event_id').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.provider, table.eventId] }),
    index('webhook_events_received_idx').on(table.receivedAt),
  ],
);

/** What sandbox drivers "sent" and what was simulated inbound: the local stand-in for a phone or inbox. */
export const sandboxMessages = pgTable(
  'sandbox_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channel: text('channel').notNull(),
    direction: text('direction').notNull().$type<'outbound' | 'inbound'>(),
    sender: text('sender'),
    recipient: text('recipient').notNull(),
    content: jsonb('content').notNull().$type<Record<string, unknown>>(),
    outboxId: uuid('outbox_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('sandbox_messages_created_idx').on(table.createdAt),
    // The inbox reads one channel newest first, and one number's thread.
    index('sandbox_messages_channel_idx').on(table.channel, table.createdAt),
    index('sandbox_messages_recipient_idx').on(table.recipient, table.createdAt),
    index('sandbox_messages_sender_idx').on(table.sender, table.createdAt),
  ],
);

/**
 * Counters for rate-limiter-flexible's PostgreSQL store (send pacing across worker processes when
 * there is no Redis). Its layout is the library's; the migration creates it so no process races to.
 */
export const rateLimits = pgTable('rate_limits', {
  key: varchar('key', { length: 255 }).primaryKey(),
  points: integer('points').notNull().default(0),
  expire: bigint('expire', { mode: 'number' }),
});
