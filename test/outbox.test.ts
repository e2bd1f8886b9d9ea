import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/platform/errors.ts';
import { databaseKinds } from './helpers/databases.ts';
import { type Providers, PUBLIC_URL, startProviders, TWILIO_FROM } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

let counter = 0;
/** A fresh valid US mobile-style number per test, so tests sharing the fakes never collide. */
const nextPhone = () => `+1415555${String(1000 + (counter++ % 9000)).padStart(4, '0')}`;
const key = (name: string) => `test:${name}:${counter++}`;

describe.each(databaseKinds)('outbox on %s', (kind) => {
  let providers: Providers;
  let running: TestService;
  const service = () => running.service;
  const settled = (
    id: string,
    statuses = ['sent', 'delivered', 'failed', 'suppressed', 'undelivered', 'cancelled'],
  ) =>
    waitFor(
      `message ${id} to settle`,
      async () => {
        const current = await service().db.query<{
          status: string;
          attempts: number;
          error_code: string | null;
          last_error: string | null;
          provider_id: string | null;
          segments: number | null;
        }>(
          'select status, attempts, error_code, last_error, provider_id, segments from outbox_messages where id = $1',
          [id],
        );
        return current[0] && statuses.includes(current[0].status) ? current[0] : undefined;
      },
      30_000,
    );
  const sentTo = (to: string) => providers.twilio.sentMessages.filter((m) => m.to === to);

  beforeAll(async () => {
    providers = await startProviders();
    running = await startTestService(kind, { env: providers.env });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
  });

  describe('SMS through Twilio', () => {
    it('sends once, with a status callback, and records the SID and segments', async () => {
      const to = nextPhone();
      const result = await service().channels.enqueue({
        dedupeKey: key('sms'),
        channel: 'sms',
        to,
        content: { body: 'Invoice INV-1 needs review' },
      });
      expect(result).toMatchObject({ created: true, status: 'queued' });
      const done = await settled(result.id);
      expect(done).toMatchObject({ status: 'sent', attempts: 1, segments: 1 });
      const [sent] = sentTo(to);
      expect(sent).toMatchObject({
        body: 'Invoice INV-1 needs review',
        from: TWILIO_FROM,
        statusCallback: `${PUBLIC_URL}/webhooks/twilio/status`,
      });
      expect(done.provider_id).toBe(sent?.sid);
    });

    it('never sends a dedupe key twice, also under concurrent callers', async () => {
      const to = nextPhone();
      const dedupeKey = key('same');
      const results = await Promise.all(
        Array.from({ length: 12 }, () =>
          service().channels.enqueue({ dedupeKey, channel: 'sms', to, content: { body: 'only once' } }),
        ),
      );
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      await settled(results[0]!.id);
      const again = await service().channels.enqueue({
        dedupeKey,
        channel: 'sms',
        to,
        content: { body: 'only once' },
      });
      expect(again).toMatchObject({ created: false, status: 'sent' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sentTo(to)).toHaveLength(1);
    });

    it('refuses an invalid number at enqueue, and stores nothing', async () => {
      const dedupeKey = key('bad-number');
      const attempt = service().channels.enqueue({
        dedupeKey,
        channel: 'sms',
        to: '555-0100',
        content: { body: 'x' },
      });
      await expect(attempt).rejects.toBeInstanceOf(AppError);
      await expect(attempt).rejects.toMatchObject({
        code: 'invalid_input',
        details: [{ field: 'to', message: expect.stringContaining('country code') }],
      });
      expect(
        await service().db.query('select 1 from outbox_messages where dedupe_key = $1', [dedupeKey]),
      ).toHaveLength(0);
    });

    it('shortens a long text at a word boundary to the segment limit', async () => {
      const to = nextPhone();
      const body = 'Reminder: '.concat('please review the invoice today '.repeat(30));
      const result = await service().channels.enqueue({
        dedupeKey: key('long'),
        channel: 'sms',
        to,
        content: { body },
      });
      const done = await settled(result.id);
      expect(done.segments).toBe(4);
      const sent = sentTo(to)[0]?.body ?? '';
      expect(sent.endsWith('...')).toBe(true);
      expect(body.startsWith(sent.slice(0, -3))).toBe(true);
    });

    it.each([
      [21211, 'invalid number'],
      [21614, 'not a mobile number'],
    ])('fails at once on Twilio %i (%s) with the code and message', async (code) => {
      const to = nextPhone();
      providers.twilio.rejectNumber(to, code);
      const result = await service().channels.enqueue({
        dedupeKey: key('reject'),
        channel: 'sms',
        to,
        content: { body: 'hi' },
      });
      const done = await settled(result.id);
      expect(done).toMatchObject({ status: 'failed', attempts: 1, error_code: String(code) });
      expect(done.last_error).toContain(`Twilio 400 ${code}`);
    });

    it('on 21610 fails and suppresses the number for every later message', async () => {
      const to = nextPhone();
      providers.twilio.rejectNumber(to, 21610);
      const first = await service().channels.enqueue({
        dedupeKey: key('unsub'),
        channel: 'sms',
        to,
        content: { body: 'hi' },
      });
      expect(await settled(first.id)).toMatchObject({ status: 'failed', error_code: '21610' });
      const later = await service().channels.enqueue({
        dedupeKey: key('unsub-later'),
        channel: 'sms',
        to,
        content: { body: 'hello again' },
      });
      expect(later).toMatchObject({ created: true, status: 'suppressed' });
      const requests = providers.twilio.requests.filter(
        (r) => r.method === 'POST' && r.form?.get('To') === to,
      );
      expect(requests).toHaveLength(1);
    });

    it('retries a 429 after the Retry-After the provider asked for', async () => {
      const to = nextPhone();
      providers.twilio.inject({
        match: (r) => r.method === 'POST' && r.form?.get('To') === to,
        status: 429,
        headers: { 'Retry-After': '1' },
        body: {
          code: 20429,
          message: 'Too Many Requests',
          more_info: 'https://www.twilio.com/docs/errors/20429',
          status: 429,
        },
      });
      const result = await service().channels.enqueue({
        dedupeKey: key('429'),
        channel: 'sms',
        to,
        content: { body: 'throttled' },
      });
      const done = await settled(result.id, ['sent']);
      expect(done.attempts).toBe(2);
      const posts = providers.twilio.requests.filter((r) => r.method === 'POST' && r.form?.get('To') === to);
      expect(posts).toHaveLength(2);
      expect(posts[1]!.receivedAt.getTime() - posts[0]!.receivedAt.getTime()).toBeGreaterThanOrEqual(950);
      expect(sentTo(to)).toHaveLength(1);
    });

    it('retries server errors, timeouts and connection resets, then sends once', async () => {
      const to = nextPhone();
      const match = (r: { method: string; form?: URLSearchParams }) =>
        r.method === 'POST' && r.form?.get('To') === to;
      providers.twilio.inject({
        match,
        status: 500,
        body: { code: 20500, message: 'Internal Server Error', status: 500 },
      });
      providers.twilio.inject({ match, hang: true });
      providers.twilio.inject({ match, reset: true });
      const result = await service().channels.enqueue({
        dedupeKey: key('flaky'),
        channel: 'sms',
        to,
        content: { body: 'eventually' },
      });
      const done = await settled(result.id, ['sent', 'failed']);
      expect(done).toMatchObject({ status: 'sent', attempts: 4 });
      expect(sentTo(to)).toHaveLength(1);
    });

    it('does not send twice when Twilio took the message but the answer was lost', async () => {
      const to = nextPhone();
      providers.twilio.inject({
        match: (r) => r.method === 'POST' && r.form?.get('To') === to,
        reset: true,
        afterProcessing: true,
      });
      const result = await service().channels.enqueue({
        dedupeKey: key('lost-answer'),
        channel: 'sms',
        to,
        content: { body: 'exactly once' },
      });
      const done = await settled(result.id, ['sent']);
      expect(sentTo(to)).toHaveLength(1);
      expect(done.provider_id).toBe(sentTo(to)[0]?.sid);
      // The retry asked Twilio what it had sent instead of sending again.
      expect(providers.twilio.requests.some((r) => r.method === 'GET' && r.query.get('To') === to)).toBe(
        true,
      );
    });

    it('gives up after OUTBOX_MAX_ATTEMPTS transient failures with the last error', async () => {
      const to = nextPhone();
      providers.twilio.inject({
        match: (r) => r.method === 'POST' && r.form?.get('To') === to,
        times: 100,
        status: 503,
        body: { code: 20503, message: 'Service Unavailable', status: 503 },
      });
      const result = await service().channels.enqueue({
        dedupeKey: key('down'),
        channel: 'sms',
        to,
        content: { body: 'never' },
      });
      const done = await settled(result.id, ['failed']);
      expect(done.attempts).toBe(8);
      expect(done.last_error).toContain('Twilio 503 20503');
      providers.twilio.clearFaults();
    }, 90_000);
  });

  describe('email through SendGrid', () => {
    it('sends the subject, text and HTML and stores the message id', async () => {
      const result = await service().channels.enqueue({
        dedupeKey: key('email'),
        channel: 'email',
        to: 'AP@Example.com',
        content: { subject: 'Invoice needs review', text: 'Plain text', html: '<p>HTML</p>' },
      });
      const done = await settled(result.id);
      expect(done.status).toBe('sent');
      const sent = providers.sendgrid.sentMessages.find((m) => m.messageId === done.provider_id);
      expect(sent).toMatchObject({ recipients: ['ap@example.com'], subject: 'Invoice needs review' });
      const request = providers.sendgrid.requests.at(-1)?.json as {
        content: Array<{ type: string }>;
        custom_args: Record<string, string>;
      };
      expect(request.content.map((c) => c.type)).toEqual(['text/plain', 'text/html']);
      expect(request.custom_args.outbox_id).toBe(result.id);
    });

    it('fails at once on a 400 with SendGrid’s reason', async () => {
      providers.sendgrid.inject({
        status: 400,
        body: {
          errors: [
            { message: 'Does not contain a valid address.', field: 'personalizations.0.to', help: null },
          ],
        },
      });
      const result = await service().channels.enqueue({
        dedupeKey: key('email-400'),
        channel: 'email',
        to: 'someone@example.com',
        content: { subject: 's', text: 't' },
      });
      const done = await settled(result.id);
      expect(done).toMatchObject({ status: 'failed', attempts: 1, error_code: '400' });
      expect(done.last_error).toContain('personalizations.0.to: Does not contain a valid address.');
    });

    it('retries a 429', async () => {
      providers.sendgrid.rateLimit({ retryAfterSec: 1 });
      const result = await service().channels.enqueue({
        dedupeKey: key('email-429'),
        channel: 'email',
        to: 'x@example.com',
        content: { subject: 's', text: 't' },
      });
      expect(await settled(result.id, ['sent'])).toMatchObject({ attempts: 2 });
    });
  });

  describe('Slack', () => {
    it('posts to a channel, replies in a thread, and opens a DM for a user', async () => {
      const post = await service().channels.enqueue({
        dedupeKey: key('slack'),
        channel: 'slack',
        to: 'C0GENERAL01',
        content: { text: 'Hello channel' },
      });
      const thread = await service().channels.enqueue({
        dedupeKey: key('slack-thread'),
        channel: 'slack',
        to: 'C0GENERAL01',
        content: { text: 'In the thread', threadTs: '1700000000.000100' },
      });
      const dm = await service().channels.enqueue({
        dedupeKey: key('slack-dm'),
        channel: 'slack',
        to: 'U0OPERATOR1',
        content: { text: 'Needs a person' },
      });
      for (const id of [post.id, thread.id, dm.id]) expect((await settled(id)).status).toBe('sent');
      const texts = providers.slack.postedMessages.map((m) => ({
        channel: m.channel,
        text: m.text,
        thread: m.thread_ts,
      }));
      expect(texts).toEqual(
        expect.arrayContaining([
          { channel: 'C0GENERAL01', text: 'Hello channel', thread: undefined },
          { channel: 'C0GENERAL01', text: 'In the thread', thread: '1700000000.000100' },
          expect.objectContaining({ channel: expect.stringMatching(/^D/), text: 'Needs a person' }),
        ]),
      );
      expect(providers.slack.requests.some((r) => r.path === '/api/conversations.open')).toBe(true);
    });

    it('does not post twice when Slack took the message but the answer was lost, in a channel or a thread', async () => {
      const parent = providers.slack.seedMessage('C0GENERAL01', {
        text: 'Credit request: https://looker.example.com/looks/1',
      });
      const isPost = (r: { path: string }) => r.path === '/api/chat.postMessage';
      for (const [name, content] of [
        ['plain', { text: `Lost answer ${counter}` }],
        ['thread', { text: `Approved, $4,948.80, exceptions ${counter}`, threadTs: parent }],
      ] as const) {
        providers.slack.inject({ match: isPost, reset: true, afterProcessing: true });
        const result = await service().channels.enqueue({
          dedupeKey: key(`slack-lost-${name}`),
          channel: 'slack',
          to: 'C0GENERAL01',
          content,
        });
        expect((await settled(result.id)).status).toBe('sent');
        expect(providers.slack.postedMessages.filter((m) => m.text === content.text)).toHaveLength(1);
      }
      expect(providers.slack.requests.some((r) => r.path === '/api/conversations.replies')).toBe(true);
    });

    it('fails at once when the channel does not exist, retries a rate limit', async () => {
      providers.slack.failWith('channel_not_found', { method: 'chat.postMessage' });
      const missing = await service().channels.enqueue({
        dedupeKey: key('slack-missing'),
        channel: 'slack',
        to: 'C0NOWHERE01',
        content: { text: 'x' },
      });
      expect(await settled(missing.id)).toMatchObject({ status: 'failed', error_code: 'channel_not_found' });
      providers.slack.rateLimit({ method: 'chat.postMessage', retryAfterSec: 1 });
      const limited = await service().channels.enqueue({
        dedupeKey: key('slack-429'),
        channel: 'slack',
        to: 'C0GENERAL01',
        content: { text: 'later' },
      });
      expect(await settled(limited.id)).toMatchObject({ status: 'sent', attempts: 2 });
    });
  });

  describe('bulk enqueue and preconditions', () => {
    it('queues many at once: each input gets its result, bad ones rejected with reasons', async () => {
      const existingKey = key('bulk-existing');
      await service().channels.enqueue({
        dedupeKey: existingKey,
        channel: 'email',
        to: 'old@example.com',
        content: { subject: 's', text: 't' },
      });
      const suppressedPhone = nextPhone();
      await service().db.query("insert into sms_suppressions (phone, reason) values ($1, 'manual')", [
        suppressedPhone,
      ]);
      const fresh = key('bulk-fresh');
      const results = await service().channels.enqueueMany([
        { dedupeKey: fresh, channel: 'email', to: 'new@example.com', content: { subject: 's', text: 't' } },
        { dedupeKey: fresh, channel: 'email', to: 'new@example.com', content: { subject: 's', text: 't' } },
        {
          dedupeKey: existingKey,
          channel: 'email',
          to: 'old@example.com',
          content: { subject: 's', text: 't' },
        },
        { dedupeKey: key('bulk-bad'), channel: 'sms', to: 'not a phone', content: { body: 'x' } },
        { dedupeKey: key('bulk-suppressed'), channel: 'sms', to: suppressedPhone, content: { body: 'x' } },
      ]);
      expect(results[0]).toMatchObject({ created: true, status: 'queued' });
      expect(results[1]).toMatchObject({ created: false, id: (results[0] as { id: string }).id });
      expect(results[2]).toMatchObject({ created: false });
      expect(results[3]).toMatchObject({ rejected: [{ field: 'to' }] });
      expect(results[4]).toMatchObject({ created: true, status: 'suppressed' });
      await settled((results[0] as { id: string }).id);
      expect(
        providers.sendgrid.sentMessages.filter((m) => m.recipients.includes('new@example.com')),
      ).toHaveLength(1);
    });

    it('cancels a message whose precondition fails when its turn comes', async () => {
      let wanted = true;
      service().channels.registerPrecondition(`test.wanted.${kind}`, async (metas) =>
        metas.map((meta) => (wanted ? null : `no longer wanted: ${meta.thing}`)),
      );
      const meta = { precondition: `test.wanted.${kind}`, thing: 'INV-9' };
      const later = await service().channels.enqueue({
        dedupeKey: key('pre-cancel'),
        channel: 'email',
        to: 'pre@example.com',
        content: { subject: 's', text: 't' },
        sendAfter: new Date(Date.now() + 800),
        meta,
      });
      wanted = false;
      const done = await settled(later.id, ['cancelled', 'sent']);
      expect(done).toMatchObject({ status: 'cancelled', last_error: 'no longer wanted: INV-9' });
      wanted = true;
      const now = await service().channels.enqueue({
        dedupeKey: key('pre-send'),
        channel: 'email',
        to: 'pre@example.com',
        content: { subject: 's', text: 't' },
        meta,
      });
      expect((await settled(now.id, ['cancelled', 'sent'])).status).toBe('sent');
    });
  });

  describe('the operator API', () => {
    it('pages through rows one transaction enqueued (one created_at) without skipping or repeating any', async () => {
      const prefix = key('page');
      // One statement, one transaction, one now(): every row has the same created_at to the microsecond.
      // Sent later, so nothing changes under the pages.
      const results = await service().channels.enqueueMany(
        Array.from({ length: 7 }, (_, i) => ({
          dedupeKey: `${prefix}:${i}`,
          channel: 'email' as const,
          to: `page${i}@example.com`,
          content: { subject: 's', text: 't' },
          sendAfter: new Date(Date.now() + 3_600_000),
        })),
      );
      const [{ distinct }] = (await service().db.query<{ distinct: number }>(
        'select count(distinct created_at)::int as distinct from outbox_messages where dedupe_key like $1',
        [`${prefix}:%`],
      )) as [{ distinct: number }];
      expect(distinct).toBe(1);
      const seen: string[] = [];
      let url = `/outbox?key=${encodeURIComponent(`${prefix}:*`)}&limit=3`;
      for (let page = 0; page < 5; page++) {
        const body = (await service().app.inject(url)).json() as {
          messages: Array<{ id: string }>;
          next: string | null;
        };
        seen.push(...body.messages.map((m) => m.id));
        if (!body.next) break;
        url = `/outbox?key=${encodeURIComponent(`${prefix}:*`)}&limit=3&before=${body.next}`;
      }
      expect(seen).toHaveLength(7);
      expect(new Set(seen)).toEqual(new Set(results.map((r) => (r as { id: string }).id)));
    });

    it('lists rows by status, channel and key prefix, and shows one', async () => {
      const prefix = key('api');
      const result = await service().channels.enqueue({
        dedupeKey: `${prefix}:a`,
        channel: 'email',
        to: 'a@example.com',
        content: { subject: 's', text: 't' },
      });
      await settled(result.id);
      const list = await service().app.inject(
        `/outbox?key=${encodeURIComponent(`${prefix}:*`)}&channel=email`,
      );
      expect(list.statusCode).toBe(200);
      expect(list.json().messages).toEqual([
        expect.objectContaining({ id: result.id, status: 'sent', to: 'a@example.com', attempts: 1 }),
      ]);
      const one = await service().app.inject(`/outbox/${result.id}`);
      expect(one.json()).toMatchObject({ id: result.id, dedupeKey: `${prefix}:a`, driver: 'sendgrid' });
      expect((await service().app.inject('/outbox/00000000-0000-4000-8000-000000000000')).statusCode).toBe(
        404,
      );
      expect((await service().app.inject('/outbox?status=lost')).json().error.code).toBe('invalid_input');
    });
  });
});
