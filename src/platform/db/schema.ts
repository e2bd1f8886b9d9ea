// Tables the platform itself owns. Each app keeps its own tables in src/apps/<name>/schema.ts;
// drizzle-kit reads them all (drizzle.config.ts) into one ordered migration history.
import { bigint, date, integer, jsonb, pgTable, primaryKey, text, timestamp } from './drizzle.ts';

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
