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
import { sendGridEventsSchema, twilioInboundSchema, twilioStatusSchema } from './payload-schemas.ts';
import { parseSignedForm, parseSignedJson } from './signed-payload.ts';
import { applySendGridEvents, applyTwilioStatus } from './status-updates.ts';
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
  app.post(
    '/webhooks/twilio/sms',
    {
      config: perMinute(config.webhooks.inboundPerMinute),
      schema: { tags, summary: 'Inbound SMS from Twilio (signed)' },
    },
    async (request, reply: FastifyReply) => {
      verifyTwilio(request, 'inbound');
      const form = parseSignedForm(request.body, twilioInboundSchema, 'inbound SMS');
      const from = normalizePhone(form.From);
      // Recorded as received in the same transaction that handles it: a failure leaves it unrecorded,
      // so Twilio's retry is processed, while a replay of a handled message changes nothing. The key
      // is the signed MessageSid, never an unsigned header a replayer could change or drop.
      const action = await deps.receiveSms(
        { from: from.ok ? from.e164 : form.From, to: form.To ?? '', body: form.Body, providerId: form.sid },
        (tx) => firstSighting(tx, 'twilio-sms', form.sid),
      );
      if (action === 'duplicate') {
        reject(
          'twilio',
          'inbound',
          new AppError('forbidden', 'Replayed request: this message was already received'),
        );
      }
      metrics.webhookEvents.inc({ provider: 'twilio', kind: 'inbound', outcome: 'processed' });
      request.log.info({ providerId: form.sid, action }, 'inbound SMS');
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
      const form = parseSignedForm(request.body, twilioStatusSchema, 'status callback');
      // One callback per message and status: the key comes from the signed form only.
      const result = await applyTwilioStatus(deps, `${form.MessageSid}:${form.MessageStatus}`, form);
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
  app.register(async (scope) => {
    // The SDK (and its ECDSA library) is loaded only where SendGrid's events are verified.
    const verifySendGrid = sendgridKey
      ? (await import('./sendgrid-signature.ts')).createSendGridVerifier(sendgridKey)
      : null;
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
        const events = parseSignedJson(raw, sendGridEventsSchema, 'event batch');
        const counts = await applySendGridEvents(deps, events);
        metrics.webhookEvents.inc({ provider: 'sendgrid', kind: 'events', outcome: 'processed' });
        return counts;
      },
    );
  });
}
