// Providers that quote our request back in their error bodies (the Authorization header, the login
// form) must not put our credentials into logs, rows or responses. Every secret is set to a
// recognisable value, every provider fake fails quoting the request it got, and the whole log
// output, every row of every table and every response are searched for the values (raw, base64,
// URL-encoded, and Twilio's Basic `AccountSid:AuthToken` in base64).
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { slackSignature } from '../src/platform/channels/webhooks/slack-signature.ts';
import { SECRET_MASK } from '../src/platform/secrets.ts';
import { type FakeLooker, startFakeLooker } from './fakes/looker.ts';
import { type FakeOpenAI, startFakeOpenAI } from './fakes/openai.ts';
import { type FakeSendGrid, startFakeSendGrid } from './fakes/sendgrid.ts';
import { type FakeSlack, startFakeSlack } from './fakes/slack.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { type FakeTwilio, startFakeTwilio } from './fakes/twilio.ts';
import { databaseKinds } from './helpers/databases.ts';
import { dumpAllRows } from './helpers/dump.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const SECRETS = {
  ADMIN_API_TOKEN: 'admin-token-R3COGNISABLE-0001',
  TWILIO_AUTH_TOKEN: 'twilio-token-R3COGNISABLE-0002',
  SENDGRID_API_KEY: 'SG.sendgrid-R3COGNISABLE.key-0003',
  SLACK_BOT_TOKEN: 'xoxb-slack-R3COGNISABLE-0004',
  SLACK_SIGNING_SECRET: 'slack-signing-R3COGNISABLE-0005',
  LOOKER_CLIENT_ID: 'looker-id-R3COGNISABLE-0006',
  LOOKER_CLIENT_SECRET: 'looker-secret-R3COGNISABLE-0007',
  STRIPE_SECRET_KEY: 'sk_test_stripeR3COGNISABLE0008',
  STRIPE_WEBHOOK_SECRET: 'whsec_stripeR3COGNISABLE0009',
  CHAT_API_KEYS: 'chat-key-R3COGNISABLE-0010',
  OPENAI_API_KEY: 'sk-openai-R3COGNISABLE-0011',
};
const TWILIO_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const CHANNEL = 'C0GENERAL01';
const OPERATOR = 'W014QM1DAPN';
const LOOKER_HOST = 'example.cloud.looker.com';

/** Each secret as it may travel: raw, base64, URL-encoded, and the Basic-auth pairs in base64. */
function forbiddenForms(): string[] {
  const forms = Object.values(SECRETS).flatMap((value) => [
    value,
    Buffer.from(value).toString('base64'),
    encodeURIComponent(value),
  ]);
  forms.push(Buffer.from(`${TWILIO_SID}:${SECRETS.TWILIO_AUTH_TOKEN}`).toString('base64'));
  return [...new Set(forms)];
}

describe.each(databaseKinds)('provider-echoed secrets on %s', (kind) => {
  let twilio: FakeTwilio;
  let sendgrid: FakeSendGrid;
  let slack: FakeSlack;
  let stripe: FakeStripe;
  let looker: FakeLooker;
  let openai: FakeOpenAI;
  let running: TestService;
  const responses: string[] = [];
  /** What SDKs print on their own (the Slack SDK logs Slack's error messages to the console). */
  const consoleOutput: string[] = [];
  const admin = { authorization: `Bearer ${SECRETS.ADMIN_API_TOKEN}` };

  const inject = async (options: InjectOptions | string) => {
    const response = await running.service.app.inject(options);
    responses.push(JSON.stringify({ headers: response.headers, body: response.body }));
    return response;
  };
  const outboxRow = (id: string) =>
    waitFor(
      `outbox message ${id} to fail`,
      async () => {
        const [row] = await running.service.db.query<{ status: string; last_error: string | null }>(
          'select status, last_error from outbox_messages where id = $1',
          [id],
        );
        return row?.status === 'failed' ? row : undefined;
      },
      30_000,
    );

  beforeAll(async () => {
    for (const method of ['error', 'warn', 'info', 'log'] as const)
      vi.spyOn(console, method).mockImplementation((...parts: unknown[]) => {
        consoleOutput.push(parts.map(String).join(' '));
      });
    [twilio, sendgrid, slack, stripe, looker, openai] = await Promise.all([
      startFakeTwilio({ accountSid: TWILIO_SID, authToken: SECRETS.TWILIO_AUTH_TOKEN }),
      startFakeSendGrid({ apiKey: SECRETS.SENDGRID_API_KEY }),
      startFakeSlack({ token: SECRETS.SLACK_BOT_TOKEN }),
      startFakeStripe({ secretKey: SECRETS.STRIPE_SECRET_KEY, webhookSecret: SECRETS.STRIPE_WEBHOOK_SECRET }),
      startFakeLooker({ clientId: SECRETS.LOOKER_CLIENT_ID, clientSecret: SECRETS.LOOKER_CLIENT_SECRET }),
      startFakeOpenAI({ apiKey: SECRETS.OPENAI_API_KEY }),
    ]);
    running = await startTestService(kind, {
      apps: [creditsApp, createPaymentsApp()],
      env: {
        ...SECRETS,
        ...stripe.env,
        STRIPE_SECRET_KEY: SECRETS.STRIPE_SECRET_KEY,
        STRIPE_WEBHOOK_SECRET: SECRETS.STRIPE_WEBHOOK_SECRET,
        TWILIO_ACCOUNT_SID: TWILIO_SID,
        TWILIO_FROM_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: twilio.url,
        SENDGRID_API_BASE_URL: sendgrid.url,
        EMAIL_FROM: 'alerts@example.com',
        SLACK_API_URL: `${slack.url}/api`,
        SLACK_USER_ID: OPERATOR,
        CREDITS_CHANNELS: CHANNEL,
        LOOKER_BASE_URL: looker.url,
        CREDITS_LOOKER_HOST: LOOKER_HOST,
        OPENAI_BASE_URL: openai.baseUrl,
        AI_MAX_RETRIES: '0',
        PAYMENTS_INTERPRETER_TIMEOUT_SECONDS: '5',
        OUTBOX_MAX_ATTEMPTS: '2',
        OUTBOX_RETRY_BASE_SECONDS: '0.2',
        OUTBOX_RETRY_MAX_SECONDS: '0.5',
        PROVIDER_TIMEOUT_SECONDS: '5',
      },
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await running?.dispose();
    await Promise.all([twilio, sendgrid, slack, looker, openai].map((fake) => fake?.close()));
    await stripe?.close();
  });

  it('scrubs every configured secret from what a provider quotes back, in logs, rows and responses', async () => {
    const { channels } = running.service;

    // Twilio and SendGrid: the outbox stores the provider's error text as last_error.
    twilio.failQuotingRequest({ times: 5 });
    const sms = await channels.enqueue({
      dedupeKey: 'secrets:sms',
      channel: 'sms',
      to: '+14155550123',
      content: { body: 'hi' },
    });
    const smsRow = await outboxRow(sms.id);
    sendgrid.failQuotingRequest({ times: 5 });
    const email = await channels.enqueue({
      dedupeKey: 'secrets:email',
      channel: 'email',
      to: 'ap@example.com',
      content: { subject: 'Review', text: 'hi', html: '<p>hi</p>' },
    });
    const emailRow = await outboxRow(email.id);
    // What the providers received carried the credentials: the quote did contain them.
    expect(twilio.requests.some((r) => String(r.headers.authorization).startsWith('Basic '))).toBe(true);
    expect(
      sendgrid.requests.some((r) => r.headers.authorization === `Bearer ${SECRETS.SENDGRID_API_KEY}`),
    ).toBe(true);
    expect(smsRow.last_error).toContain(SECRET_MASK);
    expect(emailRow.last_error).toContain(SECRET_MASK);

    // Slack: the SDK error carries the quoted request in response_metadata, which is logged.
    slack.failQuotingRequest({ method: 'chat.postMessage', times: 2 });
    const post = await channels.enqueue({
      dedupeKey: 'secrets:slack',
      channel: 'slack',
      to: CHANNEL,
      content: { text: 'hello' },
    });
    await outboxRow(post.id);

    // Looker: the login fails quoting its form (client_id, client_secret): credit_requests.error.
    looker.failQuotingRequest({ times: 10 });
    const ts = slack.seedMessage(CHANNEL, { text: `credit please <https://${LOOKER_HOST}/looks/11>` });
    const body = JSON.stringify({
      token: 'legacy',
      team_id: slack.teamId,
      type: 'event_callback',
      event_id: 'EvSecrets1',
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: 'message',
        channel: CHANNEL,
        user: 'U0FAKEUSER1',
        text: `credit please <https://${LOOKER_HOST}/looks/11>`,
        ts,
      },
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const event = await inject({
      method: 'POST',
      url: '/webhooks/slack/events',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(SECRETS.SLACK_SIGNING_SECRET, timestamp, body),
      },
      payload: body,
    });
    expect(event.statusCode).toBe(200);
    const failed = await waitFor(
      'the credit request to fail',
      async () => {
        const list = (await inject({ url: '/credits/requests', headers: admin })).json() as {
          requests: Array<{ ts: string; status: string; error: string | null }>;
        };
        const request = list.requests.find((r) => r.ts === ts);
        return request?.status === 'failed' ? request : undefined;
      },
      30_000,
    );
    expect(failed.error).toContain(SECRET_MASK);

    // Stripe: the card step fails with the request quoted (the secret key), which is logged.
    stripe.failQuotingRequest({ times: 5 });
    // OpenAI: the interpreter's call fails with the request quoted (the Bearer key), which is logged.
    openai.inject({
      times: 5,
      status: 400,
      body: (req) => ({
        error: {
          message: `bad request, Authorization: ${req.headers.authorization}`,
          type: 'invalid_request_error',
        },
      }),
    });
    const chat = (message: string) =>
      inject({
        method: 'POST',
        url: '/chat',
        headers: { authorization: `Bearer ${SECRETS.CHAT_API_KEYS}` },
        payload: { sessionId: 'secrets-session', message },
      });
    expect((await chat('well, the thing is that I would rather not say')).statusCode).toBe(200);
    expect((await chat('Jane Doe')).statusCode).toBe(200);
    const cardStep = await chat('$25.00');
    expect(cardStep.json().response).toContain('could not open the secure card form');
    expect(openai.requests.length).toBeGreaterThan(0);

    // Everything an operator or a client can read afterwards.
    for (const url of ['/outbox', `/outbox/${sms.id}`, `/outbox/${email.id}`, '/health/status'])
      await inject({ url, headers: admin });

    const logText = `${running.logs.text()}\n${consoleOutput.join('\n')}`;
    const rows = await dumpAllRows(running.service.db);
    expect(logText).toContain(SECRET_MASK);
    const haystacks = { logs: logText, rows: rows.join('\n'), responses: responses.join('\n') };
    const leaks = Object.entries(haystacks).flatMap(([where, text]) =>
      forbiddenForms()
        .filter((form) => text.includes(form))
        .map((form) => `${where}: ${form}`),
    );
    expect(leaks).toEqual([]);
  });
});
