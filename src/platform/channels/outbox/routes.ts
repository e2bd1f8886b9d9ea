// Operator API over the outbox: what was sent, to whom, and how it went.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { notFound } from '../../errors.ts';
import type { Guard } from '../../http/admin-auth.ts';
import { OUTBOX_STATUSES, type OutboxRow } from '../schema.ts';
import { CHANNELS } from '../types.ts';
import { getMessage, listMessages } from './store.ts';

const listQuery = z
  .object({
    status: z.enum(OUTBOX_STATUSES).optional(),
    channel: z.enum(CHANNELS as ['sms', 'email', 'slack']).optional(),
    key: z.string().min(1).max(500).optional().describe('a dedupe key, or a prefix ending in *'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.string().max(200).optional().describe('the `next` cursor of the previous page'),
  })
  .strict();

export function registerOutboxRoutes(app: FastifyInstance, deps: { db: Database; guard: Guard }) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['outbox'];
  typed.get(
    '/outbox',
    {
      schema: { tags, summary: 'Outbox messages, newest first', querystring: listQuery },
      preHandler: deps.guard,
    },
    async (request) => {
      const { limit, before, ...filter } = request.query;
      const rows = await listMessages(deps.db.orm, {
        ...filter,
        limit: limit + 1,
        ...(before ? { before: decodeCursor(before) } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { messages: page.map(present), next: rows.length > limit && last ? encodeCursor(last) : null };
    },
  );
  typed.get(
    '/outbox/:id',
    {
      schema: { tags, summary: 'One outbox message', params: z.object({ id: z.uuid() }) },
      preHandler: deps.guard,
    },
    async (request) => {
      const row = await getMessage(deps.db.orm, request.params.id);
      if (!row) throw notFound(`Outbox message ${request.params.id}`);
      return present(row);
    },
  );
}

export function present(row: OutboxRow) {
  return {
    id: row.id,
    dedupeKey: row.dedupeKey,
    channel: row.channel,
    to: row.recipient,
    from: row.sender,
    status: row.status,
    attempts: row.attempts,
    segments: row.segments,
    sendAfter: row.sendAfter,
    driver: row.driver,
    providerId: row.providerId,
    errorCode: row.errorCode,
    lastError: row.lastError,
    content: row.content,
    meta: row.meta,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    sentAt: row.sentAt,
    deliveredAt: row.deliveredAt,
  };
}

const encodeCursor = (row: OutboxRow) =>
  Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !z.uuid().safeParse(id).success) {
    throw Object.assign(new Error('`before` is not a cursor this API returned'), { statusCode: 400 });
  }
  return { createdAt, id };
}
