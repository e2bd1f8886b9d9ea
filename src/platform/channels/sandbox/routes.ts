// The sandbox's window: what sandbox drivers "sent", and a way to simulate a person texting back.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Guard } from '../../http/admin-auth.ts';
import { CHANNELS } from '../types.ts';
import { type InboundSimulation, listSandboxMessages, simulateInboundSms } from './inbox.ts';

export interface SandboxRouteDeps extends InboundSimulation {
  guard: Guard;
}

export function registerSandboxRoutes(app: FastifyInstance, deps: SandboxRouteDeps) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['sandbox'];
  typed.get(
    '/sandbox/messages',
    {
      schema: {
        tags,
        summary: 'Messages the sandbox drivers stood in for (and simulated inbound SMS), newest first',
        querystring: z
          .object({
            channel: z.enum(CHANNELS as ['sms', 'email', 'slack']).optional(),
            to: z.string().max(320).optional(),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          })
          .strict(),
      },
      preHandler: deps.guard,
    },
    async (request) => {
      const rows = await listSandboxMessages(deps.db, request.query);
      return {
        sandbox: true,
        note: 'Nothing here left this machine: these channels have no provider credentials configured.',
        drivers: deps.drivers,
        messages: rows.map((row) => ({
          id: row.id,
          channel: row.channel,
          direction: row.direction,
          from: row.sender,
          to: row.recipient,
          content: row.content,
          outboxId: row.outboxId,
          createdAt: row.createdAt,
        })),
      };
    },
  );
  typed.post(
    '/sandbox/sms/inbound',
    {
      schema: {
        tags,
        summary: 'Simulate an SMS sent to Switchboard (keywords such as STOP are handled as from a phone)',
        body: z.object({ from: z.string().min(1).max(40), body: z.string().min(1).max(1600) }).strict(),
      },
      preHandler: deps.guard,
    },
    async (request, reply) => {
      const { action, providerId } = await simulateInboundSms(deps, request.body.from, request.body.body);
      return reply.status(202).send({ sandbox: true, action, providerId });
    },
  );
}
