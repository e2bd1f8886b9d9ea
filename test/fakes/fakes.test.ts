// Drives each provider fake through the REAL SDK, the way the product's drivers will use them:
// how each SDK is pointed at its fake, and how each SDK surfaces success, permanent errors, 429s,
// 500s, timeouts and connection resets.
import sendgridClient from '@sendgrid/client';
import { EventWebhook } from '@sendgrid/eventwebhook';
import sendgridMail from '@sendgrid/mail';
import {
  ErrorCode,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import nodemailer from 'nodemailer';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { route } from './http-fake.ts';
import {
  buildSendGridEvents,
  type FakeSendGrid,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  sendGridEventSigner,
  signedEventRequest,
  startFakeSendGrid,
} from './sendgrid.ts';
import { type FakeSlack, startFakeSlack } from './slack.ts';
import { type FakeSmtp, startFakeSmtp } from './smtp.ts';
import { type FakeTwilio, signTwilioWebhook, startFakeTwilio, TWILIO_API_BASE } from './twilio.ts';

// @sendgrid/client and @sendgrid/mail export singletons; their classes are attached at runtime as
// .Client and .MailService, but the typings (export =) do not declare them.
const { Client: SendGridClient } = sendgridClient as unknown as { Client: new () => typeof sendgridClient };
const { MailService } = sendgridMail as unknown as { MailService: new () => typeof sendgridMail };

/** The rejection of a promise, for asserting on SDK error objects. */
async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

// ---------------------------------------------------------------------------------------------
describe('fake Twilio through the twilio SDK', () => {
  const accountSid = `AC${'1'.repeat(32)}`;
  const authToken = 'test-auth-token-0123456789abcdef';
  let fake: FakeTwilio;

  // The SDK has no base-URL option: a RequestClient subclass rewrites the URI of every request
  // (including next_page_uri, which the SDK makes absolute on https://api.twilio.com).
  // RestException carries no headers, so for a 429 this client copies Retry-After into the
  // error body's `details`, which RestException keeps (race-free, unlike httpClient.lastResponse).
  class FakeTwilioHttpClient extends twilio.RequestClient {
    baseUrl: string;
    constructor(baseUrl: string, options?: RequestClient.RequestClientOptions) {
      super(options);
      this.baseUrl = baseUrl;
    }
    override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
      opts.uri = opts.uri.replace(TWILIO_API_BASE, this.baseUrl);
      const response = await super.request(opts);
      const retryAfter = response.headers?.['retry-after'];
      const body = response.body as unknown;
      if (response.statusCode >= 400 && retryAfter !== undefined && body && typeof body === 'object') {
        const error = body as { details?: object };
        error.details = { ...error.details, retryAfter: Number(retryAfter) };
      }
      return response;
    }
  }

  const sdk = (options: { timeout?: number; token?: string } = {}) =>
    twilio(accountSid, options.token ?? authToken, {
      httpClient: new FakeTwilioHttpClient(fake.url, { timeout: options.timeout ?? 5_000 }),
    });

  beforeAll(async () => {
    fake = await startFakeTwilio({ accountSid, authToken });
  });
  afterEach(() => fake.clearFaults());
  afterAll(() => fake.close());

  it('sends an SMS: 201 Message resource, recorded with the form fields', async () => {
    const message = await sdk().messages.create({
      to: '+15005550006',
      from: '+15005550001',
      body: 'Invoice 42 needs review',
      statusCallback: 'https://switchboard.example/webhooks/twilio/status',
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe('queued');
    expect(message.numSegments).toBe('1');
    expect(message.direction).toBe('outbound-api');
    expect(message.accountSid).toBe(accountSid);
    expect(message.dateCreated).toBeInstanceOf(Date);
    expect(message.uri).toBe(`/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`);

    const request = fake.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
    );
    expect(request.form?.get('To')).toBe('+15005550006');
    expect(request.form?.get('StatusCallback')).toBe('https://switchboard.example/webhooks/twilio/status');

    const sent = fake.sentMessages.find((m) => m.sid === message.sid)!;
    expect(sent).toMatchObject({ to: '+15005550006', from: '+15005550001', body: 'Invoice 42 needs review' });

    // Fetching it later shows it moved on to "sent".
    const fetched = await sdk().messages(message.sid).fetch();
    expect(fetched.status).toBe('sent');
    expect(fetched.dateSent).toBeInstanceOf(Date);
  });

  it('sends through a Messaging Service: accepted, 0 segments until a sender is chosen', async () => {
    const message = await sdk().messages.create({
      to: '+15005550007',
      messagingServiceSid: `MG${'a'.repeat(32)}`,
      body: 'x'.repeat(200),
    });
    expect(message.status).toBe('accepted');
    expect(message.numSegments).toBe('0');
    expect(message.from).toBeNull();
    expect(fake.sentMessages.find((m) => m.sid === message.sid)?.resource.num_segments).toBe('2');
  });

  it('lists messages by To and DateSent> across pages', async () => {
    const to = '+15005550123';
    const before = new Date(Date.now() - 2_000);
    const sids: string[] = [];
    for (const body of ['one', 'two', 'three']) {
      sids.push((await sdk().messages.create({ to, from: '+15005550001', body })).sid);
    }
    await sdk().messages.create({ to: '+15005550999', from: '+15005550001', body: 'other' });

    const listed = await sdk().messages.list({ to, dateSentAfter: before, pageSize: 2 });
    expect(listed.map((m) => m.sid)).toEqual([...sids].reverse()); // newest first
    const pages = fake.requests.filter((r) => r.method === 'GET' && r.query.get('To') === to);
    expect(pages).toHaveLength(2); // followed next_page_uri
    expect(pages[0]!.query.get('DateSent>')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    const future = await sdk().messages.list({ to, dateSentAfter: new Date(Date.now() + 60_000) });
    expect(future).toEqual([]);
  });

  it('recordRequests false (a benchmark): keeps no request, still stores and lists the messages', async () => {
    const lean = await startFakeTwilio({ accountSid, authToken, recordRequests: false });
    try {
      const client = twilio(accountSid, authToken, { httpClient: new FakeTwilioHttpClient(lean.url) });
      const to = '+15005550124';
      const sent = await client.messages.create({ to, from: '+15005550001', body: 'lean' });
      expect(lean.sentMessages.map((m) => m.sid)).toEqual([sent.sid]);
      const listed = await client.messages.list({ to });
      expect(listed.map((m) => [m.sid, m.body])).toEqual([[sent.sid, 'lean']]);
      expect(lean.requests).toEqual([]);
    } finally {
      await lean.close();
    }
  });

  it('wrong credentials: RestException 401, code 20003', async () => {
    const error = await failure(
      sdk({ token: 'wrong' }).messages.create({ to: '+15005550006', from: '+15005550001', body: 'x' }),
    );
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ status: 401, code: 20003, message: 'Authenticate' });
  });

  it.each([
    [21211, "The 'To' number +15005550002 is not a valid phone number."],
    [21614, "'To' number is not a valid mobile number"],
    [21610, 'Attempt to send to unsubscribed recipient'],
  ])('rejected number: RestException 400 with code %i', async (code, message) => {
    const to = '+15005550002';
    fake.rejectNumber(to, code);
    const count = fake.sentMessages.length;
    const error = await failure(sdk().messages.create({ to, from: '+15005550001', body: 'x' }));
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({
      status: 400,
      code,
      message,
      moreInfo: `https://www.twilio.com/docs/errors/${code}`,
    });
    expect(fake.sentMessages.length).toBe(count);
  });

  it('an invalid To is 21211 without any setup', async () => {
    const error = await failure(sdk().messages.create({ to: '555-1234', from: '+15005550001', body: 'x' }));
    expect(error).toMatchObject({ status: 400, code: 21211 });
  });

  it('429: RestException status 429 / code 20429; Retry-After only via the httpClient', async () => {
    fake.rateLimit({ retryAfterSec: 7 });
    const error = await failure(
      sdk().messages.create({ to: '+15005550006', from: '+15005550001', body: 'x' }),
    );
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ status: 429, code: 20429, message: 'Too Many Requests' });
    expect(error.details).toEqual({ retryAfter: 7 }); // put there by FakeTwilioHttpClient above
  });

  it('500: RestException status 500 / code 20500', async () => {
    fake.inject({
      status: 500,
      body: {
        code: 20500,
        message: 'Internal Server Error',
        more_info: 'https://www.twilio.com/docs/errors/20500',
        status: 500,
      },
    });
    const error = await failure(
      sdk().messages.create({ to: '+15005550006', from: '+15005550001', body: 'x' }),
    );
    expect(error).toMatchObject({ status: 500, code: 20500 });
  });

  it('a provider that never answers hits RequestClient timeout (an AxiosError, no retry)', async () => {
    fake.inject({ hang: true });
    const started = Date.now();
    const error = await failure(
      sdk({ timeout: 300 }).messages.create({ to: '+15005550006', from: '+15005550001', body: 'x' }),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error).not.toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({
      isAxiosError: true,
      code: 'ECONNABORTED',
      message: 'timeout of 300ms exceeded',
    });
  });

  it('a connection reset surfaces as an AxiosError ECONNRESET; afterProcessing makes a duplicate on retry', async () => {
    fake.inject({ reset: true });
    const count = fake.sentMessages.length;
    const error = await failure(
      sdk().messages.create({ to: '+15005550006', from: '+15005550001', body: 'reset' }),
    );
    expect(error).toMatchObject({ isAxiosError: true, code: 'ECONNRESET', message: 'socket hang up' });
    expect(fake.sentMessages.length).toBe(count); // not processed

    fake.inject({ reset: true, afterProcessing: true });
    await failure(sdk().messages.create({ to: '+15005550006', from: '+15005550001', body: 'lost answer' }));
    await sdk().messages.create({ to: '+15005550006', from: '+15005550001', body: 'lost answer' }); // naive retry
    expect(fake.sentMessages.filter((m) => m.body === 'lost answer')).toHaveLength(2); // the phone got it twice
  });

  it('latencyMs slows every answer', async () => {
    fake.latencyMs = 50;
    const started = Date.now();
    await sdk().messages.create({ to: '+15005550006', from: '+15005550001', body: 'slow' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    fake.latencyMs = 0;
  });

  it('status callbacks are signed the way the SDK validates them', async () => {
    const message = await sdk().messages.create({
      to: '+15005550006',
      from: '+15005550001',
      body: 'x',
      statusCallback: 'https://switchboard.example/webhooks/twilio/status',
    });
    fake.setStatus(message.sid, 'undelivered', 30003);
    const callback = fake.statusCallback(message.sid);
    expect(callback.params).toMatchObject({
      MessageSid: message.sid,
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
    });
    expect(twilio.validateRequest(authToken, callback.signature, callback.url, callback.params)).toBe(true);
    expect(twilio.validateRequest('other-token', callback.signature, callback.url, callback.params)).toBe(
      false,
    );
    const signature = signTwilioWebhook(authToken, 'https://x.example/sms', {
      Body: 'STOP',
      From: '+15005550006',
    });
    expect(
      twilio.validateRequest(authToken, signature, 'https://x.example/sms', {
        Body: 'STOP',
        From: '+15005550006',
      }),
    ).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
describe('fake SendGrid through @sendgrid/mail', () => {
  const apiKey = 'SG.fake-key.0123456789';
  let fake: FakeSendGrid;

  // setApiKey() resets baseUrl to https://api.sendgrid.com/, so set the key first.
  const mailer = (options: { key?: string; timeoutMs?: number } = {}) => {
    const client = new SendGridClient();
    client.setApiKey(options.key ?? apiKey);
    client.setDefaultRequest('baseUrl', fake.url);
    const mail = new MailService();
    mail.setClient(client);
    mail.setTimeout(options.timeoutMs ?? 5_000); // = client.setDefaultRequest('timeout', ms)
    return mail;
  };
  const message = {
    to: 'finance@example.com',
    from: { email: 'alerts@switchboard.example', name: 'Switchboard' },
    subject: 'Invoice 42 needs review',
    text: 'Please review invoice 42.',
    customArgs: { outbox_id: 'ob_123' },
  };

  beforeAll(async () => {
    fake = await startFakeSendGrid({ apiKey, restrictedKeys: ['SG.read-only.key'] });
  });
  afterEach(() => fake.clearFaults());
  afterAll(() => fake.close());

  it('sends: 202, empty body, X-Message-Id; recorded with recipients and custom args', async () => {
    const [response, body] = await mailer().send(message);
    expect(response.statusCode).toBe(202);
    expect(body).toBe('');
    const messageId = response.headers['x-message-id'];
    expect(messageId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/v3/mail/send');
    expect(request.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.json).toMatchObject({
      personalizations: [{ to: [{ email: 'finance@example.com' }] }],
      from: { email: 'alerts@switchboard.example', name: 'Switchboard' },
      custom_args: { outbox_id: 'ob_123' },
      content: [{ type: 'text/plain', value: 'Please review invoice 42.' }],
    });
    expect(fake.sentMessages.at(-1)).toMatchObject({
      messageId,
      recipients: ['finance@example.com'],
      from: 'alerts@switchboard.example',
      subject: 'Invoice 42 needs review',
    });
  });

  it('counts what it accepts; keepMessages false (a benchmark) keeps neither requests nor emails', async () => {
    const before = fake.sentCount;
    await mailer().send(message);
    expect(fake.sentCount).toBe(before + 1);
    expect(fake.sentMessages).toHaveLength(fake.sentCount);

    const lean = await startFakeSendGrid({ apiKey, keepMessages: false });
    try {
      const client = new SendGridClient();
      client.setApiKey(apiKey);
      client.setDefaultRequest('baseUrl', lean.url);
      const mail = new MailService();
      mail.setClient(client);
      const [accepted] = await mail.send(message);
      expect(accepted.statusCode).toBe(202);
      const refused = await failure(mail.send({ ...message, to: 'not-an-address' }));
      expect(refused.code).toBe(400);
      expect(lean.sentCount).toBe(1);
      expect(lean.sentMessages).toEqual([]);
      expect(lean.requests).toEqual([]);
    } finally {
      await lean.close();
    }
  });

  it('sandbox mode answers 200 and delivers nothing', async () => {
    const count = fake.sentMessages.length;
    const [response] = await mailer().send({ ...message, mailSettings: { sandboxMode: { enable: true } } });
    expect(response.statusCode).toBe(200);
    expect(fake.sentMessages.length).toBe(count);
  });

  it('validation error: ResponseError code 400 with errors[{ message, field, help }]', async () => {
    const error = await failure(mailer().send({ ...message, to: 'not-an-address' }));
    expect(error.constructor.name).toBe('ResponseError'); // from @sendgrid/helpers
    expect(error.code).toBe(400);
    expect((error.response as { body: unknown }).body).toEqual({
      errors: [
        {
          message: 'Does not contain a valid address.',
          field: 'personalizations.0.to.0.email',
          help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to',
        },
      ],
    });
  });

  it('bad key: 401; key without mail.send scope: 403', async () => {
    const unauthorized = await failure(mailer({ key: 'SG.wrong.key' }).send(message));
    expect(unauthorized).toMatchObject({ code: 401, message: 'Unauthorized' });
    expect(
      (unauthorized.response as { body: { errors: Array<{ message: string }> } }).body.errors[0]!.message,
    ).toBe('The provided authorization grant is invalid, expired, or revoked');
    const forbidden = await failure(mailer({ key: 'SG.read-only.key' }).send(message));
    expect(forbidden).toMatchObject({
      code: 403,
      response: { body: { errors: [{ message: 'access forbidden' }] } },
    });
  });

  it('429: code 429, rate-limit headers readable in error.response.headers', async () => {
    fake.rateLimit({ resetInSec: 5, retryAfterSec: 5 });
    const error = await failure(mailer().send(message));
    expect(error.constructor.name).toBe('ResponseError'); // from @sendgrid/helpers
    expect(error.code).toBe(429);
    const headers = (error.response as { headers: Record<string, string> }).headers;
    expect(headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    expect(headers['retry-after']).toBe('5');
    expect((error.response as { body: unknown }).body).toEqual({
      errors: [{ field: null, message: 'too many requests' }],
    });
  });

  it('500: ResponseError code 500', async () => {
    fake.inject({ status: 500, body: { errors: [{ field: null, message: 'internal error' }] } });
    const error = await failure(mailer().send(message));
    expect(error).toMatchObject({ code: 500 });
  });

  it('timeout (setTimeout / setDefaultRequest timeout): AxiosError ECONNABORTED, no retry', async () => {
    fake.inject({ hang: true });
    const before = fake.requests.length;
    const error = await failure(mailer({ timeoutMs: 300 }).send(message));
    expect(error.constructor.name).not.toBe('ResponseError');
    expect(error).toMatchObject({ isAxiosError: true, code: 'ECONNABORTED' });
    expect(fake.requests.length).toBe(before + 1);
  });

  it('connection reset: AxiosError ECONNRESET', async () => {
    fake.inject({ reset: true });
    const error = await failure(mailer().send(message));
    expect(error).toMatchObject({ isAxiosError: true, code: 'ECONNRESET', message: 'socket hang up' });
  });

  it('signed event webhook: @sendgrid/eventwebhook accepts the signature, rejects tampering', async () => {
    const [response] = await mailer().send(message);
    const messageId = String(response.headers['x-message-id']);
    const events = buildSendGridEvents({
      messageId,
      email: 'finance@example.com',
      events: ['processed', 'deferred', 'delivered', 'bounce', 'dropped'],
      customArgs: { outbox_id: 'ob_123' },
    });
    expect(events.map((e) => e.event)).toEqual(['processed', 'deferred', 'delivered', 'bounce', 'dropped']);
    for (const event of events) {
      expect(event.sg_message_id.startsWith(`${messageId}.filter`)).toBe(true);
      expect(event.outbox_id).toBe('ob_123');
      expect(event.sg_event_id).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    }
    expect(new Set(events.map((e) => e.sg_event_id)).size).toBe(events.length);

    const signer = sendGridEventSigner();
    const request = signedEventRequest(signer, events);
    const verifier = new EventWebhook();
    const key = verifier.convertPublicKeyToECDSA(signer.publicKey);
    const signature = request.headers[SENDGRID_SIGNATURE_HEADER]!;
    const timestamp = request.headers[SENDGRID_TIMESTAMP_HEADER]!;
    expect(verifier.verifySignature(key, request.body, signature, timestamp)).toBe(true);
    expect(
      verifier.verifySignature(key, request.body.replace('delivered', 'opened'), signature, timestamp),
    ).toBe(false);
    expect(verifier.verifySignature(key, request.body, signature, String(Number(timestamp) + 1))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
describe('fake Slack through @slack/web-api WebClient', () => {
  const token = 'xoxb-fake-token';
  let fake: FakeSlack;

  // What the product wants: no hidden retries, 429 surfaced at once with its Retry-After.
  const slack = (options: { token?: string; timeout?: number } = {}) =>
    new WebClient(options.token ?? token, {
      slackApiUrl: `${fake.url}/api/`,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.timeout ?? 5_000,
      logLevel: LogLevel.ERROR,
    });

  beforeAll(async () => {
    fake = await startFakeSlack({
      token,
      channels: [
        { id: 'C0FINANCE01', name: 'finance', member: true },
        { id: 'C0PRIVATE01', name: 'private', member: false },
      ],
    });
  });
  afterEach(() => fake.clearFaults());
  afterAll(() => fake.close());

  it('chat.postMessage: form-encoded, blocks as a JSON string; ok with channel, ts and message', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Invoice 42*' } }];
    const result = await slack().chat.postMessage({ channel: '#finance', text: 'Invoice 42', blocks });
    expect(result.ok).toBe(true);
    expect(result.channel).toBe('C0FINANCE01');
    expect(result.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(result.message).toMatchObject({
      type: 'message',
      text: 'Invoice 42',
      bot_id: expect.any(String),
      blocks,
    });

    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/api/chat.postMessage');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers.authorization).toBe(`Bearer ${token}`);
    expect(request.form?.get('blocks')).toBe(JSON.stringify(blocks));
    expect(fake.postedMessages.at(-1)).toMatchObject({
      channel: 'C0FINANCE01',
      ts: result.ts,
      text: 'Invoice 42',
      blocks,
    });

    const reply = await slack().chat.postMessage({
      channel: 'C0FINANCE01',
      text: 'approved',
      thread_ts: result.ts!,
    });
    expect(fake.postedMessages.at(-1)?.thread_ts).toBe(result.ts);
    expect(reply.ts! > result.ts!).toBe(true);
  });

  it('accepts JSON bodies too', async () => {
    const response = await fetch(`${fake.url}/api/chat.postMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ channel: 'C0FINANCE01', text: 'json body' }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: 'C0FINANCE01' });
  });

  it('conversations.open, reactions.add/remove, auth.test', async () => {
    const opened = await slack().conversations.open({ users: 'U0ALICE0001' });
    expect(opened.channel?.id).toMatch(/^D[A-Z0-9]+$/);
    const again = await slack().conversations.open({ users: 'U0ALICE0001' });
    expect(again).toMatchObject({ already_open: true, channel: { id: opened.channel?.id } });
    const dm = await slack().chat.postMessage({ channel: opened.channel!.id!, text: 'your credit request' });

    await slack().reactions.add({ channel: dm.channel!, timestamp: dm.ts!, name: 'white_check_mark' });
    expect(fake.history(dm.channel!)[0]?.reactions).toEqual([
      { name: 'white_check_mark', users: [fake.botUserId], count: 1 },
    ]);
    const twice = await failure(
      slack().reactions.add({ channel: dm.channel!, timestamp: dm.ts!, name: 'white_check_mark' }),
    );
    expect(twice).toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'already_reacted' },
    });
    await slack().reactions.remove({ channel: dm.channel!, timestamp: dm.ts!, name: 'white_check_mark' });
    expect(fake.history(dm.channel!)[0]?.reactions).toEqual([]);

    const auth = await slack().auth.test();
    expect(auth).toMatchObject({ ok: true, team_id: fake.teamId, user_id: fake.botUserId });
  });

  it('conversations.history: posted and seeded messages, newest first, cursor pages, oldest', async () => {
    fake.addChannel({ id: 'C0HISTORY01', name: 'history', member: true });
    const seeded = fake.seedMessage('C0HISTORY01', { text: 'from a human', user: 'U0ALICE0001' });
    const posted: string[] = [];
    for (const text of ['a', 'b', 'c']) {
      posted.push((await slack().chat.postMessage({ channel: 'C0HISTORY01', text })).ts!);
    }
    const first = await slack().conversations.history({ channel: 'C0HISTORY01', limit: 3 });
    expect(first.messages?.map((m) => m.text)).toEqual(['c', 'b', 'a']);
    expect(first.has_more).toBe(true);
    const cursor = first.response_metadata?.next_cursor;
    expect(cursor).toBeTruthy();
    const second = await slack().conversations.history({ channel: 'C0HISTORY01', limit: 3, cursor });
    expect(second.messages?.map((m) => m.ts)).toEqual([seeded]);
    expect(second.has_more).toBe(false);

    const recent = await slack().conversations.history({ channel: 'C0HISTORY01', oldest: posted[0] });
    expect(recent.messages?.map((m) => m.text)).toEqual(['c', 'b']); // oldest is exclusive
  });

  it('platform errors: HTTP 200 ok:false -> WebAPIPlatformError with data.error', async () => {
    const notFound = await failure(slack().chat.postMessage({ channel: 'C0NOPE00001', text: 'x' }));
    expect(notFound).toBeInstanceOf(WebAPIPlatformError);
    expect(notFound).toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'channel_not_found' },
    });

    const notIn = await failure(slack().chat.postMessage({ channel: 'C0PRIVATE01', text: 'x' }));
    expect(notIn).toMatchObject({ data: { error: 'not_in_channel' } });

    const badAuth = await failure(
      slack({ token: 'xoxb-wrong' }).chat.postMessage({ channel: 'C0FINANCE01', text: 'x' }),
    );
    expect(badAuth).toMatchObject({ data: { error: 'invalid_auth' } });
  });

  it('429 with rejectRateLimitedCalls: WebAPIRateLimitedError at once, retryAfter in seconds', async () => {
    fake.rateLimit({ method: 'chat.postMessage', retryAfterSec: 30 });
    const started = Date.now();
    const error = await failure(slack().chat.postMessage({ channel: 'C0FINANCE01', text: 'x' }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 30 });
  });

  it('429 with the SDK defaults: it waits Retry-After and retries by itself (the caller never sees it)', async () => {
    fake.rateLimit({ method: 'chat.postMessage', retryAfterSec: 1 });
    const before = fake.requests.length;
    const quiet = new WebClient(token, { slackApiUrl: `${fake.url}/api/`, logLevel: LogLevel.ERROR });
    const started = Date.now();
    const result = await quiet.chat.postMessage({ channel: 'C0FINANCE01', text: 'retried' });
    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.requests.length - before).toBe(2);
  });

  it('429 with retries: 0 but without rejectRateLimitedCalls: waits Retry-After, then a generic WebAPIRequestError', async () => {
    fake.rateLimit({ method: 'chat.postMessage', retryAfterSec: 1 });
    const noRetry = new WebClient(token, {
      slackApiUrl: `${fake.url}/api/`,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    const started = Date.now();
    const error = await failure(noRetry.chat.postMessage({ channel: 'C0FINANCE01', text: 'x' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(error).toBeInstanceOf(WebAPIRequestError); // no retryAfter property: only in the message text
    expect((error.original as Error).message).toMatch(/rate limit was exceeded .*retry-after: 1/);
  });

  it('500: WebAPIHTTPError with statusCode (retried under retryConfig unless retries: 0)', async () => {
    fake.inject({ status: 500, body: 'Internal Server Error' });
    const error = await failure(slack().chat.postMessage({ channel: 'C0FINANCE01', text: 'x' }));
    expect(error).toBeInstanceOf(WebAPIHTTPError);
    expect(error).toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 500,
      body: 'Internal Server Error',
    });
  });

  it('timeout: WebAPIRequestError whose original is a TimeoutError', async () => {
    fake.inject({ hang: true });
    const error = await failure(
      slack({ timeout: 300 }).chat.postMessage({ channel: 'C0FINANCE01', text: 'x' }),
    );
    expect(error).toBeInstanceOf(WebAPIRequestError);
    expect(error.code).toBe(ErrorCode.RequestError);
    expect((error.original as Error).name).toBe('TimeoutError');
  });

  it('connection reset: WebAPIRequestError (fetch failed, cause UND_ERR_SOCKET)', async () => {
    fake.inject({ reset: true });
    const error = await failure(slack().chat.postMessage({ channel: 'C0FINANCE01', text: 'x' }));
    expect(error).toBeInstanceOf(WebAPIRequestError);
    const original = error.original as Error & { cause?: { code?: string } };
    expect(original.message).toBe('fetch failed');
    expect(original.cause?.code).toBe('UND_ERR_SOCKET'); // undici: "other side closed"
  });
});

// ---------------------------------------------------------------------------------------------
describe('fake SMTP through nodemailer', () => {
  const auth = { user: 'switchboard', pass: 'smtp-secret' };
  let fake: FakeSmtp;
  const transport = (options: { pass?: string; socketTimeout?: number } = {}) =>
    nodemailer.createTransport({
      host: fake.host,
      port: fake.port,
      secure: false,
      ignoreTLS: true,
      auth: { user: auth.user, pass: options.pass ?? auth.pass },
      socketTimeout: options.socketTimeout ?? 5_000,
    });
  const mail = { from: 'alerts@switchboard.example', subject: 'Invoice 42', text: 'Please review.' };

  beforeAll(async () => {
    fake = await startFakeSmtp({ auth });
  });
  afterAll(() => fake.close());

  it('delivers: envelope, raw data and the authenticated user are recorded', async () => {
    const info = await transport().sendMail({ ...mail, to: 'finance@example.com' });
    expect(info.accepted).toEqual(['finance@example.com']);
    expect(info.response).toMatch(/^250 /);
    const received = fake.messages.at(-1)!;
    expect(received).toMatchObject({
      from: 'alerts@switchboard.example',
      to: ['finance@example.com'],
      user: 'switchboard',
    });
    expect(received.raw).toContain('Subject: Invoice 42');
    expect(received.raw).toContain(`Message-ID: ${info.messageId}`);
  });

  it.each([
    [550, 'permanent'],
    [451, 'temporary'],
  ])('a rejected recipient (%i, %s) surfaces as responseCode on the error', async (code) => {
    const to = `rejected-${code}@example.com`;
    fake.rejectRecipient(to, code);
    const error = await failure(transport().sendMail({ ...mail, to }));
    expect(error).toMatchObject({
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: code,
      permanent: code >= 500,
    });
    expect(error.rejected).toEqual([to]);
    expect(String(error.response)).toMatch(new RegExp(`^${code} `));
  });

  it('with one good and one rejected recipient nodemailer sends and lists the rejected one', async () => {
    fake.rejectRecipient('gone@example.com', 550);
    const info = await transport().sendMail({ ...mail, to: ['finance@example.com', 'gone@example.com'] });
    expect(info.accepted).toEqual(['finance@example.com']);
    expect(info.rejected).toEqual(['gone@example.com']);
    expect(fake.messages.at(-1)?.to).toEqual(['finance@example.com']);
  });

  it('wrong password: EAUTH with responseCode 535', async () => {
    const error = await failure(
      transport({ pass: 'wrong' }).sendMail({ ...mail, to: 'finance@example.com' }),
    );
    expect(error).toMatchObject({ code: 'EAUTH', responseCode: 535 });
  });

  it('a fault at DATA (421) surfaces with command DATA', async () => {
    fake.inject({ stage: 'data', code: 421, message: '4.7.0 Try again later' });
    const error = await failure(transport().sendMail({ ...mail, to: 'finance@example.com' }));
    expect(error).toMatchObject({ code: 'EMESSAGE', responseCode: 421, command: 'DATA' });
  });

  it('a slow server hits socketTimeout: ETIMEDOUT', async () => {
    fake.inject({ stage: 'data', delayMs: 1_000 });
    const error = await failure(
      transport({ socketTimeout: 300 }).sendMail({ ...mail, to: 'finance@example.com' }),
    );
    expect(error).toMatchObject({ code: 'ETIMEDOUT' });
  });
});

// Keeps the shared route() helper exercised (used by product tests to target one endpoint).
describe('http-fake route()', () => {
  it('matches by method and path', () => {
    const match = route('POST', /\/Messages\.json$/);
    const request = {
      method: 'POST',
      path: '/2010-04-01/Accounts/AC1/Messages.json',
      query: new URLSearchParams(),
      headers: {},
      rawBody: '',
      receivedAt: new Date(),
    };
    expect(match(request)).toBe(true);
    expect(match({ ...request, method: 'GET' })).toBe(false);
  });
});
