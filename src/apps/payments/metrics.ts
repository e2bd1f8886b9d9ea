import { Histogram } from 'prom-client';
import type { Metrics } from '../../platform/metrics.ts';

export interface PaymentMetrics {
  /**
   * One chat turn, from taking the session's lock to the stored answer. `stripe` says whether the
   * turn waited on Stripe (reading the card, opening the card step, charging): those carry a whole
   * round trip to Stripe, hundreds of milliseconds in production, so they are kept apart from the
   * turns that are the bot's own work.
   */
  turnDuration: Histogram<'stripe'>;
}

export function createPaymentMetrics(metrics: Metrics): PaymentMetrics {
  return {
    turnDuration: new Histogram({
      name: 'paybot_turn_duration_seconds',
      help: 'PayBot chat turns, by whether the turn called Stripe (called, none).',
      labelNames: ['stripe'],
      // Fine below 50 ms, where a turn that does not wait on Stripe lands.
      buckets: [
        0.001, 0.002, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5,
        10,
      ],
      registers: [metrics.registry],
    }),
  };
}
