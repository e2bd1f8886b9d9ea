import { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';
import type { CreditSummary } from './compute.ts';

export interface CreditMetrics {
  intake: Counter<'intake' | 'outcome'>;
  requests: Counter<'outcome'>;
  duration: Histogram;
  amountCents: Counter<'product'>;
  requestAmountCents: Histogram<'product'>;
  flags: Counter<'kind' | 'held'>;
}

export function createCreditMetrics(metrics: Metrics): CreditMetrics {
  const registers = [metrics.registry];
  return {
    intake: new Counter({
      name: 'credit_intake_total',
      help: 'Slack messages seen by intake mode and outcome (queued, duplicate, ignored).',
      labelNames: ['intake', 'outcome'],
      registers,
    }),
    requests: new Counter({
      name: 'credit_requests_total',
      help: 'Credit requests finished, by outcome (done, failed).',
      labelNames: ['outcome'],
      registers,
    }),
    duration: new Histogram({
      name: 'credit_request_duration_seconds',
      help: 'Time to compute a request (resolving links, running calculators).',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300],
      registers,
    }),
    amountCents: new Counter({
      name: 'credit_amount_cents_total',
      help: 'Credit answered in replies, in cents, by product (verify, psms): the sum of the credited links.',
      labelNames: ['product'],
      registers,
    }),
    requestAmountCents: new Histogram({
      name: 'credit_request_amount_cents',
      help: 'The total of each answered credit request, in cents, by product (verify, psms, mixed, none).',
      labelNames: ['product'],
      // $1 to $100,000: the requests this bot answers run from a few dollars to tens of thousands.
      buckets: [100, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 10_000_000],
      registers,
    }),
    flags: new Counter({
      name: 'credit_flags_total',
      help: 'Answered credit requests flagged by the second opinion, by reason kind and whether the reply was held.',
      labelNames: ['kind', 'held'],
      registers,
    }),
  };
}

/** What an answered request adds to the amounts: each credited link under its product, and the total. */
export function recordCreditAmounts(metrics: CreditMetrics, summary: CreditSummary): void {
  for (const link of summary.links)
    if (link.status === 'credited' && link.product && (link.creditCents ?? 0) > 0)
      metrics.amountCents.inc({ product: link.product }, link.creditCents as number);
  metrics.requestAmountCents.observe({ product: summary.product ?? 'none' }, summary.amountCents);
}
