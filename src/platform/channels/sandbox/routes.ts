// The sandbox's window: what sandbox drivers "sent", and a way to simulate a person texting back.
import { randomUUID } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { and, desc, eq } from '../../db/drizzle.ts';
import { AppError, invalidInput } from '../../errors.ts';
import type { Guard } from '../../http/admin-auth.ts';
import type { Channels } from '../channels.ts';
import { sandboxMessages } from '../schema.ts';
import { normalizePhone } from '../sms/phone.ts';
import { CHANNELS, type Channel } from '../types.ts';

export interface SandboxRouteDeps {
  db: Database;
  guard: Guard;
  drivers: Record<Channel, string>;
  /** The number inbound texts are addressed to (the sandbox "from" number). */
  smsNumber: string;
  defaultRegion: string | undefined;
  receiveSms: Channels['receiveSms'];
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
      const { channel, to, limit } = request.query;
      const conditions: SQL[] = [];
      if (channel) conditions.push(eq(sandboxMessages.channel, channel));
      if (to) conditions.push(eq(sandboxMessages.recipient, to));
      const rows = await deps.db.orm
        .select()
        .from(sandboxMessages)
        .where(and(...conditions))
        .orderBy(desc(sandboxMessages.createdAt))
        .limit(limit);
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
      if (deps.drivers.sms !== 'sandbox') {
        throw new AppError('conflict', `SMS go through ${deps.drivers.sms}: text the real number instead`);
      }
      const from = normalizePhone(request.body.from, deps.defaultRegion);
      if (!from.ok)
        throw invalidInput('`from` is not a phone number', [{ field: 'body.from', message: from.reason }]);
      const providerId = `sandbox-in-${randomUUID()}`;
      await deps.db.orm.insert(sandboxMessages).values({
        channel: 'sms',
        direction: 'inbound',
        sender: from.e164,
        recipient: deps.smsNumber,
        content: { body: request.body.body },
      });
      const action = await deps.receiveSms({
        from: from.e164,
        to: deps.smsNumber,
        body: request.body.body,
        providerId,
      });
      return reply.status(202).send({ sandbox: true, action, providerId });
    },
  );
}
