import { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';

export interface CreditMetrics {
  intake: Counter<'intake' | 'outcome'>;
  requests: Counter<'outcome'>;
  duration: Histogram;
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
    flags: new Counter({
      name: 'credit_flags_total',
      help: 'Answered credit requests flagged by the second opinion, by reason kind and whether the reply was held.',
      labelNames: ['kind', 'held'],
      registers,
    }),
  };
}
