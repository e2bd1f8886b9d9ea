import { z } from 'zod';
import { defineJob } from '../../platform/jobs/registry.ts';
import { NOTEBOOK_HEARTBEAT_SECONDS, notebookJobs } from './notebook-queue.ts';

/** Attempts after the first for a request whose failure may pass (Looker down, a timeout). */
export const PROCESS_RETRY_LIMIT = 3;

export const creditJobs = {
  // One job per request (singleton key = request id); `notify` so a new request starts at once.
  'credits.process': defineJob({
    schema: z.object({ id: z.uuid() }),
    policy: 'singleton',
    retryLimit: PROCESS_RETRY_LIMIT,
    notify: true,
    batchSize: 5,
    // A request whose worker died comes back within a minute, not after the job's expiry.
    heartbeatSeconds: NOTEBOOK_HEARTBEAT_SECONDS,
  }),
  ...notebookJobs,
  // Training the prediction model (prediction/train.ts): the schedule, the first start, the API.
  'credits.model.train': defineJob({
    schema: z.object({ trigger: z.enum(['schedule', 'start', 'api', 'cli']) }),
    policy: 'singleton',
    retryLimit: 1,
  }),
  'credits.poll': defineJob({
    schema: z.object({ trigger: z.enum(['schedule', 'start', 'api', 'cli']) }),
    policy: 'singleton',
    retryLimit: 1,
  }),
};
