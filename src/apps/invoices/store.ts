// Data access for invoices and scans. Functions take a db or a transaction; callers own the unit.
import type { SQL } from 'drizzle-orm';
import { and, asc, desc, eq, gt, sql } from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import type { InvoiceUpdate, NewInvoice } from './invoice-input.ts';
import { type InvoiceRow, type InvoiceScanRow, invoiceScans, invoices } from './schema.ts';

const toRow = (invoice: NewInvoice) => ({
  id: invoice.id,
  vendorName: invoice.vendor_name,
  totalMinor: invoice.total_minor,
  currency: invoice.currency,
  matchedStatus: invoice.matched_status,
  invoiceLink: invoice.invoice_link ?? null,
});

/** Inserts or replaces invoices by id; returns how many were created and updated. */
export async function upsertInvoices(
  db: DbOrTx,
  list: NewInvoice[],
): Promise<{ created: number; updated: number }> {
  let created = 0;
  for (let i = 0; i < list.length; i += 1000) {
    const rows = await db
      .insert(invoices)
      .values(list.slice(i, i + 1000).map(toRow))
      .onConflictDoUpdate({
        target: invoices.id,
        set: {
          vendorName: sql`excluded.vendor_name`,
          totalMinor: sql`excluded.total_minor`,
          currency: sql`excluded.currency`,
          matchedStatus: sql`excluded.matched_status`,
          invoiceLink: sql`excluded.invoice_link`,
          updatedAt: sql`now()`,
        },
      })
      // xmax = 0 only on rows this statement inserted (an update leaves the old version's xid).
      .returning({ inserted: sql<boolean>`(xmax = 0)` });
    created += rows.filter((row) => row.inserted).length;
  }
  return { created, updated: list.length - created };
}

export async function updateInvoice(
  db: DbOrTx,
  id: string,
  update: InvoiceUpdate,
): Promise<InvoiceRow | undefined> {
  const set = {
    ...(update.vendor_name !== undefined ? { vendorName: update.vendor_name } : {}),
    ...(update.total_minor !== undefined ? { totalMinor: update.total_minor } : {}),
    ...(update.currency !== undefined ? { currency: update.currency } : {}),
    ...(update.matched_status !== undefined ? { matchedStatus: update.matched_status } : {}),
    ...(update.invoice_link !== undefined ? { invoiceLink: update.invoice_link } : {}),
    updatedAt: sql`now()`,
  };
  const [row] = await db.update(invoices).set(set).where(eq(invoices.id, id)).returning();
  return row;
}

export async function getInvoice(db: DbOrTx, id: string): Promise<InvoiceRow | undefined> {
  const [row] = await db.select().from(invoices).where(eq(invoices.id, id));
  return row;
}

export async function listInvoices(
  db: DbOrTx,
  filter: { status?: string; after?: string; limit: number },
): Promise<InvoiceRow[]> {
  const conditions: SQL[] = [];
  if (filter.status) conditions.push(eq(invoices.matchedStatus, filter.status));
  if (filter.after) conditions.push(gt(invoices.id, filter.after));
  return db
    .select()
    .from(invoices)
    .where(and(...conditions))
    .orderBy(asc(invoices.id))
    .limit(filter.limit);
}

export async function countNeedingReview(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ count: sql<string>`count(*)` })
    .from(invoices)
    .where(eq(invoices.matchedStatus, 'NEEDS_REVIEW'));
  return Number(row?.count ?? 0);
}

export async function startScan(
  db: DbOrTx,
  trigger: InvoiceScanRow['trigger'],
  source: InvoiceScanRow['source'],
): Promise<string> {
  const [row] = await db.insert(invoiceScans).values({ trigger, source }).returning({ id: invoiceScans.id });
  return row?.id as string;
}

export async function finishScan(
  db: DbOrTx,
  id: string,
  result: Pick<
    InvoiceScanRow,
    'matched' | 'enqueued' | 'duplicates' | 'rejected' | 'invalidRecipients' | 'durationMs' | 'error'
  >,
): Promise<InvoiceScanRow | undefined> {
  const [row] = await db
    .update(invoiceScans)
    .set({ ...result, finishedAt: sql`now()` })
    .where(eq(invoiceScans.id, id))
    .returning();
  return row;
}

export async function listScans(db: DbOrTx, limit: number): Promise<InvoiceScanRow[]> {
  return db.select().from(invoiceScans).orderBy(desc(invoiceScans.startedAt)).limit(limit);
}
