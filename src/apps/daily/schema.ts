// The daily messages app's tables: subscribers, the history of what each was sent (for repeat
// avoidance and GET /subscribers/:id/messages), and the text chosen per audience per day.
import {
  boolean,
  check,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  sql,
  text,
  timestamp,
  uuid,
} from '../../platform/db/drizzle.ts';

export const dailySubscribers = pgTable(
  'daily_subscribers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** E.164. */
    phone: text('phone').notNull().unique(),
    name: text('name'),
    /** IANA zone, e.g. America/New_York. */
    timeZone: text('time_zone').notNull(),
    /** Local sending window, minutes after midnight; the end is exclusive. */
    windowStart: integer('window_start').notNull(),
    windowEnd: integer('window_end').notNull(),
    /** The audience: everyone sharing a language shares the day's generated text. */
    language: text('language').notNull().default('en'),
    paused: boolean('paused').notNull().default(false),
    /** Paused through this local date (PAUSE 7). */
    pausedUntil: date('paused_until'),
    /** The local date the last "unknown command" help reply went out: at most one a day. */
    helpRepliedOn: date('help_replied_on'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('daily_subscribers_group_idx').on(
      table.timeZone,
      table.windowStart,
      table.windowEnd,
      table.language,
      table.id,
    ),
    check(
      'daily_subscribers_window',
      sql`${table.windowStart} >= 0 and ${table.windowEnd} <= 1440 and ${table.windowStart} < ${table.windowEnd}`,
    ),
  ],
);

export type SubscriberRow = typeof dailySubscribers.$inferSelect;

/**
 * One row per subscriber per local date, ever: the plan's own once-a-day guarantee (the primary key),
 * next to the outbox's dedupe key `daily:<subscriber>:<local date>`. Planning writes only these rows;
 * the release job queues each in the outbox a few minutes before its send time and stamps
 * `queued_at`. Delivery status is then read from the outbox row with that key, so there is one source
 * of truth for it.
 *
 * Written a million at a time, so it carries only what it needs: no surrogate id (the key is the
 * pair) and no foreign key to the subscriber (its check locks the subscriber row, which cost more
 * than the insert itself). Deleting a subscriber deletes their history explicitly instead, under the
 * lock planning takes (see store.ts).
 */
export const dailyMessages = pgTable(
  'daily_messages',
  {
    subscriberId: uuid('subscriber_id').notNull(),
    localDate: date('local_date').notNull(),
    sendAt: timestamp('send_at', { withTimezone: true }).notNull(),
    body: text('body').notNull(),
    /** The normalised text's hash: exact and trivially different repeats have the same one. */
    fingerprint: text('fingerprint').notNull(),
    source: text('source').notNull().$type<'model' | 'offline'>(),
    /** When the release job put it in the outbox; null while it waits for its send time. */
    queuedAt: timestamp('queued_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'daily_messages_once_a_day', columns: [table.subscriberId, table.localDate] }),
    index('daily_messages_local_date_idx').on(table.localDate),
    // Who had a given text: the repeat check asks once per audience a day. Cheap to keep: a plan
    // writes the same few fingerprints over and over.
    index('daily_messages_fingerprint_idx').on(table.fingerprint, table.localDate),
    // What the release job looks for: the rows still waiting, by send time.
    index('daily_messages_waiting_idx').on(table.sendAt).where(sql`${table.queuedAt} is null`),
  ],
);

export type DailyMessageRow = typeof dailyMessages.$inferSelect;

/** The text chosen for an audience (a language) on a local date: generated once, reused by everyone. */
export const dailyContents = pgTable(
  'daily_contents',
  {
    localDate: date('local_date').notNull(),
    audience: text('audience').notNull(),
    body: text('body').notNull(),
    fingerprint: text('fingerprint').notNull(),
    source: text('source').notNull().$type<'model' | 'offline'>(),
    /** Why the offline generator was used, when it was. */
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.localDate, table.audience] })],
);
