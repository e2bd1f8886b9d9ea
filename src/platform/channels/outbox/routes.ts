// Operator API over the outbox: what was sent, to whom, and how it went.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { invalidInput, notFound } from '../../errors.ts';
import type { Guard } from '../../http/admin-auth.ts';
import type { JobSystem } from '../../jobs/job-system.ts';
import { OUTBOX_STATUSES, type OutboxRow, type OutboxStatus } from '../schema.ts';
import { CHANNELS, type Channel } from '../types.ts';
import type { OutboxJobs } from './jobs.ts';
import { cancelMessage, hourlyDelivery, outboxBacklog, retryMessage } from './operator.ts';
import { exactCreatedAt, getMessage, listMessages } from './store.ts';

const listQuery = z
  .object({
    status: z.enum(OUTBOX_STATUSES).optional(),
    channel: z.enum(CHANNELS as ['sms', 'email', 'slack']).optional(),
    key: z.string().min(1).max(500).optional().describe('a dedupe key, or a prefix ending in *'),
    to: z.string().min(1).max(320).optional().describe('the exact recipient'),
    since: z.iso.datetime({ offset: true }).optional().describe('created at or after this instant'),
    until: z.iso.datetime({ offset: true }).optional().describe('created before this instant'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.string().max(200).optional().describe('the `next` cursor of the previous page'),
  })
  .strict();

/** Who the operator functions name when the API (the admin token) acts. */
const API_OPERATOR = 'api (admin token)';

export function registerOutboxRoutes(
  app: FastifyInstance,
  deps: { db: Database; guard: Guard; jobs: JobSystem<OutboxJobs> },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['outbox'];
  typed.get(
    '/outbox',
    {
      schema: { tags, summary: 'Outbox messages, newest first', querystring: listQuery },
      preHandler: deps.guard,
    },
    async (request) => {
      const { messages, next } = await pageOfMessages(deps.db, request.query);
      return { messages: messages.map(present), next };
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
  typed.get(
    '/outbox/stats',
    {
      schema: {
        tags,
        summary: 'Messages per hour, channel and outcome over the last `hours`, and what waits now',
        querystring: z
          .object({
            hours: z.coerce
              .number()
              .int()
              .min(1)
              .max(24 * 14)
              .default(24),
          })
          .strict(),
      },
      preHandler: deps.guard,
    },
    async (request) => {
      const since = new Date(Date.now() - request.query.hours * 3600_000);
      const [hourly, backlog] = await Promise.all([hourlyDelivery(deps.db, since), outboxBacklog(deps.db)]);
      return { since, hourly, backlog };
    },
  );
  const byId = { params: z.object({ id: z.uuid() }) };
  typed.post(
    '/outbox/:id/retry',
    {
      schema: { tags, summary: 'Send a failed or undelivered message again (409 otherwise)', ...byId },
      preHandler: deps.guard,
    },
    async (request, reply) => {
      await retryMessage(deps, request.params.id, API_OPERATOR);
      return reply.status(202).send(present(await mustGet(deps.db, request.params.id)));
    },
  );
  typed.post(
    '/outbox/:id/cancel',
    { schema: { tags, summary: 'Cancel a queued message (409 otherwise)', ...byId }, preHandler: deps.guard },
    async (request) => {
      await cancelMessage(deps, request.params.id, API_OPERATOR);
      return present(await mustGet(deps.db, request.params.id));
    },
  );
}

async function mustGet(db: Database, id: string) {
  const row = await getMessage(db.orm, id);
  if (!row) throw notFound(`Outbox message ${id}`);
  return row;
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

export interface MessageQuery {
  status?: OutboxStatus;
  channel?: Channel;
  key?: string;
  to?: string;
  since?: string;
  until?: string;
  limit: number;
  before?: string;
}

/** One page of messages, newest first, and the cursor of the next (the API's and the console's list). */
export async function pageOfMessages(db: Database, query: MessageQuery) {
  const { limit, before, since, until, ...filter } = query;
  const rows = await listMessages(db.orm, {
    ...filter,
    ...(since ? { since: new Date(since) } : {}),
    ...(until ? { until: new Date(until) } : {}),
    limit: limit + 1,
    ...(before ? { before: decodeCursor(before) } : {}),
  });
  const messages = rows.slice(0, limit);
  const last = messages.at(-1);
  const lastAt = rows.length > limit && last ? await exactCreatedAt(db.orm, last.id) : undefined;
  return { messages, next: last && lastAt ? encodeCursor(lastAt, last.id) : null };
}

const encodeCursor = (createdAt: string, id: string) =>
  Buffer.from(`${createdAt}|${id}`).toString('base64url');

/** An ISO 8601 instant in UTC to the microsecond, as exactCreatedAt writes it (older cursors: ms). */
const CURSOR_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = at ?? '';
  if (
    !id ||
    !CURSOR_INSTANT.test(createdAt) ||
    Number.isNaN(new Date(createdAt).getTime()) ||
    !z.uuid().safeParse(id).success
  ) {
    throw invalidInput('`before` is not a cursor this API returned', [
      { field: 'querystring.before', message: 'use the `next` value of the previous page' },
    ]);
  }
  return { createdAt, id };
}
