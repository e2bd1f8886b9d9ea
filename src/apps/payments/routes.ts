// PayBot's HTTP surface: POST /chat (the chat contract), POST /webhooks/stripe (signed events), and
// the /pay page. Thin: authentication, the per-key limit and validation here; the turn, with the
// per-session limit counted in the session's own row, in chat.ts.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { isLoopbackHost } from '../../platform/http/addresses.ts';
import { credentialGuard } from '../../platform/http/credential-failures.ts';
import { chatAuth, hashKey } from './api-keys.ts';
import { type ChatDeps, handleChat, paymentPurpose } from './chat.ts';
import { chatEvents, wantsEventStream } from './chat-stream.ts';
import { FIELDS } from './dialog/state.ts';
import { canResume, checkSessionToken, resumeCookie, signSession } from './page-token.ts';
import { payPageHtml, payPageScript } from './pay-page.ts';
import { loadSession } from './store.ts';
import { verifyStripeEvent } from './stripe-event.ts';
import { handleStripeEvent } from './webhook.ts';

export interface PaymentRouteDeps {
  chat: ChatDeps;
  config: Config;
  db: Database;
  pageSecret: Buffer;
}

const sessionId = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only');

export function registerPaymentRoutes(app: FastifyInstance, deps: PaymentRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const { config, db } = deps;
  const payments = config.payments;
  const openAllowed = isLoopbackHost(config.http.host);
  const authenticate = chatAuth(db, payments.apiKeys, openAllowed);

  const chatBody = z
    .object({
      sessionId,
      message: z.string().max(payments.messageMaxChars, `at most ${payments.messageMaxChars} characters`),
      confirmationToken: z
        .string()
        .regex(/^ctoken_\w+$/, 'a ConfirmationToken id (ctoken_...)')
        .optional(),
      invoiceId: z.string().trim().min(1).max(100).optional(),
    })
    .strict();

  typed.post(
    '/chat',
    {
      bodyLimit: payments.bodyLimitBytes,
      config: {
        // The message is redacted by the chat turn (and the customer warned); ids are refused.
        cardNumbers: { redactedFields: ['body.message'] },
        rateLimit: {
          max: payments.ratePerKeyPerMinute,
          timeWindow: 60_000,
          keyGenerator: (request) => {
            const header = request.headers.authorization;
            const page = request.headers['x-pay-page-token'];
            if (typeof header === 'string' && header) return `chat:key:${hashKey(header).slice(0, 24)}`;
            if (typeof page === 'string' && page) return `chat:page:${request.ip}`;
            return `chat:ip:${request.ip}`;
          },
        },
      },
      schema: {
        tags: ['payments'],
        summary: 'One chat message to PayBot; the answer says what the client must do next',
        description:
          'With `Accept: text/event-stream` the answer comes as server-sent events: `token` (a piece of a model-written reply, as it comes), `message` (a rule-based reply, whole), then `done` carrying this same JSON contract. Card details must never be sent here: a card number or security code typed in a message is removed before anything else sees it. `payment` appears when the client must act: `checkoutUrl` (hosted card step), `publishableKey`/`amount`/`currency` (embedded Payment Element), both with `amountText` and `description` (what is being paid, to show before the card), or `clientSecret`/`nextAction` (3-D Secure).',
        body: chatBody,
        response: {
          200: z.object({
            response: z.string(),
            status: z.enum(['collecting', 'confirming', 'completed', 'error']),
            sessionId: z.string(),
            currentField: z.enum(FIELDS as [string, ...string[]]),
            payment: z
              .union([
                z.object({ checkoutUrl: z.string(), amountText: z.string(), description: z.string() }),
                z.object({
                  publishableKey: z.string(),
                  amount: z.number().int(),
                  currency: z.string(),
                  amountText: z.string(),
                  description: z.string(),
                }),
                z.object({ clientSecret: z.string(), nextAction: z.unknown() }),
              ])
              .optional(),
          }),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const pageToken = request.headers['x-pay-page-token'];
      if (typeof pageToken === 'string' && pageToken && !request.headers.authorization) {
        // A page token speaks only for the page's own sessions (web-<uuid>), never an API caller's.
        await credentialGuard(request, async () => {
          if (
            !isPageSession(body.sessionId) ||
            !checkSessionToken(deps.pageSecret, body.sessionId, pageToken)
          )
            throw new AppError('unauthorized', 'The page token does not belong to this session');
        });
      } else {
        await authenticate(request);
      }
      const answer = await handleChat(deps.chat, {
        sessionId: body.sessionId,
        message: body.message,
        ...(body.confirmationToken ? { confirmationToken: body.confirmationToken } : {}),
        ...(body.invoiceId ? { invoiceId: body.invoiceId } : {}),
        returnUrl: `${publicBase(config, request)}/pay`,
      });
      if (!wantsEventStream(request.headers.accept)) return answer;
      // Errors before this point (401, 429, 400) are the usual JSON envelope with their status.
      return reply
        .header('cache-control', 'no-store')
        .header('x-accel-buffering', 'no')
        .type('text/event-stream; charset=utf-8')
        .send(chatEvents(answer) as never);
    },
  );

  typed.get(
    '/pay',
    {
      schema: {
        tags: ['payments'],
        summary: 'The web chat page (card entry in Stripe.js only)',
        querystring: z.object({
          invoice: z.string().trim().max(100).optional(),
          session: sessionId.optional(),
        }),
      },
    },
    async (request, reply) => {
      // Back from Checkout the page resumes its own session, when this browser's cookie proves it
      // made it; any other id, or an id without the proof, starts a new one.
      const given = request.query.session;
      const resumed =
        given && isPageSession(given) && canResume(deps.pageSecret, given, request.headers.cookie)
          ? given
          : null;
      const id = resumed ?? `web-${randomUUID()}`;
      if (!resumed) reply.header('set-cookie', resumeCookie(deps.pageSecret, id, isHttps(config, request)));
      const stripeOrigin = new URL(payments.stripe.jsUrl).origin;
      const logoOrigin = payments.brand.logoUrl ? ` ${new URL(payments.brand.logoUrl).origin}` : '';
      reply
        .header(
          'content-security-policy',
          `default-src 'self'; script-src 'self' ${stripeOrigin}; frame-src ${stripeOrigin} https://*.stripe.com; connect-src 'self' ${stripeOrigin} https://api.stripe.com; img-src 'self' data: https://*.stripe.com${logoOrigin}; style-src 'self' 'unsafe-inline'`,
        )
        .type('text/html; charset=utf-8');
      return payPageHtml({
        sessionId: id,
        token: signSession(deps.pageSecret, id),
        invoiceId: request.query.invoice ?? null,
        stripeJsUrl: payments.stripe.jsUrl,
        publishableKey: payments.stripe.publishableKey,
        brand: payments.brand,
      });
    },
  );

  // The page's own session, read without a dialog turn: whether a charge is under way and, once the
  // webhook settled it, what the receipt screen shows.
  typed.get(
    '/pay/status',
    {
      schema: {
        tags: ['payments'],
        summary: "The /pay page's session: where the payment stands (page token)",
        querystring: z.object({ session: sessionId }),
        response: {
          200: z.object({
            status: z.enum(['collecting', 'confirming', 'completed', 'error']),
            currentField: z.enum(FIELDS as [string, ...string[]]),
            charging: z.boolean(),
            amountText: z.string().nullable(),
            description: z.string().nullable(),
            receiptEmail: z.string().nullable(),
            reference: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const id = request.query.session;
      const token = request.headers['x-pay-page-token'];
      await credentialGuard(request, async () => {
        if (typeof token !== 'string' || !isPageSession(id) || !checkSessionToken(deps.pageSecret, id, token))
          throw new AppError('unauthorized', 'The page token does not belong to this session');
      });
      const stored = await loadSession(db, id);
      if (!stored || stored.expired) throw new AppError('not_found', 'This payment session has ended');
      const state = stored.state;
      const purpose = state.amountMinor !== undefined ? paymentPurpose(state, payments) : null;
      return {
        status: state.status,
        currentField: state.currentField,
        charging:
          state.status === 'confirming' &&
          (state.chargeStatus === 'succeeded' || state.chargeStatus === 'processing'),
        amountText: purpose?.amountText ?? null,
        description: purpose?.description ?? null,
        receiptEmail: state.receiptEmail ?? null,
        reference: state.paymentIntentId ?? null,
      };
    },
  );

  app.get('/pay/chat.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(payPageScript),
  );

  // Stripe signs the raw bytes, so this route keeps the body as a string.
  app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );
    scope.post(
      '/webhooks/stripe',
      {
        config: { rateLimit: { max: config.webhooks.statusPerMinute * 10, timeWindow: 60_000 } },
        schema: {
          tags: ['webhooks'],
          summary: 'Stripe events (signed): the source of truth for completed payments',
        },
      },
      async (request) => {
        const stripe = deps.chat.stripe;
        const secrets = payments.stripe.webhookSecrets;
        if (!stripe || secrets.length === 0)
          throw new AppError('not_found', 'Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)');
        const signature = request.headers['stripe-signature'];
        if (typeof signature !== 'string' || !signature)
          throw new AppError('unauthorized', 'Stripe-Signature is missing');
        // Checks the HMAC, that the signed timestamp is within 5 minutes either way (old replays fail
        // here), and the body's shape.
        const event = verifyStripeEvent(
          stripe,
          typeof request.body === 'string' ? request.body : '',
          signature,
          secrets,
        );
        // A repeated event id is acknowledged without effect: Stripe re-signs each delivery, so a
        // retry of an event whose answer got lost is fresh and valid, and a 4xx would make Stripe
        // retry it for days. Old captured requests are refused above by the timestamp check.
        const result = await handleStripeEvent({ db, stripe, log: deps.chat.log }, event);
        return { received: true, result };
      },
    );
  });
}

/** Sessions the /pay page made: web- and a random UUID, unguessable like a bearer secret. */
const isPageSession = (id: string) =>
  /^web-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);

const isHttps = (config: Config, request: { protocol: string }) =>
  (config.webhooks.publicUrl ?? `${request.protocol}:`).startsWith('https:');

function publicBase(config: Config, request: { protocol: string; host: string }): string {
  if (config.webhooks.publicUrl) return config.webhooks.publicUrl;
  const base = `${request.protocol}://${request.host}`;
  if (!URL.canParse(base))
    throw new AppError('invalid_input', 'The Host header is not a valid host name', {
      details: [{ field: 'headers.host', message: 'is not a valid host[:port]' }],
    });
  return base;
}
