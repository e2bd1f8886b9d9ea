import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';

export interface InvoiceMetrics {
  notifications: Counter<'channel' | 'outcome'>;
  scanDuration: Histogram<'source'>;
  awaitingReview: Gauge;
}

export function createInvoiceMetrics(metrics: Metrics): InvoiceMetrics {
  const registers = [metrics.registry];
  return {
    notifications: new Counter({
      name: 'invoice_notifications_total',
      help: 'Invoice review alerts by channel and outcome (enqueued, duplicate, rejected, invalid_recipient).',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
    scanDuration: new Histogram({
      name: 'invoice_scan_duration_seconds',
      help: 'How long a scan for invoices needing review took.',
      labelNames: ['source'],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers,
    }),
    awaitingReview: new Gauge({
      name: 'invoices_awaiting_review',
      help: 'Invoices with matched_status NEEDS_REVIEW at the last scan.',
      registers,
    }),
  };
}
