// GET /payments/sessions and /payments/sessions/:id: the console's PayBot page data (service.ts)
// over HTTP for operators and scripts, behind the admin token. Never card data.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../platform/db/database.ts';
import { notFound } from '../../platform/errors.ts';
import type { Guard } from '../../platform/http/admin-auth.ts';
import { getSession, listSessions } from './service.ts';

export function registerSessionRoutes(app: FastifyInstance, deps: { db: Database; guard: Guard }): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/payments/sessions',
    {
      preHandler: deps.guard,
      schema: {
        tags: ['payments'],
        summary: 'PayBot sessions, newest first, with their payments and refunds (admin token)',
        querystring: z.object({
          cursor: z.string().max(300).optional().describe('the `next` of the previous page'),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          status: z.enum(['collecting', 'confirming', 'completed', 'error']).optional(),
        }),
      },
    },
    async (request) =>
      listSessions(deps.db, {
        limit: request.query.limit,
        ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
        ...(request.query.status ? { status: request.query.status } : {}),
      }),
  );
  typed.get(
    '/payments/sessions/:id',
    {
      preHandler: deps.guard,
      schema: {
        tags: ['payments'],
        summary: 'One PayBot session with its payments and refunds (admin token)',
        params: z.object({ id: z.string().min(1).max(100) }),
      },
    },
    async (request) => {
      const session = await getSession(deps.db, request.params.id);
      if (!session) throw notFound(`Session ${request.params.id}`);
      return session;
    },
  );
}
