// Every provider fake at once, and the environment that points the real drivers at them.

import { createTwilioDriver } from '../../src/platform/channels/sms/twilio-driver.ts';
import {
  type FakeSendGrid,
  type SendGridEventSigner,
  sendGridEventSigner,
  startFakeSendGrid,
} from '../fakes/sendgrid.ts';
import { type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { type FakeSmtp, startFakeSmtp } from '../fakes/smtp.ts';
import { type FakeTwilio, startFakeTwilio } from '../fakes/twilio.ts';

export const TWILIO_SID = `AC${'0123456789abcdef'.repeat(2)}`;
export const TWILIO_TOKEN = 'twilio-auth-token-for-tests';
export const TWILIO_FROM = '+15005550006';
export const SENDGRID_KEY = 'SG.test-key.for-the-fake';
export const SLACK_TOKEN = 'xoxb-test-token';
export const PUBLIC_URL = 'https://switchboard.example.com';

/** The real Twilio driver (the SDK through our transport) pointed at a fake Twilio's base URL. */
export const twilioDriverAt = (baseUrl: string) =>
  createTwilioDriver(
    {
      driver: 'twilio',
      accountSid: TWILIO_SID,
      authToken: TWILIO_TOKEN,
      from: TWILIO_FROM,
      messagingServiceSid: null,
      baseUrl,
    },
    { timeoutMs: 5000, statusCallbackUrl: null },
  );

export interface Providers {
  twilio: FakeTwilio;
  sendgrid: FakeSendGrid;
  slack: FakeSlack;
  signer: SendGridEventSigner;
  /** Environment for a service whose SMS, email (SendGrid) and Slack go to the fakes. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startProviders(): Promise<Providers> {
  const twilio = await startFakeTwilio({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
  const sendgrid = await startFakeSendGrid({ apiKey: SENDGRID_KEY });
  const slack = await startFakeSlack({ token: SLACK_TOKEN });
  const signer = sendGridEventSigner();
  return {
    twilio,
    sendgrid,
    slack,
    signer,
    env: {
      PUBLIC_URL,
      TWILIO_ACCOUNT_SID: TWILIO_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      TWILIO_FROM_NUMBER: TWILIO_FROM,
      TWILIO_API_BASE_URL: twilio.url,
      SENDGRID_API_KEY: SENDGRID_KEY,
      SENDGRID_API_BASE_URL: sendgrid.url,
      SENDGRID_WEBHOOK_PUBLIC_KEY: signer.publicKey,
      EMAIL_FROM: 'alerts@example.com',
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_API_URL: `${slack.url}/api`,
      OUTBOX_RETRY_BASE_SECONDS: '0.2',
      OUTBOX_RETRY_MAX_SECONDS: '1',
      PROVIDER_TIMEOUT_SECONDS: '2',
      SMS_SEGMENTS_PER_SECOND: '1000',
    },
    async close() {
      await Promise.all([twilio.close(), sendgrid.close(), slack.close()]);
    },
  };
}

export async function startSmtp(): Promise<{ smtp: FakeSmtp; env: Record<string, string> }> {
  const smtp = await startFakeSmtp({ auth: { user: 'mailer', pass: 'secret' } });
  return {
    smtp,
    env: {
      SMTP_URL: `smtp://mailer:secret@${smtp.host}:${smtp.port}/?ignoreTLS=true`,
      EMAIL_FROM: 'alerts@example.com',
    },
  };
}
