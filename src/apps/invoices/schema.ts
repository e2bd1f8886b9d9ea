// The invoices app's tables: invoices (when Switchboard holds them) and the record of each scan.

import {
  bigint,
  check,
  index,
  integer,
  pgTable,
  sql,
  text,
  timestamp,
  uuid,
  varchar,
} from '../../platform/db/drizzle.ts';

export const invoices = pgTable(
  'invoices',
  {
    /** The invoice's own identifier, e.g. INV-2024-0042. */
    id: varchar('id', { length: 100 }).primaryKey(),
    vendorName: varchar('vendor_name', { length: 300 }).notNull(),
    /** Integer minor units of `currency` (cents for USD): never a float. */
    totalMinor: bigint('total_minor', { mode: 'number' }).notNull(),
    currency: varchar('currency', { length: 3 }).notNull(),
    matchedStatus: varchar('matched_status', { length: 50 }).notNull(),
    invoiceLink: varchar('invoice_link', { length: 2000 }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('invoices_matched_status_idx').on(table.matchedStatus, table.id),
    check('invoices_total_minor_nonnegative', sql`${table.totalMinor} >= 0`),
  ],
);

export type InvoiceRow = typeof invoices.$inferSelect;

export const invoiceScans = pgTable(
  'invoice_scans',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    trigger: text('trigger').notNull().$type<'schedule' | 'api' | 'cli' | 'console'>(),
    source: text('source').notNull().$type<'local' | 'external'>(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    durationMs: integer('duration_ms'),
    /** Invoices found needing review. */
    matched: integer('matched').notNull().default(0),
    enqueued: integer('enqueued').notNull().default(0),
    /** Notifications already queued by an earlier scan (the dedupe key existed). */
    duplicates: integer('duplicates').notNull().default(0),
    /** Notifications refused at enqueue (e.g. the content did not render). */
    rejected: integer('rejected').notNull().default(0),
    /** Recipients in NOTIFICATION_RECIPIENTS that are neither an email nor a valid phone number. */
    invalidRecipients: integer('invalid_recipients').notNull().default(0),
    error: text('error'),
  },
  (table) => [index('invoice_scans_started_idx').on(table.startedAt)],
);

export type InvoiceScanRow = typeof invoiceScans.$inferSelect;
