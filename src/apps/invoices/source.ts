// Where a scan finds invoices needing review: Switchboard's own invoices table, or a team's own
// PostgreSQL through a read-only query (INVOICE_SOURCE_URL + INVOICE_SOURCE_QUERY) that returns the
// same columns. Both are read in pages ordered by id, so a scan of 100,000 invoices stays small in memory.

import pg from 'pg';
import type { Config } from '../../config.ts';
import { redactCardNumbers } from '../../platform/card-numbers.ts';
import type { Database } from '../../platform/db/database.ts';
import { and, anyOf, asc, eq, gt } from '../../platform/db/drizzle.ts';
import { guardPoolClients } from '../../platform/db/pool-errors.ts';
import type { Tx } from '../../platform/db/transaction.ts';
import type { Logger } from '../../platform/log.ts';
import { newInvoice } from './invoice-input.ts';
import { invoices } from './schema.ts';

export interface ReviewInvoice {
  id: string;
  vendor_name: string;
  total_minor: number;
  currency: string;
  invoice_link: string | null;
}

export interface InvoiceSource {
  readonly kind: 'local' | 'external';
  /** Invoices with matched_status = 'NEEDS_REVIEW' and an id after `after`, by id, at most `limit`. */
  page(
    after: string | null,
    limit: number,
  ): Promise<{ invoices: ReviewInvoice[]; lastId: string | null; skipped: number }>;
  /** Which of these invoices still need review (checked again just before their alerts are sent). */
  stillNeedingReview(ids: string[], tx: Tx): Promise<Set<string>>;
  close(): Promise<void>;
}

export function localSource(db: Database): InvoiceSource {
  return {
    kind: 'local',
    async page(after, limit) {
      const rows = await db.orm
        .select()
        .from(invoices)
        .where(and(eq(invoices.matchedStatus, 'NEEDS_REVIEW'), after ? gt(invoices.id, after) : undefined))
        .orderBy(asc(invoices.id))
        .limit(limit);
      return {
        invoices: rows.map((r) => ({
          id: r.id,
          vendor_name: r.vendorName,
          total_minor: r.totalMinor,
          currency: r.currency,
          invoice_link: r.invoiceLink,
        })),
        lastId: rows.at(-1)?.id ?? null,
        skipped: 0,
      };
    },
    async stillNeedingReview(ids, tx) {
      const rows = await tx
        .select({ id: invoices.id })
        .from(invoices)
        .where(and(anyOf(invoices.id, ids), eq(invoices.matchedStatus, 'NEEDS_REVIEW')));
      return new Set(rows.map((row) => row.id));
    },
    async close() {},
  };
}

export function externalSource(
  source: NonNullable<Config['invoices']['source']>,
  log: Logger,
): InvoiceSource {
  const pool = new pg.Pool({ connectionString: source.url, max: 2, connectionTimeoutMillis: 10_000 });
  guardPoolClients(pool, log);
  // The team's query is wrapped, never edited: it only has to return the documented columns.
  const wrapped = `select * from (${source.query.replace(/;\s*$/, '')}) as invoice_source`;
  const readOnly = async <T>(text: string, params: unknown[]): Promise<T[]> => {
    const client = await pool.connect();
    try {
      await client.query('begin read only');
      const result = await client.query(text, params);
      await client.query('commit');
      return result.rows as T[];
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
  return {
    kind: 'external',
    async page(after, limit) {
      const rows = await readOnly<Record<string, unknown>>(
        `${wrapped} where matched_status = 'NEEDS_REVIEW' and ($1::text is null or id::text > $1) order by id::text limit $2`,
        [after, limit],
      );
      const valid: ReviewInvoice[] = [];
      let skipped = 0;
      for (const row of rows) {
        const parsed = newInvoice.safeParse({
          id: String(row.id),
          // The team's database is not ours to trust: a card number in a name is masked, not stored.
          vendor_name:
            typeof row.vendor_name === 'string' ? redactCardNumbers(row.vendor_name) : row.vendor_name,
          total_minor: Number(row.total_minor),
          currency: row.currency,
          matched_status: row.matched_status,
          invoice_link: row.invoice_link ?? null,
        });
        if (parsed.success) valid.push({ ...parsed.data, invoice_link: parsed.data.invoice_link ?? null });
        else {
          skipped += 1;
          log.warn(
            {
              invoiceId: String(row.id),
              issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
            },
            'invoice source row skipped',
          );
        }
      }
      return { invoices: valid, lastId: rows.length ? String(rows.at(-1)?.id) : null, skipped };
    },
    async stillNeedingReview(ids) {
      const rows = await readOnly<{ id: string }>(
        `select id::text as id from (${wrapped}) as ids where id::text = any($1::text[]) and matched_status = 'NEEDS_REVIEW'`,
        [ids],
      );
      return new Set(rows.map((row) => row.id));
    },
    close: () => pool.end(),
  };
}
