// One scan: every invoice needing review, times every recipient and channel, becomes one outbox
// message keyed `invoice:<id>:<channel>:<recipient>`. The keys make the scan idempotent: a second
// scan, a restart, or two workers scanning at once queue nothing new for what was already queued.
import type { Config } from '../../config.ts';
import type { Channels } from '../../platform/channels/channels.ts';
import type { EnqueueInput } from '../../platform/channels/outbox/enqueue.ts';
import type { Database } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';
import { errorText } from '../../platform/redact.ts';
import type { InvoiceMetrics } from './metrics.ts';
import { parseRecipients, type Recipient } from './recipients.ts';
import type { InvoiceScanRow } from './schema.ts';
import type { InvoiceSource, ReviewInvoice } from './source.ts';
import { finishScan, startScan } from './store.ts';

export const NEEDS_REVIEW_PRECONDITION = 'invoices.still_needs_review';

export interface ScanDeps {
  db: Database;
  channels: Pick<Channels, 'enqueueMany'>;
  source: InvoiceSource;
  config: Pick<Config, 'invoices' | 'sms'>;
  log: Logger;
  metrics: InvoiceMetrics;
  /** Invoices read per page (and enqueued per transaction). */
  pageSize?: number;
}

export async function scanInvoices(
  deps: ScanDeps,
  trigger: InvoiceScanRow['trigger'],
): Promise<InvoiceScanRow> {
  const started = performance.now();
  const scanId = await startScan(deps.db.orm, trigger, deps.source.kind);
  const recipients = parseRecipients(deps.config.invoices.recipients, deps.config.sms.defaultRegion);
  for (const bad of recipients.invalid) {
    deps.log.warn({ entry: bad.entry, reason: bad.reason }, 'NOTIFICATION_RECIPIENTS entry skipped');
    deps.metrics.notifications.inc({
      channel: bad.entry.includes('@') ? 'email' : 'sms',
      outcome: 'invalid_recipient',
    });
  }
  if (recipients.valid.length === 0)
    deps.log.warn('no valid NOTIFICATION_RECIPIENTS: invoices are scanned but nobody is told');

  const totals = { matched: 0, enqueued: 0, duplicates: 0, rejected: 0 };
  let error: string | null = null;
  try {
    let after: string | null = null;
    for (;;) {
      const page = await deps.source.page(after, deps.pageSize ?? 500);
      totals.matched += page.invoices.length;
      totals.rejected += page.skipped;
      if (page.invoices.length && recipients.valid.length) {
        const inputs = page.invoices.flatMap((invoice) =>
          recipients.valid.map((recipient) => alertFor(invoice, recipient)),
        );
        const results = await deps.channels.enqueueMany(inputs);
        results.forEach((result, index) => {
          const channel = inputs[index]?.channel ?? 'email';
          const outcome = 'rejected' in result ? 'rejected' : result.created ? 'enqueued' : 'duplicate';
          if ('rejected' in result)
            deps.log.warn({ dedupeKey: result.dedupeKey, reasons: result.rejected }, 'alert not queued');
          totals[outcome === 'enqueued' ? 'enqueued' : outcome === 'duplicate' ? 'duplicates' : 'rejected'] +=
            1;
          deps.metrics.notifications.inc({ channel, outcome });
        });
      }
      if (!page.lastId) break;
      after = page.lastId;
    }
  } catch (caught) {
    error = errorText(caught);
    deps.log.error({ err: caught, scanId }, 'invoice scan failed');
  }
  const durationMs = Math.round(performance.now() - started);
  deps.metrics.scanDuration.observe({ source: deps.source.kind }, durationMs / 1000);
  if (!error) deps.metrics.awaitingReview.set(totals.matched);
  const row = await finishScan(deps.db.orm, scanId, {
    ...totals,
    invalidRecipients: recipients.invalid.length,
    durationMs,
    error,
  });
  deps.log.info({ scanId, ...totals, durationMs, error }, 'invoice scan finished');
  return row as InvoiceScanRow;
}

function alertFor(invoice: ReviewInvoice, recipient: Recipient): EnqueueInput {
  return {
    dedupeKey: `invoice:${invoice.id}:${recipient.channel}:${recipient.address}`,
    channel: recipient.channel,
    to: recipient.address,
    template: recipient.channel === 'email' ? 'invoices.review.email' : 'invoices.review.sms',
    data: {
      invoice_id: invoice.id,
      vendor_name: invoice.vendor_name,
      total_minor: invoice.total_minor,
      currency: invoice.currency,
      invoice_link: invoice.invoice_link,
    },
    // Sent only if the invoice still needs review when the alert's turn comes.
    meta: { precondition: NEEDS_REVIEW_PRECONDITION, invoiceId: invoice.id },
  };
}
