// The daily messages API: subscribers (add one or up to 1,000, list, change, delete), their message
// history with delivery status, and planning / cleanup on demand. Thin: schemas, then functions.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../platform/db/database.ts';
import { notFound } from '../../platform/errors.ts';
import type { Guard } from '../../platform/http/admin-auth.ts';
import type { PlanResult } from './planning.ts';
import {
  getListedSubscriber,
  getSubscriber,
  type ListedSubscriber,
  listSubscribers,
  messageHistory,
} from './store.ts';
import { newSubscriber, resolveWindow, subscriberUpdate } from './subscriber-input.ts';
import {
  addSubscribers,
  changeSubscriber,
  presentSubscriber,
  removeSubscriber,
  type SubscriberDefaults,
  withOptOut,
} from './subscribers.ts';

export const MAX_BULK = 1000;

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** GET /subscribers' filters (the console's subscriber list reads the same). */
export const subscriberFilter = z
  .object({
    after: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(MAX_BULK).default(100),
    q: z.string().trim().min(1).max(100).optional().describe('part of the phone number or name'),
    timeZone: z.string().trim().min(1).max(100).optional(),
    window: z
      .string()
      .trim()
      .max(20)
      .optional()
      .describe('exactly this window, e.g. 09:00-17:00')
      .superRefine((value, ctx) => {
        if (value && !resolveWindow(value).ok)
          ctx.addIssue({ code: 'custom', message: 'a window such as 09:00-17:00' });
      }),
    paused: flag.optional(),
    optedOut: flag.optional(),
  })
  .strict();

/** The filters as the store function's. */
export function subscriberQuery(
  query: z.output<typeof subscriberFilter>,
): Parameters<typeof listSubscribers>[1] {
  const { q, window, ...rest } = query;
  const parsed = window ? resolveWindow(window) : null;
  return {
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    limit: query.limit,
    ...(q ? { search: q } : {}),
    ...(parsed?.ok ? { window: parsed.value } : {}),
  };
}

export interface DailyRouteDeps {
  db: Database;
  guard: Guard;
  defaults: SubscriberDefaults;
  /** Requests per minute for changes (DAILY_CONFIG_RATE_LIMIT). */
  configPerMinute: number;
  plan: () => Promise<PlanResult>;
  cleanup: () => Promise<unknown>;
}

export function registerDailyRoutes(app: FastifyInstance, deps: DailyRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['daily'];
  const { db, guard } = deps;
  const limited = { rateLimit: { max: deps.configPerMinute, timeWindow: 60_000 } };
  const id = z.object({ id: z.uuid() });

  typed.post(
    '/subscribers',
    {
      config: limited,
      schema: {
        tags,
        summary: `Subscribe one number, or { subscribers: [...] } with up to ${MAX_BULK}; a known number is updated`,
        body: z.union([
          newSubscriber,
          z.object({ subscribers: z.array(newSubscriber).min(1).max(MAX_BULK) }).strict(),
        ]),
      },
      preHandler: guard,
    },
    async (request, reply) => {
      const bulk = 'subscribers' in request.body;
      const list = 'subscribers' in request.body ? request.body.subscribers : [request.body];
      const rows = await addSubscribers(db, list, deps.defaults, (i) =>
        bulk ? `body.subscribers.${i}.` : 'body.',
      );
      const created = rows.filter((r) => r.created).length;
      const status = created > 0 ? 201 : 200;
      const listed = await withOptOut(
        db,
        rows.map((r) => r.row),
      );
      if (!bulk) return reply.status(status).send(presentSubscriber(listed[0] as (typeof listed)[number]));
      return reply.status(status).send({
        created,
        merged: rows.length - created,
        subscribers: listed.map(presentSubscriber),
      });
    },
  );

  typed.get(
    '/subscribers',
    {
      schema: {
        tags,
        summary: 'Subscribers by id, with their opt-out state; optionally filtered',
        querystring: subscriberFilter,
      },
      preHandler: guard,
    },
    async (request) => {
      const rows = await listSubscribers(db.orm, subscriberQuery(request.query));
      return {
        subscribers: rows.map(presentSubscriber),
        next: rows.length === request.query.limit ? (rows.at(-1)?.id ?? null) : null,
      };
    },
  );

  typed.get(
    '/subscribers/:id',
    { schema: { tags, summary: 'One subscriber', params: id }, preHandler: guard },
    async (request) => {
      const row = await getListedSubscriber(db.orm, request.params.id);
      if (!row) throw notFound(`Subscriber ${request.params.id}`);
      return presentSubscriber(row);
    },
  );

  typed.patch(
    '/subscribers/:id',
    {
      config: limited,
      schema: {
        tags,
        summary: 'Change window, time zone, paused or name',
        params: id,
        body: subscriberUpdate,
      },
      preHandler: guard,
    },
    async (request) => {
      const row = await changeSubscriber(db, request.params.id, request.body);
      const [listed] = await withOptOut(db, [row]);
      return presentSubscriber(listed as ListedSubscriber);
    },
  );

  typed.delete(
    '/subscribers/:id',
    {
      config: limited,
      schema: {
        tags,
        summary: 'Forget a subscriber and their history (an opt-out stays on the suppression list)',
        params: id,
      },
      preHandler: guard,
    },
    async (request, reply) => {
      await removeSubscriber(db, request.params.id);
      return reply.status(204).send();
    },
  );

  typed.get(
    '/subscribers/:id/messages',
    {
      schema: {
        tags,
        summary: 'Messages planned and sent to a subscriber, newest first, with delivery status',
        params: id,
        querystring: z
          .object({
            before: z.iso.date().optional().describe('local date: older than this'),
            limit: z.coerce.number().int().min(1).max(366).default(30),
          })
          .strict(),
      },
      preHandler: guard,
    },
    async (request) => {
      if (!(await getSubscriber(db.orm, request.params.id)))
        throw notFound(`Subscriber ${request.params.id}`);
      const rows = await messageHistory(db.orm, request.params.id, request.query);
      // Not queued yet: `planned`; queued but its outbox row is gone (retention): `removed`.
      return {
        messages: rows.map(({ queuedAt, ...row }) => ({
          ...row,
          status: row.status ?? (queuedAt ? 'removed' : 'planned'),
        })),
      };
    },
  );

  typed.post(
    '/daily/plan',
    {
      config: limited,
      schema: { tags, summary: 'Plan the next local day for every subscriber now' },
      preHandler: guard,
    },
    async (_request, reply) => reply.status(201).send(await deps.plan()),
  );

  typed.post(
    '/daily/cleanup',
    {
      config: limited,
      schema: { tags, summary: 'Remove history and outbox rows past retention now' },
      preHandler: guard,
    },
    async () => deps.cleanup(),
  );
}
