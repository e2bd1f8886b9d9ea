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
