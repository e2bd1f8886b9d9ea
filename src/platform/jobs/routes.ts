// Operator API over the job system, the same reads and retry the console's jobs page uses: every
// queue with its counts, a queue's failed jobs with payload and error, and putting one back.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, notFound } from '../errors.ts';
import type { Guard } from '../http/admin-auth.ts';
import type { JobSystem } from './job-system.ts';
import type { JobDefinitions } from './registry.ts';

export function registerJobRoutes(
  app: FastifyInstance,
  deps: { jobs: JobSystem<JobDefinitions>; guard: Guard },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['jobs'];
  const queueParam = z.object({ queue: z.string().min(1).max(200) });
  typed.get(
    '/jobs',
    {
      schema: { tags, summary: 'Every queue and dead-letter queue with its counts' },
      preHandler: deps.guard,
    },
    async () => ({
      queues: (await deps.jobs.queueCounts()).map(({ table: _table, ...counts }) => counts),
    }),
  );
  typed.get(
    '/jobs/:queue/failed',
    {
      schema: {
        tags,
        summary: "A queue's newest failed jobs, with payload and error",
        params: queueParam,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(),
      },
      preHandler: deps.guard,
    },
    async (request) => {
      await mustBeQueue(deps.jobs, request.params.queue);
      return { jobs: await deps.jobs.failedJobs(request.params.queue, request.query.limit) };
    },
  );
  typed.post(
    '/jobs/:queue/:id/retry',
    {
      schema: {
        tags,
        summary: 'Put a failed job back in its queue (409 when it is not a failed job)',
        params: queueParam.extend({ id: z.uuid() }),
      },
      preHandler: deps.guard,
    },
    async (request, reply) => {
      const { queue, id } = request.params;
      await retryFailedJob(deps.jobs, queue, id);
      return reply.status(202).send({ queue, id, state: 'retry' });
    },
  );
}

/** The console's Retry and the API's: a known queue, a failed job of it, or an error saying which. */
export async function retryFailedJob(jobs: JobSystem<JobDefinitions>, queue: string, id: string) {
  await mustBeQueue(jobs, queue);
  if (!(await jobs.retryJob(queue, id)))
    throw new AppError(
      'conflict',
      `Job ${id} is not a failed job of ${queue} (it may have been retried already).`,
    );
}

/** 404 for a name that is not one of the registered queues (or their dead-letter queues). */
async function mustBeQueue(jobs: JobSystem<JobDefinitions>, name: string): Promise<void> {
  if (!(await jobs.queueCounts()).some((q) => q.name === name)) throw notFound(`Queue ${name}`);
}
