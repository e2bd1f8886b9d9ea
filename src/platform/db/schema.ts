// Tables the platform itself owns. Each app keeps its own tables in src/apps/<name>/schema.ts;
// drizzle-kit reads them all (drizzle.config.ts) into one ordered migration history.
import {
  bigint,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from './drizzle.ts';

/** Small named values that must survive restarts: cursors, last-run markers, instance settings. */
export const platformState = pgTable('platform_state', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Language-model usage per UTC day and purpose: the daily token budget is checked against it
 * before each call, so every process (several workers) spends from one budget.
 */
export const aiUsageDaily = pgTable(
  'ai_usage_daily',
  {
    day: date('day').notNull(),
    purpose: text('purpose').notNull(),
    calls: integer('calls').notNull().default(0),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    failures: integer('failures').notNull().default(0),
    fallbacks: integer('fallbacks').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.day, table.purpose] })],
);

/**
 * Operator console sessions. The cookie holds a random token; the row is keyed by its SHA-256, so a
 * copy of this table opens no session. `csrf_token` is echoed in every console form and checked on
 * every action. Rows past `expires_at` are refused and swept at the next login.
 */
export const consoleSessions = pgTable(
  'console_sessions',
  {
    id: text('id').primaryKey(),
    operator: text('operator').notNull(),
    csrfToken: text('csrf_token').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('console_sessions_expires_idx').on(table.expiresAt)],
);

/** What operators did through the console (retry, cancel, scan now...): who, when, to what, and how it went. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    operator: text('operator').notNull(),
    action: text('action').notNull(),
    /** What the action was about: an outbox id, a request id, a queue name. */
    target: text('target'),
    outcome: text('outcome').notNull().$type<'done' | 'refused' | 'failed'>(),
    detail: text('detail'),
  },
  (table) => [
    index('audit_log_at_idx').on(table.at),
    index('audit_log_target_idx').on(table.target, table.at),
  ],
);
