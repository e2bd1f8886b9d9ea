// CreditBot's HTTP surface: the Slack Events API webhook (signed), the requests API (list, one,
// run, retry) and, without Slack credentials, the sandbox Slack channel. Thin: verification and
// validation here, the work in intake.ts and service.ts.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { firstSighting } from '../../platform/channels/webhook-events.ts';
import { checkSigned, parseSignedJson } from '../../platform/channels/webhooks/signed-payload.ts';
import { checkSlackSignature } from '../../platform/channels/webhooks/slack-signature.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import type { Guard } from '../../platform/http/admin-auth.ts';
import type { Metrics } from '../../platform/metrics.ts';
import { MAX_CORRECTED_CENTS } from './correction.ts';
import { type IntakeDeps, intakeMessage } from './intake.ts';
import {
  getCreditRequest,
  listCreditRequests,
  opinionOf,
  type SecondOpinionView,
} from './prediction/views.ts';
import { sandboxLinks } from './sandbox-looker.ts';
import { CREDIT_REQUEST_STATUSES, type CreditRequestRow } from './schema.ts';
import { type CreditService, postSandboxRequest } from './service.ts';
import { slackEventsPayload, slackMessage, slackReaction } from './slack-payload.ts';

export interface CreditRouteDeps {
  intake: IntakeDeps;
  service: CreditService;
  guard: Guard;
  platformMetrics: Metrics;
  eventsPerMinute: number;
  /** Set when Slack is the sandbox: the sandbox channel's route is added. */
  sandbox: {
    postMessage: (channel: string, text: string) => Promise<{ channel: string; ts: string }>;
    loadHistory: CreditService['loadSyntheticHistory'];
  } | null;
}

export const presentRequest = (row: CreditRequestRow, opinion: SecondOpinionView) => ({
  id: row.id,
  channel: row.channel,
  ts: row.ts,
  threadTs: row.threadTs,
  text: row.text,
  intake: row.intake,
  status: row.status,
  attempts: row.attempts,
  round: row.round,
  editedAt: row.editedAt,
  amountCents: row.amountCents,
  summary: row.summary,
  error: row.error,
  createdAt: row.createdAt,
  finishedAt: row.finishedAt,
  ...opinion,
});

export function registerCreditRoutes(app: FastifyInstance, deps: CreditRouteDeps): void {
  const { intake, service, guard } = deps;
  const present = async (id: string) => {
    const { row, opinion } = await getCreditRequest(intake.db, id);
    return presentRequest(row, opinion);
  };
  // The row as the action left it (a retried request shows `queued`, whatever a worker does next).
  const presentRow = async (row: CreditRequestRow) => presentRequest(row, await opinionOf(intake.db, row));
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['credits'];
  const events = deps.platformMetrics.webhookEvents;

  // Slack signs the raw bytes, so this scope keeps the body as a string.
  app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );
    scope.post(
      '/webhooks/slack/events',
      {
        config: { rateLimit: { max: deps.eventsPerMinute, timeWindow: 60_000 } },
        schema: { tags, summary: 'Slack Events API (signed): credit requests in the watched channels' },
      },
      async (request, reply) => {
        const reject = (error: AppError): never => {
          events.inc({ provider: 'slack', kind: 'events', outcome: 'rejected' });
          throw error;
        };
        const secret = intake.config.signingSecret;
        if (!secret)
          reject(
            new AppError('not_found', 'Slack events are not configured (SLACK_SIGNING_SECRET is unset)'),
          );
        const raw = typeof request.body === 'string' ? request.body : '';
        const check = checkSlackSignature(secret as string, request.headers, raw);
        if (check === 'missing')
          reject(new AppError('unauthorized', 'X-Slack-Signature or X-Slack-Request-Timestamp is missing'));
        if (check === 'invalid') reject(new AppError('forbidden', 'X-Slack-Signature does not match'));
        if (check === 'stale')
          reject(
            new AppError('forbidden', 'X-Slack-Request-Timestamp is more than 5 minutes away: a replay'),
          );
        const payload = parseSignedJson(raw, slackEventsPayload, 'Slack payload');
        if (payload.type === 'url_verification') return { challenge: payload.challenge };
        const event = payload.event;
        const eventId = payload.event_id;
        const message =
          event.type === 'message'
            ? checkSigned(event, slackMessage, 'Slack message event', 'body.event')
            : null;
        const reaction =
          event.type === 'reaction_added'
            ? checkSigned(event, slackReaction, 'Slack reaction event', 'body.event')
            : null;
        // Acknowledged at once: the request is queued, not processed, before Slack's 3 s deadline.
        let result: { outcome: string } = await withTransaction(intake.db, async (tx) => {
          // Slack retries an event it thinks we missed with the same event_id: answered once.
          if (!(await firstSighting(tx, 'slack-events', eventId))) return { outcome: 'duplicate' as const };
          if (reaction) return { outcome: 'reaction' as const };
          if (!message) return { outcome: 'ignored' as const, reason: `a ${event.type} event` };
          if (!message.channel) return { outcome: 'ignored' as const, reason: 'a message without a channel' };
          return intakeMessage(intake, message.channel, message, 'events', tx);
        });
        // An approval of a held reply: a short transaction of its own, the reply through the outbox.
        if (reaction && result.outcome === 'reaction') result = await service.approveByReaction(reaction);
        events.inc({ provider: 'slack', kind: 'events', outcome: 'processed' });
        request.log.debug({ eventId, outcome: result.outcome }, 'Slack event');
        return reply.status(200).send({ ok: true, outcome: result.outcome });
      },
    );
  });

  const requestId = z.object({ id: z.uuid() });

  typed.get(
    '/credits/requests',
    {
      schema: {
        tags,
        summary: 'Credit requests, newest first, with their compact summaries',
        querystring: z
          .object({
            limit: z.coerce.number().int().min(1).max(500).default(50),
            before: z.iso
              .datetime({ offset: true })
              .optional()
              .describe('createdAt of the last row of the previous page'),
            status: z.enum(CREDIT_REQUEST_STATUSES).optional(),
          })
          .strict(),
      },
      preHandler: guard,
    },
    async (request) => {
      const { limit, before, status } = request.query;
      const rows = await listCreditRequests(intake.db, {
        limit,
        ...(before ? { before: new Date(before) } : {}),
        ...(status ? { status } : {}),
      });
      return { requests: rows.map(({ row, opinion }) => presentRequest(row, opinion)) };
    },
  );

  typed.get(
    '/credits/requests/:id',
    { schema: { tags, summary: 'One credit request', params: requestId }, preHandler: guard },
    async (request) => present(request.params.id),
  );

  typed.post(
    '/credits/requests/:id/retry',
    { schema: { tags, summary: 'Try a failed request again', params: requestId }, preHandler: guard },
    async (request, reply) =>
      reply.status(202).send(await presentRow(await service.retry(request.params.id))),
  );

  typed.post(
    '/credits/requests/:id/approve',
    {
      schema: {
        tags,
        summary:
          'Approve a held reply (CREDITS_HOLD_OUTLIERS): it is posted in the thread as computed, or with the amount a person corrected it to',
        params: requestId,
        body: z
          .object({
            by: z.string().trim().min(1).max(200).describe('who approves'),
            amountCents: z
              .number()
              .int()
              .min(0)
              .max(MAX_CORRECTED_CENTS)
              .optional()
              .describe(
                'the credit to post instead of the computed one, in cents; the reply says who corrected it and from what',
              ),
          })
          .strict(),
      },
      preHandler: guard,
    },
    async (request) => {
      const { by, amountCents } = request.body;
      await service.approve(request.params.id, { by, correctedCents: amountCents ?? null });
      return present(request.params.id);
    },
  );

  typed.get(
    '/credits/analytics',
    {
      schema: {
        tags,
        summary: 'Credit totals by week, month, product and mode; largest accounts; credit-to-cost ratios',
        querystring: z
          .object({
            since: z.iso.datetime({ offset: true }).optional(),
            until: z.iso.datetime({ offset: true }).optional(),
            accounts: z.coerce.number().int().min(1).max(100).default(10),
          })
          .strict(),
      },
      preHandler: guard,
    },
    async (request) => {
      const { since, until, accounts } = request.query;
      return service.analytics({
        accounts,
        ...(since ? { since: new Date(since) } : {}),
        ...(until ? { until: new Date(until) } : {}),
      });
    },
  );

  typed.post(
    '/credits/model/train',
    {
      schema: {
        tags,
        summary: 'Train the prediction model on the answered requests now (a new version)',
        body: z
          .object({ trigger: z.enum(['api', 'cli']).default('api') })
          .strict()
          .default({ trigger: 'api' }),
      },
      preHandler: guard,
    },
    async (request) => service.trainModel(request.body.trigger),
  );

  typed.get(
    '/credits/model/evaluate',
    {
      schema: {
        tags,
        summary: 'Time-ordered cross-validation on the answered requests: MAE, coverage, flagged',
      },
      preHandler: guard,
    },
    async () => service.evaluateModel(),
  );

  typed.post(
    '/credits/requests',
    {
      schema: {
        tags,
        summary:
          'Process one request now and return it: message text (printed only), or a Slack permalink (answered in its thread)',
        body: z.union([
          z.object({ text: z.string().trim().min(1).max(40_000) }).strict(),
          z.object({ permalink: z.url().max(2000) }).strict(),
        ]),
      },
      preHandler: guard,
    },
    async (request, reply) => {
      const row =
        'text' in request.body
          ? await service.runText(request.body.text)
          : await service.runPermalink(request.body.permalink);
      return reply.status(200).send(await presentRow(row));
    },
  );

  typed.post(
    '/credits/poll',
    { schema: { tags, summary: 'One polling pass over the watched channels now' }, preHandler: guard },
    async () => ({ channels: await service.pollOnce() }),
  );

  const sandbox = deps.sandbox;
  if (sandbox) {
    typed.get(
      '/sandbox/looker',
      {
        schema: { tags: ['sandbox'], summary: 'The sandbox Looker: sample links to paste into a request' },
        preHandler: guard,
      },
      async () => ({
        sandbox: true,
        host: intake.config.lookerHost,
        channels: intake.config.channels,
        links: sandboxLinks(intake.config.lookerHost),
      }),
    );
    typed.post(
      '/sandbox/credits/history',
      {
        schema: {
          tags: ['sandbox'],
          summary:
            'Record SYNTHETIC answered credit requests (generated, seeded) as history and train a model on them',
          body: z
            .object({
              count: z.number().int().min(1).max(5000).default(300),
              seed: z
                .number()
                .int()
                .min(0)
                .max(2 ** 31)
                .default(20),
            })
            .strict()
            .default({ count: 300, seed: 20 }),
        },
        preHandler: guard,
      },
      async (request, reply) =>
        reply.status(201).send({ synthetic: true, ...(await sandbox.loadHistory(request.body)) }),
    );
    typed.post(
      '/sandbox/slack/messages',
      {
        schema: {
          tags: ['sandbox'],
          summary: 'Post a message to a sandbox Slack channel, as a person would (CreditBot watches it)',
          body: z
            .object({ channel: z.string().trim().min(1).max(100), text: z.string().min(1).max(40_000) })
            .strict(),
        },
        preHandler: guard,
      },
      async (request, reply) => {
        const { channel, text } = request.body;
        const posted = await postSandboxRequest(intake, sandbox.postMessage, channel, text);
        return reply.status(201).send({ sandbox: true, ...posted });
      },
    );
  }
}
