// POST /payments/erasures: a person's PayBot data removed now (by session id or receipt email), the
// way the retention job does it (erasure.ts). Behind the admin token; `switchboard payments erase`
// calls it.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../platform/db/database.ts';
import type { Guard } from '../../platform/http/admin-auth.ts';
import { eraseSessions } from './erasure.ts';

export function registerErasureRoutes(app: FastifyInstance, deps: { db: Database; guard: Guard }): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/payments/erasures',
    {
      preHandler: deps.guard,
      schema: {
        tags: ['payments'],
        summary: "Erase a person's PayBot data now, by session id or receipt email (admin token)",
        description:
          'Sessions that made a charge attempt keep what accounting needs (amount, currency, dates, payment and Stripe ids) and lose the name, receipt email and card description; the others are deleted.',
        body: z.union([
          z.object({ sessionId: z.string().trim().min(1).max(100) }).strict(),
          z.object({ email: z.email().max(254) }).strict(),
        ]),
        response: { 200: z.object({ erased: z.number().int(), deleted: z.number().int() }) },
      },
    },
    async (request) =>
      eraseSessions(
        deps.db,
        'sessionId' in request.body ? { sessionId: request.body.sessionId } : { email: request.body.email },
      ),
  );
}
