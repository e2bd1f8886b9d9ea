// How each provider's refusals and outages reach the outbox, through the real driver (its SDK and
// our transport) against the local fake that speaks the provider's wire format: retried or given
// up, with the provider's own code and words, after the delay the provider asked for, and with the
// recipient suppressed when the provider says they opted out. Error bodies are the providers'
// documented shapes (Twilio's REST error JSON, Slack's `{ ok: false, error }`, SendGrid's
// `{ errors: [{ message, field }] }`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendGridDriver } from '../src/platform/channels/email/sendgrid-driver.ts';
import type { OutboxRow } from '../src/platform/channels/schema.ts';
import { createSlackDriver } from '../src/platform/channels/slack/slack-driver.ts';
import { ProviderError } from '../src/platform/channels/types.ts';
import { type FakeSendGrid, sendGridError, startFakeSendGrid } from './fakes/sendgrid.ts';
import { type FakeSlack, startFakeSlack } from './fakes/slack.ts';
import { type FakeTwilio, startFakeTwilio } from './fakes/twilio.ts';
import { SENDGRID_KEY, SLACK_TOKEN, TWILIO_SID, TWILIO_TOKEN, twilioDriverAt } from './helpers/providers.ts';

const row = (channel: string, recipient: string, content: object): OutboxRow =>
  ({ id: crypto.randomUUID(), channel, recipient, content }) as unknown as OutboxRow;

async function refusal(sending: Promise<unknown>): Promise<ProviderError> {
  const error = await sending.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('Twilio refusing or failing a message', () => {
  let twilio: FakeTwilio;
  beforeAll(async () => {
    twilio = await startFakeTwilio({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
  });
  afterAll(() => twilio.close());
  const send = (to: string) =>
    twilioDriverAt(twilio.url).send(row('sms', to, { body: 'Your code is 123456' }));
  const answer = (status: number, body: object | string, headers: Record<string, string> = {}) =>
    twilio.inject({ match: (r) => r.method === 'POST', status, body, headers });

  it('an opted-out recipient (21610) is given up and suppressed', async () => {
    answer(400, {
      code: 21610,
      message: 'Attempt to send to unsubscribed recipient',
      more_info: 'https://www.twilio.com/docs/errors/21610',
      status: 400,
    });
    const error = await refusal(send('+14155550100'));
    expect(error).toMatchObject({ permanent: true, status: 400, code: '21610', suppressRecipient: true });
    expect(error.message).toBe('Twilio 400 21610: Attempt to send to unsubscribed recipient');
  });

  it('an invalid number (21211) is given up without suppressing anyone', async () => {
    answer(400, {
      code: 21211,
      message: "The 'To' number +1415 is not a valid phone number.",
      more_info: 'https://www.twilio.com/docs/errors/21211',
      status: 400,
    });
    const error = await refusal(send('+14155550101'));
    expect(error).toMatchObject({ permanent: true, code: '21211', suppressRecipient: false });
  });

  it('throttling (429 20429) is retried after the Retry-After Twilio sent', async () => {
    answer(429, { code: 20429, message: 'Too Many Requests', status: 429 }, { 'Retry-After': '7' });
    const error = await refusal(send('+14155550102'));
    expect(error).toMatchObject({ permanent: false, status: 429, code: '20429', retryAfterMs: 7000 });
  });

  it('a server error without a JSON body is retried, and says there was no message', async () => {
    answer(502, '<html>Bad Gateway</html>', { 'content-type': 'text/html' });
    const error = await refusal(send('+14155550103'));
    expect(error).toMatchObject({ permanent: false, status: 502, code: undefined });
    expect(error.message).toBe('Twilio 502: no error message');
  });
});

describe('Slack refusing or failing a post', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack({ token: SLACK_TOKEN });
  });
  afterAll(() => slack.close());
  const post = async (channel = 'C0GENERAL01') =>
    (
      await createSlackDriver(
        { driver: 'slack', token: SLACK_TOKEN, apiUrl: slack.url },
        {
          timeoutMs: 5000,
        },
      )
    ).send(row('slack', channel, { text: 'Credit: $12.00' }));
  const postMessage = (r: { path: string }) => r.path.endsWith('/chat.postMessage');

  it('a platform error such as channel_not_found is given up, with Slack’s code', async () => {
    slack.inject({ match: postMessage, status: 200, body: { ok: false, error: 'channel_not_found' } });
    const error = await refusal(post());
    expect(error).toMatchObject({ permanent: true, code: 'channel_not_found' });
    expect(error.message).toBe('Slack: channel_not_found');
  });

  it('a platform error not known to be final (fatal_error) is retried', async () => {
    slack.inject({ match: postMessage, status: 200, body: { ok: false, error: 'fatal_error' } });
    expect(await refusal(post())).toMatchObject({ permanent: false, code: 'fatal_error' });
  });

  it('rate limiting is retried after the Retry-After Slack sent', async () => {
    slack.inject({
      match: postMessage,
      status: 429,
      headers: { 'Retry-After': '3' },
      body: { ok: false, error: 'ratelimited' },
    });
    expect(await refusal(post())).toMatchObject({
      permanent: false,
      code: 'ratelimited',
      status: 429,
      retryAfterMs: 3000,
    });
  });

  it('an HTTP 503 from Slack is retried; an HTTP 404 is not', async () => {
    slack.inject({ match: postMessage, status: 503, body: 'upstream connect error' });
    expect(await refusal(post())).toMatchObject({ permanent: false, status: 503, code: '503' });
    slack.inject({ match: postMessage, status: 404, body: 'not found' });
    expect(await refusal(post())).toMatchObject({ permanent: true, status: 404 });
  });
});

describe('SendGrid refusing or failing an email', () => {
  let sendgrid: FakeSendGrid;
  beforeAll(async () => {
    sendgrid = await startFakeSendGrid({ apiKey: SENDGRID_KEY });
  });
  afterAll(() => sendgrid.close());
  const send = () =>
    createSendGridDriver(
      {
        driver: 'sendgrid',
        apiKey: SENDGRID_KEY,
        baseUrl: sendgrid.url,
        webhookPublicKey: null,
        from: { email: 'ap@example.com', name: 'Accounts' },
      },
      { timeoutMs: 5000 },
    ).send(row('email', 'vendor@example.com', { subject: 'Invoice INV-1', text: 'Please review' }));
  const mailSend = (r: { path: string }) => r.path === '/v3/mail/send';

  it('a bad request is given up with each field SendGrid named', async () => {
    sendgrid.inject({
      match: mailSend,
      ...sendGridError(400, [
        { message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email', help: null },
        { message: 'The subject is required.', field: 'subject', help: null },
      ]),
    });
    const error = await refusal(send());
    expect(error).toMatchObject({ permanent: true, status: 400, code: '400' });
    expect(error.message).toBe(
      'SendGrid 400: personalizations.0.to.0.email: Does not contain a valid address.; subject: The subject is required.',
    );
  });

  it('throttling (429) is retried after the Retry-After SendGrid sent', async () => {
    sendgrid.inject({
      match: mailSend,
      headers: { 'Retry-After': '12' },
      ...sendGridError(429, [{ message: 'too many requests', field: null, help: null }]),
    });
    expect(await refusal(send())).toMatchObject({ permanent: false, status: 429, retryAfterMs: 12_000 });
  });

  it('a provider that drops the connection is retried, and marked unanswered (it may have sent)', async () => {
    sendgrid.inject({ match: mailSend, reset: true });
    expect(await refusal(send())).toMatchObject({ permanent: false, unanswered: true });
  });
});
