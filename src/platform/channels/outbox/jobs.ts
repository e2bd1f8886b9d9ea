import { z } from 'zod';
import type { Config } from '../../../config.ts';
import { defineJob } from '../../jobs/registry.ts';

/** The outbox's queues. `stately`: per message, at most one delivery queued and one running. */
export function outboxJobDefinitions(config: Pick<Config, 'outbox'>) {
  return {
    'outbox.deliver': defineJob({
      schema: z.object({ id: z.uuid() }),
      policy: 'stately',
      batchSize: config.outbox.batchSize,
      concurrency: config.outbox.concurrency,
      notify: true,
      // Provider failures are retried by the outbox itself (honouring Retry-After); these retries
      // only cover a crash or a lost database connection mid-delivery.
      retryLimit: 10,
    }),
    'outbox.sweep': defineJob({ schema: z.object({}), policy: 'short', retryLimit: 0 }),
  };
}

export type OutboxJobs = ReturnType<typeof outboxJobDefinitions>;
