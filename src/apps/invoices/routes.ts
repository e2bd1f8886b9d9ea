// The invoices API: create and update invoices (one, or up to 1,000 at once), list them, run and
// list scans. Thin: validation by schema, work by the store and scan functions.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../platform/db/database.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { notFound } from '../../platform/errors.ts';
import type { Guard } from '../../platform/http/admin-auth.ts';
import {
  invoiceBatch,
  invoiceId,
  invoiceUpdate,
  MATCHED_STATUSES,
  newInvoice,
  presentInvoice,
} from './invoice-input.ts';
import type { InvoiceScanRow } from './schema.ts';
import { getInvoice, listInvoices, listScans, updateInvoice, upsertInvoices } from './store.ts';

export const MAX_BULK = 1000;

export interface InvoiceRouteDeps {
  db: Database;
  guard: Guard;
  scan: () => Promise<InvoiceScanRow>;
}

export function registerInvoiceRoutes(app: FastifyInstance, deps: InvoiceRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['invoices'];
  const { db, guard } = deps;

  typed.post(
    '/invoices',
    {
      schema: {
        tags,
        summary: `Create or replace invoices by id: one invoice, or { invoices: [...] } with up to ${MAX_BULK}`,
        body: z.union([newInvoice, z.object({ invoices: invoiceBatch(MAX_BULK) }).strict()]),
      },
      preHandler: guard,
    },
    async (request, reply) => {
      const list = 'invoices' in request.body ? request.body.invoices : [request.body];
      // All or nothing: the whole request is one transaction.
      const counts = await withTransaction(db, (tx) => upsertInvoices(tx, list));
      return reply
        .status(counts.created > 0 ? 201 : 200)
        .send({ ...counts, ids: list.map((invoice) => invoice.id) });
    },
  );

  typed.put(
    '/invoices/:id',
    {
      schema: {
        tags,
        summary: 'Change some fields of an invoice',
        params: z.object({ id: invoiceId }),
        body: invoiceUpdate,
      },
      preHandler: guard,
    },
    async (request) => {
      const row = await updateInvoice(db.orm, request.params.id, request.body);
      if (!row) throw notFound(`Invoice ${request.params.id}`);
      return presentInvoice(row);
    },
  );

  typed.get(
    '/invoices/:id',
    { schema: { tags, summary: 'One invoice', params: z.object({ id: invoiceId }) }, preHandler: guard },
    async (request) => {
      const row = await getInvoice(db.orm, request.params.id);
      if (!row) throw notFound(`Invoice ${request.params.id}`);
      return presentInvoice(row);
    },
  );

  typed.get(
    '/invoices',
    {
      schema: {
        tags,
        summary: 'Invoices by id, optionally by matched status',
        querystring: z
          .object({
            status: z.enum(MATCHED_STATUSES).optional(),
            after: invoiceId.optional().describe('the last id of the previous page'),
            limit: z.coerce.number().int().min(1).max(MAX_BULK).default(100),
          })
          .strict(),
      },
      preHandler: guard,
    },
    async (request) => {
      const rows = await listInvoices(db.orm, request.query);
      return {
        invoices: rows.map(presentInvoice),
        next: rows.length === request.query.limit ? (rows.at(-1)?.id ?? null) : null,
      };
    },
  );

  typed.post(
    '/invoices/scans',
    { schema: { tags, summary: 'Scan for invoices needing review now' }, preHandler: guard },
    async (_request, reply) => reply.status(201).send(await deps.scan()),
  );

  typed.get(
    '/invoices/scans',
    {
      schema: {
        tags,
        summary: 'Recent scans, newest first',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(),
      },
      preHandler: guard,
    },
    async (request) => ({ scans: await listScans(db.orm, request.query.limit) }),
  );
}
