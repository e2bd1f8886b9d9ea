// Webhooks against the providers' published examples, replays with every unsigned part changed,
// and correctly signed but malformed bodies (each a 400 naming the field, never a 500).
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { createSendGridVerifier } from '../src/platform/channels/webhooks/sendgrid-signature.ts';
import { checkSlackSignature } from '../src/platform/channels/webhooks/slack-signature.ts';
import { checkTwilioSignature } from '../src/platform/channels/webhooks/twilio-signature.ts';
import { signedEventRequest } from './fakes/sendgrid.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { signTwilioWebhook } from './fakes/twilio.ts';
import { databaseKinds } from './helpers/databases.ts';
import {
  type Providers,
  PUBLIC_URL,
  startProviders,
  TWILIO_FROM,
  TWILIO_TOKEN,
} from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

describe("providers' published signature examples", () => {
  it('Slack: the request-signing walk-through verifies, and is stale six minutes later', () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack (step-by-step walk-through)
    const secret = '8f742231b10e8888abcd99yyyzzz85a5';
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const headers = {
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    };
    const at = 1531420618 * 1000;
    expect(checkSlackSignature(secret, headers, body, at)).toBe('valid');
    expect(checkSlackSignature(secret, headers, body, at + 6 * 60_000)).toBe('stale');
    expect(checkSlackSignature(secret, headers, body, at - 6 * 60_000)).toBe('stale');
    expect(checkSlackSignature(secret, headers, body.replace('foobar', 'foobaz'), at)).toBe('invalid');
    expect(checkSlackSignature(`${secret}x`, headers, body, at)).toBe('invalid');
  });

  it("Twilio: the webhook-security example verifies through the service's URL reconstruction", () => {
    // https://www.twilio.com/docs/usage/webhooks/webhooks-security: auth token 12345, this URL and
    // these parameters; the docs have shown two Caller numbers with their signatures.
    const examples = [
      { caller: '+12349013030', signature: '0/KCTR6DLpKmkAf8muzZqo1nDgQ=' },
      { caller: '+14158675309', signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' },
    ];
    for (const { caller, signature } of examples) {
      const body = {
        CallSid: 'CA1234567890ABCDE',
        Caller: caller,
        Digits: '1234',
        From: caller,
        To: '+18005551212',
      };
      const request = (params: Record<string, string>) =>
        ({
          url: '/myapp.php?foo=1&bar=2',
          protocol: 'http',
          host: 'internal:3000',
          headers: { 'x-twilio-signature': signature },
          body: params,
        }) as unknown as Parameters<typeof checkTwilioSignature>[0];
      expect(checkTwilioSignature(request(body), '12345', 'https://mycompany.com')).toBe('valid');
      expect(
        checkTwilioSignature(request({ ...body, Digits: '9999' }), '12345', 'https://mycompany.com'),
      ).toBe('invalid');
      expect(checkTwilioSignature(request(body), '12345', 'https://mycompany.org')).toBe('invalid');
    }
  });

  it("SendGrid: the signed Event Webhook vector from @sendgrid/eventwebhook's tests verifies, and is a replay today", () => {
    // sendgrid-nodejs packages/eventwebhook/src/eventwebhook.spec.js
    const publicKey =
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==';
    const payload = '{"category":"example_payload","event":"test_event","message_id":"message_id"}';
    const headers = {
      'x-twilio-email-event-webhook-signature':
        'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=',
      'x-twilio-email-event-webhook-timestamp': '1588788367',
    };
    const verify = createSendGridVerifier(publicKey);
    expect(verify(headers, payload, 1588788367 * 1000)).toBe('valid');
    expect(verify(headers, payload)).toBe('stale');
    expect(verify(headers, payload.replace('test_event', 'delivered'), 1588788367 * 1000)).toBe('invalid');
    expect(
      verify(
        { ...headers, 'x-twilio-email-event-webhook-timestamp': '1588788368' },
        payload,
        1588788367 * 1000,
      ),
    ).toBe('invalid');
  });
});

const SLACK_SECRET = 'hardening-slack-signing-secret';
const seconds = () => Math.floor(Date.now() / 1000);

describe.each(databaseKinds)('hostile webhooks on %s', (kind) => {
  let providers: Providers;
  let stripe: FakeStripe;
  let running: TestService;
  const app = () => running.service.app;
  const db = () => running.service.db;
  let counter = 0;
  const phone = () => `+1646555${String(2000 + counter++).padStart(4, '0')}`;
  const sid = () => `SM${(Date.now().toString(16) + String(counter++)).padEnd(32, '0').slice(0, 32)}`;

  beforeAll(async () => {
    providers = await startProviders();
    stripe = await startFakeStripe();
    running = await startTestService(kind, {
      apps: [creditsApp, createPaymentsApp()],
      env: { ...providers.env, ...stripe.env, SLACK_SIGNING_SECRET: SLACK_SECRET },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await Promise.all([providers?.close(), stripe?.close()]);
  });

  const form = (params: Record<string, string | string[]>) =>
    Object.entries(params)
      .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => [key, v]))
      .map(([key, value]) => `${encodeURIComponent(key as string)}=${encodeURIComponent(value as string)}`)
      .join('&');
  const postTwilio = (
    path: string,
    params: Record<string, string | string[]>,
    headers: Record<string, string> = {},
    query = '',
  ) =>
    app().inject({
      method: 'POST',
      url: `${path}${query}`,
      payload: form(params),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signTwilioWebhook(
          TWILIO_TOKEN,
          `${PUBLIC_URL}${path}${query}`,
          params as Record<string, string>,
        ),
        ...headers,
      },
    });
  const inbound = (from: string, body: string, messageSid = sid()) => ({
    MessageSid: messageSid,
    SmsSid: messageSid,
    AccountSid: providers.env.TWILIO_ACCOUNT_SID as string,
    From: from,
    To: TWILIO_FROM,
    Body: body,
  });
  const consent = async (number: string) =>
    (
      await db().query<{ event: string }>(
        'select event from sms_consent_events where phone = $1 order by created_at, id',
        [number],
      )
    ).map((row) => row.event);
  const suppressed = async (number: string) =>
    (await db().query('select 1 from sms_suppressions where phone = $1', [number])).length > 0;

  describe('Twilio', () => {
    it('a captured START replayed after a STOP changes nothing, whatever unsigned part is changed', async () => {
      const number = phone();
      const start = inbound(number, 'START');
      expect(
        (await postTwilio('/webhooks/twilio/sms', start, { 'i-twilio-idempotency-token': 'tok-1' }))
          .statusCode,
      ).toBe(200);
      expect((await postTwilio('/webhooks/twilio/sms', inbound(number, 'STOP'))).statusCode).toBe(200);
      expect(await suppressed(number)).toBe(true);
      const before = await consent(number);
      expect(before).toEqual(['opt_in', 'opt_out']);

      // The unsigned parts of the request: the idempotency header (changed, dropped), the request
      // id, the user agent, the content type's parameters, forwarded-for. None makes it new.
      const variants: Array<Record<string, string>> = [
        { 'i-twilio-idempotency-token': 'tok-2' },
        {},
        { 'i-twilio-idempotency-token': '' },
        { 'x-request-id': 'replay-1', 'user-agent': 'curl/8' },
        { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-forwarded-for': '10.9.9.9' },
      ];
      for (const headers of variants) {
        const replay = await postTwilio('/webhooks/twilio/sms', start, headers);
        expect(replay.statusCode).toBe(403);
        expect(replay.json().error.message).toMatch(/Replayed/);
      }
      // The SmsSid alone (the same message) is the same message.
      const { MessageSid: _dropped, ...bySmsSid } = start;
      expect((await postTwilio('/webhooks/twilio/sms', bySmsSid)).statusCode).toBe(403);
      expect(await suppressed(number)).toBe(true);
      expect(await consent(number)).toEqual(before);
    });

    it('refuses a repeated form key (400), even correctly signed, and changes nothing', async () => {
      const number = phone();
      const stop = inbound(number, 'STOP');
      for (const repeated of [
        { ...stop, MessageSid: [stop.MessageSid, sid()] },
        { ...stop, From: [number, phone()] },
        { ...stop, Body: ['STOP', 'START'] },
      ]) {
        const response = await postTwilio('/webhooks/twilio/sms', repeated);
        expect(response.statusCode).toBe(400);
        expect(response.json().error.code).toBe('invalid_input');
        expect(response.json().error.details[0].message).toMatch(/more than once/);
      }
      expect(await suppressed(number)).toBe(false);
      expect(await consent(number)).toEqual([]);
    });

    it('answers signed but malformed callbacks with 400, or ignores unknown statuses, never 500', async () => {
      const number = phone();
      const noSid = await postTwilio('/webhooks/twilio/sms', { From: number, To: TWILIO_FROM, Body: 'STOP' });
      expect(noSid.statusCode).toBe(400);
      expect(noSid.json().error.details[0].field).toBe('body.MessageSid');
      const nul = await postTwilio('/webhooks/twilio/sms', inbound(number, 'ST\u0000OP'));
      expect(nul.statusCode).toBe(400);
      expect(nul.json().error.details[0].field).toBe('body.Body');
      expect(await consent(number)).toEqual([]);

      // Status-shaped names of Object.prototype's members are unknown statuses: acknowledged, no effect.
      const sent = await running.service.channels.enqueue({
        dedupeKey: `hardening:proto:${kind}:${counter++}`,
        channel: 'sms',
        to: number,
        content: { body: 'x' },
      });
      const row = await waitFor('the message to be sent', async () => {
        const [found] = await db().query<{ status: string; provider_id: string | null }>(
          'select status, provider_id from outbox_messages where id = $1',
          [sent.id],
        );
        return found?.provider_id ? found : undefined;
      });
      for (const status of ['constructor', '__proto__', 'valueof', 'tostring']) {
        const response = await postTwilio('/webhooks/twilio/status', {
          MessageSid: row.provider_id as string,
          MessageStatus: status,
        });
        expect(response.statusCode).toBe(204);
      }
      const [after] = await db().query<{ status: string }>(
        'select status from outbox_messages where id = $1',
        [sent.id],
      );
      expect(after?.status).toBe(row.status);
      const badStatus = await postTwilio('/webhooks/twilio/status', {
        MessageSid: sid(),
        MessageStatus: 'Delivered!',
      });
      expect(badStatus.statusCode).toBe(400);
      const noMessage = await postTwilio('/webhooks/twilio/status', { MessageStatus: 'delivered' });
      expect(noMessage.statusCode).toBe(400);
    });

    it('dedupes status callbacks on the signed MessageSid and status only', async () => {
      const report = { MessageSid: sid(), MessageStatus: 'delivered' };
      expect(
        (await postTwilio('/webhooks/twilio/status', report, { 'i-twilio-idempotency-token': 'a' }))
          .statusCode,
      ).toBe(204);
      expect(
        (await postTwilio('/webhooks/twilio/status', report, { 'i-twilio-idempotency-token': 'b' }))
          .statusCode,
      ).toBe(403);
      expect((await postTwilio('/webhooks/twilio/status', report)).statusCode).toBe(403);
      expect(
        (await postTwilio('/webhooks/twilio/status', { ...report, MessageStatus: 'read' })).statusCode,
      ).toBe(204);
    });
  });

  describe('SendGrid', () => {
    const postEvents = (request: { body: string; headers: Record<string, string> }, extra = {}) =>
      app().inject({
        method: 'POST',
        url: '/webhooks/sendgrid/events',
        payload: request.body,
        headers: { ...request.headers, ...extra },
      });
    const signedRaw = (body: string) => {
      const timestamp = String(seconds());
      return {
        body,
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-signature': providers.signer.sign(timestamp, body),
          'x-twilio-email-event-webhook-timestamp': timestamp,
        },
      };
    };

    it('answers signed but malformed batches with 400 naming the field', async () => {
      const cases: Array<[string, string | null]> = [
        ['[null]', 'body.0'],
        ['null', 'body'],
        ['{}', 'body'],
        ['[{"event":"delivered","sg_message_id":5}]', 'body.0.sg_message_id'],
        ['[{"event":7}]', 'body.0.event'],
        ['[{"event":"delivered","reason":"a\\u0000b"}]', 'body.0.reason'],
        ['[{"event":"bounce","response":"\\ud800"}]', 'body.0.response'],
      ];
      for (const [body, field] of cases) {
        const response = await postEvents(signedRaw(body));
        expect(response.statusCode, body).toBe(400);
        expect(response.json().error.code).toBe('invalid_input');
        if (field) expect(response.json().error.details?.[0]?.field ?? 'body', body).toBe(field);
      }
      const notJson = await postEvents(signedRaw('[{"event":'));
      expect(notJson.statusCode).toBe(400);
      expect(notJson.json().error.code).toBe('malformed_json');
    });

    it('takes prototype names as unknown events, and a re-signed retry as a duplicate', async () => {
      const events = ['constructor', '__proto__', 'toString'].map((event, i) => ({
        event,
        sg_event_id: `proto-${kind}-${i}-${counter++}`,
        sg_message_id: 'nothing.filter',
      }));
      const first = await postEvents(signedEventRequest(providers.signer, events as never));
      expect(first.statusCode).toBe(200);
      expect(first.json()).toEqual({ updated: 0, unchanged: 3, duplicates: 0 });
      const retried = await postEvents(signedEventRequest(providers.signer, events as never), {
        'user-agent': 'replayer',
        'x-request-id': 'again',
      });
      expect(retried.json()).toEqual({ updated: 0, unchanged: 0, duplicates: 3 });
    });
  });

  describe('Slack', () => {
    const signSlack = (body: string, timestamp = String(seconds())) => ({
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`,
    });
    const postSlack = (body: string, headers = signSlack(body)) =>
      app().inject({ method: 'POST', url: '/webhooks/slack/events', payload: body, headers });

    it('answers signed but malformed payloads with 400 naming the field', async () => {
      const cases: Array<[string, string]> = [
        ['null', 'body'],
        ['[]', 'body'],
        ['{"type":"url_verification"}', 'body.challenge'],
        ['{"type":"event_callback","event_id":"Ev1"}', 'body.event'],
        [
          '{"type":"event_callback","event_id":"Ev2","event":{"type":"message","channel":"C1","text":5}}',
          'body.event.text',
        ],
        [
          '{"type":"event_callback","event_id":"Ev3","event":{"type":"message","channel":{"id":"C1"}}}',
          'body.event.channel',
        ],
        [
          '{"type":"event_callback","event_id":"Ev4","event":{"type":"message","channel":"C1","text":"a\\u0000"}}',
          'body.event.text',
        ],
        ['{"type":"constructor"}', 'body.type'],
      ];
      for (const [body, field] of cases) {
        const response = await postSlack(body);
        expect(response.statusCode, body).toBe(400);
        expect(response.json().error.details?.[0]?.field ?? 'body', body).toBe(field);
      }
      const challenge = await postSlack('{"type":"url_verification","challenge":"abc"}');
      expect(challenge.json()).toEqual({ challenge: 'abc' });
      // Other event types (a channel_created's channel is an object) are acknowledged, not refused.
      const other = await postSlack(
        '{"type":"event_callback","event_id":"EvOther","event":{"type":"channel_created","channel":{"id":"C9"}}}',
      );
      expect(other.statusCode).toBe(200);
    });

    it('refuses timestamps more than five minutes away either way; a re-signed retry is a duplicate', async () => {
      const body = `{"type":"event_callback","event_id":"EvReplay-${kind}","event":{"type":"message","channel":"C0NOTWATCHED","ts":"1.2","text":"x"}}`;
      for (const skew of [-3600, -301, 301, 86_400]) {
        const response = await postSlack(body, signSlack(body, String(seconds() + skew)));
        expect(response.statusCode, String(skew)).toBe(403);
      }
      expect((await postSlack(body)).json().outcome).toBe('ignored');
      const retry = await postSlack(body, {
        ...signSlack(body, String(seconds() + 1)),
        'x-slack-retry-num': '1',
      } as never);
      expect(retry.json().outcome).toBe('duplicate');
    });
  });

  describe('Stripe', () => {
    // Stripe's scheme (https://docs.stripe.com/webhooks#verify-manually): t=<unix seconds>,
    // v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the endpoint's signing secret>.
    const signStripe = (body: string, timestamp = seconds()) =>
      `t=${timestamp},v1=${createHmac('sha256', stripe.env.STRIPE_WEBHOOK_SECRET as string)
        .update(`${timestamp}.${body}`)
        .digest('hex')}`;
    const postStripe = (body: string, signature = signStripe(body)) =>
      app().inject({
        method: 'POST',
        url: '/webhooks/stripe',
        payload: body,
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      });
    const event = (id: string) =>
      JSON.stringify({ id, type: 'payment_intent.payment_failed', data: { object: { id: `pi_${id}` } } });

    it('takes a correctly signed event once, and refuses timestamps past the tolerance either way', async () => {
      const body = event(`evt_ok_${kind}`);
      expect((await postStripe(body)).json()).toEqual({ received: true, result: 'processed' });
      expect((await postStripe(body, signStripe(body, seconds() + 30))).json()).toEqual({
        received: true,
        result: 'duplicate',
      });
      for (const skew of [86_400, 3600, 400, -400, -86_400]) {
        const fresh = event(`evt_skew_${kind}_${skew}`);
        const response = await postStripe(fresh, signStripe(fresh, seconds() + skew));
        expect(response.statusCode, String(skew)).toBe(403);
      }
    });

    it('answers signed but malformed events with 400 naming the field', async () => {
      const cases: Array<[string, string]> = [
        ['{}', 'body.id'],
        ['null', 'body'],
        ['[]', 'body'],
        ['{"id":"evt_1","type":"payment_intent.succeeded"}', 'body.data'],
        ['{"id":"evt_2","type":"payment_intent.succeeded","data":{"object":null}}', 'body.data.object'],
        ['{"id":"evt_3","type":"payment_intent.succeeded","data":{"object":{}}}', 'body.data.object.id'],
        [
          '{"id":"evt_4","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","metadata":{"invoice_id":7}}}}',
          'body.data.object.metadata.invoice_id',
        ],
        ['{"id":"evt_5\\u0000","type":"x","data":{"object":{"id":"pi"}}}', 'body.id'],
        ['{"id":5,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}', 'body.id'],
        [
          '{"id":"evt_6","type":"x","data":{"object":{"id":"pi"}},"__proto__":{"type":"payment_intent.succeeded"}}',
          'body',
        ],
        [
          '{"id":"evt_7","type":"x","data":{"object":{"id":"pi","constructor":{"prototype":{"a":1}}}}}',
          'body',
        ],
      ];
      for (const [body, field] of cases) {
        const response = await postStripe(body);
        expect(response.statusCode, body).toBe(400);
        expect(response.json().error.details?.[0]?.field ?? 'body', body).toBe(field);
      }
    });
  });
});

describe('Twilio webhooks with PUBLIC_URL unset', () => {
  let providers: Providers;
  let running: TestService;
  beforeAll(async () => {
    providers = await startProviders();
    const { PUBLIC_URL: _unset, ...env } = providers.env;
    running = await startTestService('pglite', { env });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
  });

  it('answers a Host that makes no URL with 400, and verifies against the Host otherwise', async () => {
    const params = {
      MessageSid: `SM${'a'.repeat(32)}`,
      From: '+14155550100',
      To: TWILIO_FROM,
      Body: 'hello',
    };
    const post = (host: string, signature: string) =>
      running.service.app.inject({
        method: 'POST',
        url: '/webhooks/twilio/sms',
        payload: new URLSearchParams(params).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          host,
          'x-twilio-signature': signature,
        },
      });
    for (const host of ['[', 'a b', '[::1']) {
      const response = await post(host, 'sig');
      expect(response.statusCode, host).toBe(400);
      expect(response.json().error.details[0].field).toBe('headers.host');
    }
    const signed = signTwilioWebhook(TWILIO_TOKEN, 'http://sms.example.com/webhooks/twilio/sms', params);
    expect((await post('sms.example.com', signed)).statusCode).toBe(200);
    expect((await post('other.example.com', signed)).statusCode).toBe(403);
  });
});
