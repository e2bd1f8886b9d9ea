import { z } from 'zod';
import { defineJob } from '../../platform/jobs/registry.ts';

export const dailyJobs = {
  // `singleton`: one planning run at a time across workers; the dedupe keys make a second harmless anyway.
  'daily.plan': defineJob({
    schema: z.object({ trigger: z.enum(['schedule', 'api', 'cli']) }),
    policy: 'singleton',
    retryLimit: 3,
    expireSeconds: 3600,
  }),
  // At most one queued: a release that finds another running takes other rows (SKIP LOCKED).
  'daily.release': defineJob({ schema: z.object({}), policy: 'short', retryLimit: 0 }),
  'daily.cleanup': defineJob({ schema: z.object({}), policy: 'singleton', retryLimit: 2 }),
};
