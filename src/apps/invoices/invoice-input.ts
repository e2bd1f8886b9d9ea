// What an invoice must look like coming in, through the API or a CSV file. Strict: an unknown field
// is an error rather than silently dropped, amounts are whole minor units, currencies are ISO 4217.
import { z } from 'zod';
import { isCurrency } from '../../platform/money.ts';

export const MATCHED_STATUSES = ['NEEDS_REVIEW', 'MATCHED', 'APPROVED', 'REJECTED', 'PAID'] as const;

const fields = {
  vendor_name: z.string().trim().min(1, 'required').max(300, 'at most 300 characters'),
  total_minor: z
    .number({ error: 'a whole number of minor units (cents)' })
    .int('a whole number of minor units (cents), not a decimal')
    .nonnegative('must not be negative')
    .max(Number.MAX_SAFE_INTEGER, 'too large'),
  currency: z.string().trim().toUpperCase().refine(isCurrency, 'an ISO 4217 currency code such as USD'),
  matched_status: z.enum(MATCHED_STATUSES, { error: `one of ${MATCHED_STATUSES.join(', ')}` }),
  invoice_link: z
    .url({ protocol: /^https?$/, error: 'an http(s) URL' })
    .max(2000, 'at most 2000 characters')
    .nullable()
    .optional(),
};

export const invoiceId = z
  .string()
  .trim()
  .min(1, 'required')
  .max(100, 'at most 100 characters')
  .regex(/^[\w.:/-]+$/, 'letters, digits and . _ : / - only');

export const newInvoice = z.object({ id: invoiceId, ...fields }).strict();
export const invoiceUpdate = z.object(fields).partial().strict();

/** Up to `max` invoices at once, each id once (a batch is written in one statement). */
export const invoiceBatch = (max: number) =>
  z
    .array(newInvoice)
    .min(1)
    .max(max)
    .superRefine((list, ctx) => {
      const seen = new Map<string, number>();
      list.forEach((invoice, index) => {
        const first = seen.get(invoice.id);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [index, 'id'],
            message: `${invoice.id} is already at position ${first}`,
          });
        else seen.set(invoice.id, index);
      });
    });

export type NewInvoice = z.output<typeof newInvoice>;
export type InvoiceUpdate = z.output<typeof invoiceUpdate>;

/** The API's view of an invoice: the stored row in the field names it was given in. */
export function presentInvoice(row: {
  id: string;
  vendorName: string;
  totalMinor: number;
  currency: string;
  matchedStatus: string;
  invoiceLink: string | null;
  createdAt: Date;
  updatedAt: Date;
}) {
  return {
    id: row.id,
    vendor_name: row.vendorName,
    total_minor: row.totalMinor,
    currency: row.currency,
    matched_status: row.matchedStatus,
    invoice_link: row.invoiceLink,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}
