import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineApp } from '../src/platform/app-module.ts';
import type { InboundSms } from '../src/platform/channels/inbound.ts';
import { buildSendGridEvents, signedEventRequest } from './fakes/sendgrid.ts';
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

let counter = 0;
const nextPhone = () => `+1646555${String(1000 + (counter++ % 9000)).padStart(4, '0')}`;
const key = (name: string) => `webhook-test:${name}:${counter++}`;

describe.each(databaseKinds)('webhooks on %s', (kind) => {
  let providers: Providers;
  let running: TestService;
  const received: InboundSms[] = [];
  const app = () => running.service.app;
  const db = () => running.service.db;

  beforeAll(async () => {
    providers = await startProviders();
    running = await startTestService(kind, {
      env: providers.env,
      apps: [
        defineApp({
          name: 'listener',
          setup: ({ channels }) =>
            channels.onInboundSms(async (message) => {
              if (!message.body.startsWith('TIME')) return false;
              received.push(message);
              return true;
            }),
        }),
      ],
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
  });

  /** What Twilio would POST for an inbound SMS, signed for PUBLIC_URL. */
  const inboundSms = (
    from: string,
    body: string,
    sid = `SM${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}`,
  ) => {
    const params = {
      MessageSid: sid,
      SmsSid: sid,
      AccountSid: providers.env.TWILIO_ACCOUNT_SID!,
      From: from,
      To: TWILIO_FROM,
      Body: body,
      NumMedia: '0',
    };
    return {
      params,
      signature: signTwilioWebhook(TWILIO_TOKEN, `${PUBLIC_URL}/webhooks/twilio/sms`, params),
    };
  };
  const post = (url: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
    app().inject({
      method: 'POST',
      url,
      payload: new URLSearchParams(params).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  const suppressed = async (phone: string) =>
    (await db().query('select 1 from sms_suppressions where phone = $1', [phone])).length > 0;
  const settled = (id: string) =>
    waitFor(`message ${id} to settle`, async () => {
      const [row] = await db().query<{
        status: string;
        provider_id: string | null;
        last_error: string | null;
        error_code: string | null;
      }>('select status, provider_id, last_error, error_code from outbox_messages where id = $1', [id]);
      return row && !['queued', 'sending'].includes(row.status) ? row : undefined;
    });

  describe('inbound SMS', () => {
    it('STOP suppresses the number for every app, START lifts it', async () => {
      const phone = nextPhone();
      const stop = inboundSms(phone, '  Stop. ');
      const response = await post('/webhooks/twilio/sms', stop.params, {
        'x-twilio-signature': stop.signature,
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/xml');
      expect(response.body).toContain('<Response>');
      expect(await suppressed(phone)).toBe(true);

      const blocked = await running.service.channels.enqueue({
        dedupeKey: key('after-stop'),
        channel: 'sms',
        to: phone,
        content: { body: 'nope' },
      });
      expect(blocked.status).toBe('suppressed');

      const start = inboundSms(phone, 'START');
      expect(
        (await post('/webhooks/twilio/sms', start.params, { 'x-twilio-signature': start.signature }))
          .statusCode,
      ).toBe(200);
      expect(await suppressed(phone)).toBe(false);
      const allowed = await running.service.channels.enqueue({
        dedupeKey: key('after-start'),
        channel: 'sms',
        to: phone,
        content: { body: 'welcome back' },
      });
      expect((await settled(allowed.id)).status).toBe('sent');
      const events = await db().query<{ event: string }>(
        'select event from sms_consent_events where phone = $1 order by created_at',
        [phone],
      );
      expect(events.map((e) => e.event)).toEqual(['opt_out', 'opt_in']);
    });

    it('a STOP between enqueue and send means nothing is sent', async () => {
      const phone = nextPhone();
      const later = await running.service.channels.enqueue({
        dedupeKey: key('scheduled'),
        channel: 'sms',
        to: phone,
        content: { body: 'scheduled message' },
        sendAfter: new Date(Date.now() + 1500),
      });
      const stop = inboundSms(phone, 'unsubscribe');
      await post('/webhooks/twilio/sms', stop.params, { 'x-twilio-signature': stop.signature });
      expect((await settled(later.id)).status).toBe('suppressed');
      expect(providers.twilio.sentMessages.filter((m) => m.to === phone)).toHaveLength(0);
    });

    it('HELP gets the help text, once per message, but not when the number opted out', async () => {
      const phone = nextPhone();
      const help = inboundSms(phone, 'help');
      await post('/webhooks/twilio/sms', help.params, { 'x-twilio-signature': help.signature });
      await waitFor('the help reply', () => providers.twilio.sentMessages.some((m) => m.to === phone));
      expect(providers.twilio.sentMessages.find((m) => m.to === phone)?.body).toBe(
        'Switchboard alerts. Reply STOP to unsubscribe, START to resubscribe.',
      );

      const other = nextPhone();
      const stop = inboundSms(other, 'STOP');
      await post('/webhooks/twilio/sms', stop.params, { 'x-twilio-signature': stop.signature });
      const info = inboundSms(other, 'INFO');
      await post('/webhooks/twilio/sms', info.params, { 'x-twilio-signature': info.signature });
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(providers.twilio.sentMessages.filter((m) => m.to === other)).toHaveLength(0);
    });

    it('hands other messages to the app that handles them', async () => {
      const phone = nextPhone();
      const message = inboundSms(phone, 'TIME 9-11');
      await post('/webhooks/twilio/sms', message.params, { 'x-twilio-signature': message.signature });
      expect(received.find((m) => m.from === phone)).toMatchObject({
        body: 'TIME 9-11',
        to: TWILIO_FROM,
        providerId: message.params.MessageSid,
      });
    });

    it('rejects unsigned (401), badly signed (403) and replayed (403) requests and changes nothing', async () => {
      const phone = nextPhone();
      const stop = inboundSms(phone, 'STOP');
      expect((await post('/webhooks/twilio/sms', stop.params)).statusCode).toBe(401);
      const tampered = await post(
        '/webhooks/twilio/sms',
        { ...stop.params, From: nextPhone() },
        { 'x-twilio-signature': stop.signature },
      );
      expect(tampered.statusCode).toBe(403);
      expect(tampered.json().error.code).toBe('forbidden');
      expect(await suppressed(phone)).toBe(false);

      expect(
        (await post('/webhooks/twilio/sms', stop.params, { 'x-twilio-signature': stop.signature }))
          .statusCode,
      ).toBe(200);
      const replay = await post('/webhooks/twilio/sms', stop.params, {
        'x-twilio-signature': stop.signature,
      });
      expect(replay.statusCode).toBe(403);
      expect(replay.json().error.message).toMatch(/Replayed/);
      const events = await db().query('select 1 from sms_consent_events where phone = $1', [phone]);
      expect(events).toHaveLength(1);
    });
  });

  describe('Twilio status callbacks', () => {
    const callback = (sid: string) => {
      const { url, params, signature } = providers.twilio.statusCallback(sid);
      return { url: new URL(url).pathname, params, signature };
    };

    it('move a message to delivered, never back, and reject replays', async () => {
      const phone = nextPhone();
      const sent = await running.service.channels.enqueue({
        dedupeKey: key('status'),
        channel: 'sms',
        to: phone,
        content: { body: 'track me' },
      });
      const sid = (await settled(sent.id)).provider_id as string;

      providers.twilio.setStatus(sid, 'delivered');
      const delivered = callback(sid);
      expect(
        (await post(delivered.url, delivered.params, { 'x-twilio-signature': delivered.signature }))
          .statusCode,
      ).toBe(204);
      expect((await settled(sent.id)).status).toBe('delivered');

      // A late "sent" arriving after "delivered" changes nothing.
      providers.twilio.setStatus(sid, 'sent');
      const late = callback(sid);
      expect((await post(late.url, late.params, { 'x-twilio-signature': late.signature })).statusCode).toBe(
        204,
      );
      expect((await settled(sent.id)).status).toBe('delivered');

      const replay = await post(delivered.url, delivered.params, {
        'x-twilio-signature': delivered.signature,
      });
      expect(replay.statusCode).toBe(403);
      expect((await post(delivered.url, delivered.params, { 'x-twilio-signature': 'AAAA' })).statusCode).toBe(
        403,
      );
    });

    it('a 21610 failure suppresses the recipient', async () => {
      const phone = nextPhone();
      const sent = await running.service.channels.enqueue({
        dedupeKey: key('status-21610'),
        channel: 'sms',
        to: phone,
        content: { body: 'x' },
      });
      const sid = (await settled(sent.id)).provider_id as string;
      providers.twilio.setStatus(sid, 'failed', 21610);
      const failed = callback(sid);
      await post(failed.url, failed.params, { 'x-twilio-signature': failed.signature });
      expect(await settled(sent.id)).toMatchObject({ status: 'failed', error_code: '21610' });
      expect(await suppressed(phone)).toBe(true);
    });
  });

  describe('SendGrid events', () => {
    const postEvents = (request: { body: string; headers: Record<string, string> }) =>
      app().inject({
        method: 'POST',
        url: '/webhooks/sendgrid/events',
        payload: request.body,
        headers: request.headers,
      });

    it('deliveries and bounces update rows; retried events are counted once', async () => {
      const good = await running.service.channels.enqueue({
        dedupeKey: key('sg-ok'),
        channel: 'email',
        to: 'ok@example.com',
        content: { subject: 's', text: 't' },
      });
      const bad = await running.service.channels.enqueue({
        dedupeKey: key('sg-bounce'),
        channel: 'email',
        to: 'gone@example.com',
        content: { subject: 's', text: 't' },
      });
      const goodId = (await settled(good.id)).provider_id as string;
      const badId = (await settled(bad.id)).provider_id as string;
      const events = [
        ...buildSendGridEvents({
          messageId: goodId,
          email: 'ok@example.com',
          events: ['processed', 'delivered'],
        }),
        ...buildSendGridEvents({
          messageId: badId,
          email: 'gone@example.com',
          events: ['processed', 'bounce'],
        }),
      ];
      const response = await postEvents(signedEventRequest(providers.signer, events));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ duplicates: 0 });
      expect((await settled(good.id)).status).toBe('delivered');
      expect(await settled(bad.id)).toMatchObject({
        status: 'undelivered',
        error_code: 'bounce',
        last_error: expect.stringContaining('550 5.1.1'),
      });

      const retried = await postEvents(signedEventRequest(providers.signer, events));
      expect(retried.json()).toEqual({ updated: 0, unchanged: 0, duplicates: 4 });
    });

    it('rejects missing (401), tampered (403) and stale (403) signatures', async () => {
      const events = buildSendGridEvents({ messageId: 'abc', email: 'x@example.com' });
      const signed = signedEventRequest(providers.signer, events);
      expect(
        (await postEvents({ body: signed.body, headers: { 'content-type': 'application/json' } })).statusCode,
      ).toBe(401);
      const tampered = await postEvents({
        body: signed.body.replace('x@example.com', 'y@example.com'),
        headers: signed.headers,
      });
      expect(tampered.statusCode).toBe(403);
      const old = String(Math.floor(Date.now() / 1000) - 600);
      const stale = await postEvents(signedEventRequest(providers.signer, events, old));
      expect(stale.statusCode).toBe(403);
      expect(stale.json().error.message).toMatch(/too old/);
    });
  });
});

describe('webhooks without provider credentials', () => {
  let running: TestService;
  beforeAll(async () => {
    running = await startTestService('pglite', { env: { WEBHOOK_STATUS_RATE_LIMIT: '2' } });
  });
  afterAll(() => running?.dispose());

  it('answer 404: nothing is configured to verify them against', async () => {
    const response = await running.service.app.inject({
      method: 'POST',
      url: '/webhooks/twilio/sms',
      payload: 'Body=STOP',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.message).toContain('Twilio is not configured');
  });

  it('are rate limited per source', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      codes.push(
        (
          await running.service.app.inject({
            method: 'POST',
            url: '/webhooks/twilio/status',
            payload: 'MessageSid=x',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          })
        ).statusCode,
      );
    }
    expect(codes).toEqual([404, 404, 429]);
  });
});
