// The signed webhooks have no documented body (each verifies raw bytes first), so the fuzzer gets
// an example body per route to mutate, and signs what it generates with the providers' schemes, so
// a malformed but correctly signed body reaches the schema checks behind the signature.
import { createHmac } from 'node:crypto';
import { sendGridEventSigner } from '../fakes/sendgrid.ts';
import { signTwilioWebhook } from '../fakes/twilio.ts';
import type { FuzzOptions, FuzzRequest } from './openapi-fuzz.ts';

export const FUZZ_SECRETS = {
  twilioSid: `AC${'f'.repeat(32)}`,
  twilioToken: 'fuzz-twilio-auth-token',
  slack: 'fuzz-slack-signing-secret',
  stripe: 'whsec_fuzz_secret',
};

const SID = `SM${'0123456789abcdef'.repeat(2)}`;

export const WEBHOOK_EXAMPLES: NonNullable<FuzzOptions['examples']> = {
  'POST /webhooks/twilio/sms': {
    contentType: 'application/x-www-form-urlencoded',
    body: {
      MessageSid: SID,
      SmsSid: SID,
      From: '+14155550100',
      To: '+15005550006',
      Body: 'STOP',
      NumMedia: '0',
    },
  },
  'POST /webhooks/twilio/status': {
    contentType: 'application/x-www-form-urlencoded',
    body: { MessageSid: SID, MessageStatus: 'delivered', ErrorCode: '0', To: '+14155550100' },
  },
  'POST /webhooks/sendgrid/events': {
    contentType: 'application/json',
    body: [{ event: 'delivered', sg_event_id: 'ev-1', sg_message_id: 'abc.filter', email: 'a@example.com' }],
  },
  'POST /webhooks/slack/events': {
    contentType: 'application/json',
    body: {
      type: 'event_callback',
      event_id: 'Ev01',
      event: { type: 'message', channel: 'C0CREDITMEMO', ts: '1700000000.000100', text: 'hi', user: 'U1' },
    },
  },
  'POST /webhooks/stripe': {
    contentType: 'application/json',
    body: {
      id: 'evt_1',
      type: 'payment_intent.succeeded',
      data: { object: { id: 'pi_1', metadata: { invoice_id: 'INV-1' } } },
    },
  },
};

export function webhookSigning() {
  const sendgrid = sendGridEventSigner();
  const now = () => String(Math.floor(Date.now() / 1000));
  const sign = (request: FuzzRequest, path: string): Record<string, string> | null => {
    const body = request.payload ?? '';
    if (path.startsWith('/webhooks/twilio/')) {
      const host = request.headers.host ?? 'localhost:80';
      const params = Object.fromEntries(new URLSearchParams(body));
      try {
        return {
          'x-twilio-signature': signTwilioWebhook(
            FUZZ_SECRETS.twilioToken,
            `http://${host}${request.url}`,
            params,
          ),
        };
      } catch {
        return null;
      }
    }
    if (path === '/webhooks/slack/events') {
      const timestamp = now();
      const signature = createHmac('sha256', FUZZ_SECRETS.slack)
        .update(`v0:${timestamp}:${body}`)
        .digest('hex');
      return { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${signature}` };
    }
    if (path === '/webhooks/stripe') {
      const timestamp = now();
      const signature = createHmac('sha256', FUZZ_SECRETS.stripe)
        .update(`${timestamp}.${body}`)
        .digest('hex');
      return { 'stripe-signature': `t=${timestamp},v1=${signature}` };
    }
    if (path === '/webhooks/sendgrid/events') {
      const timestamp = now();
      return {
        'x-twilio-email-event-webhook-timestamp': timestamp,
        'x-twilio-email-event-webhook-signature': sendgrid.sign(timestamp, body),
      };
    }
    return null;
  };
  return {
    sign,
    /** Environment that turns every signed webhook on (providers themselves unreachable: faults are 502/503). */
    env: {
      TWILIO_ACCOUNT_SID: FUZZ_SECRETS.twilioSid,
      TWILIO_AUTH_TOKEN: FUZZ_SECRETS.twilioToken,
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
      SENDGRID_API_KEY: 'SG.fuzz-key-for-tests',
      SENDGRID_API_BASE_URL: 'http://127.0.0.1:9',
      SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKey,
      EMAIL_FROM: 'alerts@example.com',
      SLACK_SIGNING_SECRET: FUZZ_SECRETS.slack,
      STRIPE_SECRET_KEY: 'sk_test_fuzz',
      STRIPE_WEBHOOK_SECRET: FUZZ_SECRETS.stripe,
      STRIPE_API_BASE_URL: 'http://127.0.0.1:9',
      STRIPE_MAX_NETWORK_RETRIES: '0',
      PROVIDER_TIMEOUT_SECONDS: '1',
      // Limits out of the way, so the requests reach the code behind them.
      WEBHOOK_INBOUND_RATE_LIMIT: '100000',
      WEBHOOK_STATUS_RATE_LIMIT: '100000',
      DAILY_CONFIG_RATE_LIMIT: '100000',
      CHAT_RATE_LIMIT_PER_KEY: '1000000',
      CHAT_RATE_LIMIT_PER_SESSION: '10000',
      AUTH_FAILURE_RATE_LIMIT: '10000',
    },
  };
}
