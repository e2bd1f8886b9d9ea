import { z } from 'zod';
import { defineJob } from '../../platform/jobs/registry.ts';

export const invoiceJobs = {
  // `singleton`: at most one scan runs at a time across all workers; the next waits its turn.
  'invoices.scan': defineJob({
    schema: z.object({ trigger: z.enum(['schedule', 'api', 'cli']) }),
    policy: 'singleton',
    retryLimit: 2,
  }),
};

/** Every REVIEW_NOTIFICATION_INTERVAL minutes, as a recurrence rule (cron cannot say "every 45 minutes"). */
export const scanRecurrence = (minutes: number) => `FREQ=MINUTELY;INTERVAL=${minutes}`;
