// Operator routes to create and revoke the API keys callers use for POST /chat. The key is shown
// once, in the creation answer; only its hash is stored.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../platform/db/database.ts';
import { notFound } from '../../platform/errors.ts';
import type { Guard } from '../../platform/http/admin-auth.ts';
import { generateKey, hashKey } from './api-keys.ts';
import { insertApiKey, revokeApiKey } from './store.ts';

export function registerApiKeyRoutes(app: FastifyInstance, deps: { db: Database; guard: Guard }): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['payments'];
  typed.post(
    '/payments/api-keys',
    {
      schema: {
        tags,
        summary: 'Create an API key for POST /chat (shown once)',
        body: z.object({ name: z.string().trim().min(1).max(100) }).strict(),
      },
      preHandler: deps.guard,
    },
    async (request, reply) => {
      const key = generateKey();
      const id = await insertApiKey(deps.db.orm, request.body.name, hashKey(key));
      return reply.status(201).send({ id, name: request.body.name, key });
    },
  );
  typed.post(
    '/payments/api-keys/:id/revoke',
    {
      schema: { tags, summary: 'Revoke an API key', params: z.object({ id: z.uuid() }) },
      preHandler: deps.guard,
    },
    async (request) => {
      if (!(await revokeApiKey(deps.db.orm, request.params.id)))
        throw notFound(`Active API key ${request.params.id}`);
      return { id: request.params.id, revoked: true };
    },
  );
}
