// Inbound provider webhooks. Each verifies the provider's signature before reading anything,
// rejects replays, is rate limited per source, and hands the payload to a plain function.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../../../config.ts';
import type { Database } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import type { Channels } from '../channels.ts';
import { normalizePhone } from '../sms/phone.ts';
import { firstSighting } from '../webhook-events.ts';
import { createSendGridVerifier } from './sendgrid-signature.ts';
import { applySendGridEvents, applyTwilioStatus, type SendGridEvent } from './status-updates.ts';
import { checkTwilioSignature } from './twilio-signature.ts';

export interface WebhookDeps {
  config: Config;
  db: Database;
  log: Logger;
  metrics: Metrics;
  receiveSms: Channels['receiveSms'];
}

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export function registerWebhookRoutes(app: FastifyInstance, deps: WebhookDeps): void {
  const { config, metrics } = deps;
  const perMinute = (max: number) => ({ rateLimit: { max, timeWindow: 60_000 } });
  const tags = ['webhooks'];
  const reject = (provider: string, kind: string, error: AppError): never => {
    metrics.webhookEvents.inc({ provider, kind, outcome: 'rejected' });
    throw error;
  };

  const twilioAuth = config.channels.sms.driver === 'twilio' ? config.channels.sms.authToken : null;
  const verifyTwilio = (request: Parameters<typeof checkTwilioSignature>[0], kind: string) => {
    if (!twilioAuth)
      reject(
        'twilio',
        kind,
        new AppError('not_found', 'Twilio is not configured (TWILIO_ACCOUNT_SID is unset)'),
      );
    const check = checkTwilioSignature(request, twilioAuth as string, config.webhooks.publicUrl);
    if (check === 'missing')
      reject('twilio', kind, new AppError('unauthorized', 'X-Twilio-Signature is missing'));
    if (check === 'invalid')
      reject('twilio', kind, new AppError('forbidden', 'X-Twilio-Signature does not match'));
  };
  /** Twilio's retries carry the same idempotency token; a request seen before is a replay. */
  const twilioEventId = (request: { headers: Record<string, unknown> }, fallback: string) => {
    const token = request.headers['i-twilio-idempotency-token'];
    return typeof token === 'string' && token ? token : fallback;
  };

  app.post(
    '/webhooks/twilio/sms',
    {
      config: perMinute(config.webhooks.inboundPerMinute),
      schema: { tags, summary: 'Inbound SMS from Twilio (signed)' },
    },
    async (request, reply: FastifyReply) => {
      verifyTwilio(request, 'inbound');
      const body = (request.body ?? {}) as Record<string, string>;
      const sid = body.MessageSid ?? body.SmsSid;
      if (!sid || !body.From || body.Body === undefined) {
        reject('twilio', 'inbound', new AppError('invalid_input', 'MessageSid, From and Body are required'));
      }
      const from = normalizePhone(body.From as string);
      // Recorded as received in the same transaction that handles it: a failure leaves it unrecorded,
      // so Twilio's retry is processed, while a replay of a handled message changes nothing.
      const action = await deps.receiveSms(
        {
          from: from.ok ? from.e164 : (body.From as string),
          to: body.To ?? '',
          body: body.Body as string,
          providerId: sid as string,
        },
        (tx) => firstSighting(tx, 'twilio-sms', twilioEventId(request, sid as string)),
      );
      if (action === 'duplicate') {
        reject(
          'twilio',
          'inbound',
          new AppError('forbidden', 'Replayed request: this message was already received'),
        );
      }
      metrics.webhookEvents.inc({ provider: 'twilio', kind: 'inbound', outcome: 'processed' });
      request.log.info({ providerId: sid, action }, 'inbound SMS');
      return reply.type('text/xml').send(EMPTY_TWIML);
    },
  );

  app.post(
    '/webhooks/twilio/status',
    {
      config: perMinute(config.webhooks.statusPerMinute),
      schema: { tags, summary: 'Twilio message status callback (signed)' },
    },
    async (request, reply) => {
      verifyTwilio(request, 'status');
      const body = (request.body ?? {}) as Record<string, string>;
      const result = await applyTwilioStatus(
        deps,
        twilioEventId(request, `${body.MessageSid}:${body.MessageStatus}`),
        body,
      );
      if (result === 'duplicate')
        reject(
          'twilio',
          'status',
          new AppError('forbidden', 'Replayed request: this status was already received'),
        );
      metrics.webhookEvents.inc({ provider: 'twilio', kind: 'status', outcome: 'processed' });
      return reply.status(204).send();
    },
  );

  // SendGrid's signature covers the raw bytes, so this route keeps the body as a string.
  const sendgridKey =
    config.channels.email.driver === 'sendgrid' ? config.channels.email.webhookPublicKey : null;
  const verifySendGrid = sendgridKey ? createSendGridVerifier(sendgridKey) : null;
  app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );
    scope.post(
      '/webhooks/sendgrid/events',
      {
        config: perMinute(config.webhooks.statusPerMinute),
        schema: { tags, summary: 'SendGrid Event Webhook (signed)' },
      },
      async (request) => {
        if (!verifySendGrid) {
          reject(
            'sendgrid',
            'events',
            new AppError(
              'not_found',
              'SendGrid event verification is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY)',
            ),
          );
        }
        const raw = typeof request.body === 'string' ? request.body : '';
        const check = (verifySendGrid as NonNullable<typeof verifySendGrid>)(request.headers, raw);
        if (check === 'missing')
          reject(
            'sendgrid',
            'events',
            new AppError('unauthorized', 'The SendGrid signature headers are missing'),
          );
        if (check === 'invalid')
          reject('sendgrid', 'events', new AppError('forbidden', 'The SendGrid signature does not match'));
        if (check === 'stale')
          reject(
            'sendgrid',
            'events',
            new AppError('forbidden', 'Replayed request: the signed timestamp is too old'),
          );
        let events: unknown;
        try {
          events = JSON.parse(raw);
        } catch {
          throw new AppError('malformed_json', 'The request body is not valid JSON');
        }
        if (!Array.isArray(events)) throw new AppError('invalid_input', 'Expected a JSON array of events');
        const counts = await applySendGridEvents(deps, events as SendGridEvent[]);
        metrics.webhookEvents.inc({ provider: 'sendgrid', kind: 'events', outcome: 'processed' });
        return counts;
      },
    );
  });
}
