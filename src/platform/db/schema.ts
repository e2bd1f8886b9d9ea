// Tables the platform itself owns. Each app keeps its own tables in src/apps/<name>/schema.ts;
// drizzle-kit reads them all (drizzle.config.ts) into one ordered migration history.
import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Small named values that must survive restarts: cursors, last-run markers, instance settings. */
export const platformState = pgTable('platform_state', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
