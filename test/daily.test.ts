// The daily messages app end to end: the real service on PGlite and PostgreSQL, SMS through the
// Twilio fake, text from a fake OpenAI-compatible server through the real AI SDK provider.
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyApp } from '../src/apps/daily/app.ts';
import { createDailyMetrics } from '../src/apps/daily/metrics.ts';
import { type PlanDeps, planDaily } from '../src/apps/daily/planning.ts';
import { RELEASE_AHEAD_SECONDS, releaseDue } from '../src/apps/daily/release.ts';
import { loadConfig } from '../src/config.ts';
import { createLanguageModels } from '../src/platform/ai/client.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { type FakeOpenAI, startFakeOpenAI } from './fakes/openai.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { type Providers, startProviders } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const KEY = 'sk-test-key-for-the-fake';
let phoneCounter = 100;
const nextPhone = () => `+1212555${String(phoneCounter++).padStart(4, '0')}`;
const clock = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
/**
 * `zone`, unless its local time is within an hour or two of midnight, where a window "around now"
 * is cut at 24:00 and a local day can end between planning and sending; then a zone where it is
 * daytime now. For the tests that wait for a message planned now to be sent, at any hour of the day.
 */
function awayFromMidnight(zone: string): string {
  const daytime = (z: string) => {
    const hour = DateTime.now().setZone(z).hour;
    return hour >= 1 && hour < 22;
  };
  if (daytime(zone)) return zone;
  const other = ['Asia/Tokyo', 'Europe/Berlin', 'America/New_York', 'Pacific/Honolulu'].find(daytime);
  if (!other) throw new Error('no daytime zone among the candidates');
  return other;
}

/** A window in `zone` that contains the present moment (so a planned message is due now). */
function windowAroundNow(zone: string): string {
  const local = DateTime.now().setZone(zone);
  const minute = local.hour * 60 + local.minute;
  const start = Math.max(0, minute - 60);
  const end = Math.min(1440, Math.max(minute + 120, start + 60));
  return `${clock(start)}-${clock(end)}`;
}

/** A window in `zone` that opens an hour from now or later (tomorrow, late in the evening). */
function windowLater(zone: string): string {
  const local = DateTime.now().setZone(zone);
  const minute = local.hour * 60 + local.minute;
  return minute + 120 <= 1440
    ? `${clock(minute + 60)}-${clock(minute + 120)}`
    : `${clock(minute - 180)}-${clock(minute - 120)}`;
}

describe.each(databaseKinds)('daily messages on %s', (kind) => {
  let providers: Providers;
  let openai: FakeOpenAI;
  let target: TestDatabase;
  let running: TestService;
  const app = () => running.service.app;
  const db = () => running.service.db;
  const post = (url: string, payload?: object) =>
    app().inject({ method: 'POST', url, ...(payload ? { payload } : {}) });
  const subscribe = async (body: Record<string, unknown>) => {
    const response = await post('/subscribers', body);
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json() as { id: string; phone: string; timeZone: string; window: string };
  };
  /** Plan deps over the running service, with a language model of the test's choosing. */
  const planDeps = (env: Record<string, string> = {}, extra: Partial<PlanDeps> = {}): PlanDeps => {
    const config = loadConfig({ LOG_LEVEL: 'silent', ...aiEnv(), ...env });
    const metrics = createMetrics({ processMetrics: false });
    return {
      db: db(),
      channels: running.service.channels,
      ai: createLanguageModels({
        config: config.ai,
        db: db(),
        metrics,
        log: running.logs.log,
        retryBaseMs: 10,
      }),
      config: { daily: { ...config.daily } },
      log: running.logs.log,
      metrics: createDailyMetrics(metrics),
      ...extra,
    };
  };
  const aiEnv = () => ({
    AI_PROVIDER: 'openai-compatible',
    AI_BASE_URL: openai.baseUrl,
    AI_API_KEY: KEY,
    AI_MODEL: 'llama3.2:1b',
  });
  const outboxFor = (phone: string) =>
    db().query<{ id: string; status: string; dedupe_key: string; content: { body: string } }>(
      'select id, status, dedupe_key, content from outbox_messages where recipient = $1 order by created_at',
      [phone],
    );

  beforeAll(async () => {
    providers = await startProviders();
    openai = await startFakeOpenAI({ apiKey: KEY });
    target = await createTestDatabase(kind);
    running = await startTestService(kind, {
      target,
      apps: [dailyApp],
      env: { ...providers.env, ...aiEnv(), DAILY_CONFIG_RATE_LIMIT: '1000' },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
    await openai?.close();
    await target?.drop();
  });

  describe('subscribers', () => {
    it('validates numbers and zones, derives a single-zone country, merges duplicates', async () => {
      const uk = await subscribe({ phone: '+44 7400 123456', name: 'Ada' });
      expect(uk).toMatchObject({ phone: '+447400123456', timeZone: 'Europe/London', window: '12:00-17:00' });
      const again = await post('/subscribers', { phone: '+447400123456', window: '09:00-11:00' });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ id: uk.id, window: '09:00-11:00', name: 'Ada' });

      const cases: Array<[Record<string, unknown>, string]> = [
        [{ phone: '+1 212 555 0199' }, 'body.timeZone'],
        [{ phone: '+12125550198', timeZone: 'Mars/Olympus' }, 'body.timeZone'],
        [{ phone: '+12125550197', timeZone: 'EST' }, 'body.timeZone'],
        [{ phone: '12345', timeZone: 'America/New_York' }, 'body.phone'],
        [{ phone: '+12125550196', timeZone: 'America/New_York', window: '17:00-12:00' }, 'body.window'],
        [{ phone: '+12125550195', timeZone: 'America/New_York', colour: 'red' }, 'body'],
      ];
      for (const [body, field] of cases) {
        const response = await post('/subscribers', body);
        expect(response.statusCode, JSON.stringify(body)).toBe(400);
        expect(response.json().error.code).toBe('invalid_input');
        expect(response.json().error.details.map((d: { field: string }) => d.field)).toContain(field);
      }
      const zone = (await post('/subscribers', cases[1]?.[0])).json().error.details[0].message;
      expect(zone).toContain('not an IANA time zone');

      const bulk = await post('/subscribers', {
        subscribers: [
          { phone: '+12125550190', timeZone: 'america/chicago' },
          { phone: '+12125550190', timeZone: 'America/Denver' },
          { phone: 'nope', timeZone: 'UTC' },
        ],
      });
      expect(bulk.statusCode).toBe(400);
      expect(bulk.json().error.details[0].field).toBe('body.subscribers.2.phone');
      const nothing = (await app().inject('/subscribers?limit=1000')).json().subscribers;
      expect(nothing.some((s: { phone: string }) => s.phone === '+12125550190')).toBe(false);
    });

    it('changes window, zone and pause; deletes, keeping only the suppression list', async () => {
      const phone = nextPhone();
      const s = await subscribe({ phone, timeZone: 'America/New_York' });
      const patched = await app().inject({
        method: 'PATCH',
        url: `/subscribers/${s.id}`,
        payload: { window: '10:30-12:00', timeZone: 'Europe/Paris', paused: true },
      });
      expect(patched.json()).toMatchObject({ window: '10:30-12:00', timeZone: 'Europe/Paris', paused: true });
      const bad = await app().inject({
        method: 'PATCH',
        url: `/subscribers/${s.id}`,
        payload: { timeZone: 'Nowhere' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.details[0].field).toBe('body.timeZone');

      await running.service.channels.receiveSms({
        from: phone,
        to: '+15005550006',
        body: 'STOP',
        providerId: 'SMstopdel',
      });
      expect((await app().inject({ method: 'DELETE', url: `/subscribers/${s.id}` })).statusCode).toBe(204);
      expect((await app().inject(`/subscribers/${s.id}`)).statusCode).toBe(404);
      expect((await app().inject({ method: 'DELETE', url: `/subscribers/${s.id}` })).statusCode).toBe(404);
      expect(await db().query('select 1 from daily_subscribers where phone = $1', [phone])).toHaveLength(0);
      expect(await db().query('select 1 from sms_suppressions where phone = $1', [phone])).toHaveLength(1);
    });
  });

  describe('planning and sending', () => {
    const zones = [
      'America/New_York',
      'Europe/London',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Pacific/Kiritimati',
    ];

    it('plans one message per subscriber per local day across zones; re-runs and restarts add nothing', async () => {
      const subs: Array<Awaited<ReturnType<typeof subscribe>>> = [];
      for (const zone of zones)
        subs.push(await subscribe({ phone: nextPhone(), timeZone: zone, window: windowAroundNow(zone) }));
      const opted = await subscribe({ phone: nextPhone(), timeZone: 'UTC', window: windowAroundNow('UTC') });
      await running.service.channels.receiveSms({
        from: opted.phone,
        to: '+15005550006',
        body: 'stop',
        providerId: 'SMstop1',
      });

      const deps = planDeps({}, { random: () => 0 });
      const first = await planDaily(deps);
      expect(first.planned).toBeGreaterThanOrEqual(zones.length);
      for (const s of subs) {
        const rows = await outboxFor(s.phone);
        expect(rows).toHaveLength(1);
        const localDate = DateTime.now().setZone(s.timeZone).toISODate();
        expect(rows[0]?.dedupe_key).toBe(`daily:${s.id}:${localDate}`);
      }
      expect(await outboxFor(opted.phone)).toHaveLength(0);

      // Again, concurrently, and through the API (the scheduled job's path): nothing new.
      const again = await Promise.all([planDaily(deps), planDaily(planDeps()), post('/daily/plan')]);
      expect(again[0].planned + again[1].planned).toBe(0);
      expect(again[2].json().planned).toBe(0);

      await waitFor('daily messages at Twilio', () =>
        subs.every((s) => providers.twilio.sentMessages.some((m) => m.to === s.phone)),
      );
      for (const s of subs)
        expect(providers.twilio.sentMessages.filter((m) => m.to === s.phone)).toHaveLength(1);
      const text = providers.twilio.sentMessages.find((m) => m.to === subs[0]?.phone)?.body ?? '';
      expect(text).toContain('small steps');
      expect(openai.chats().length).toBeGreaterThan(0);

      // The delivery report lands on the history: once the worker has recorded the send (Twilio has
      // the message a moment before the row has its SID).
      const sent = providers.twilio.sentMessages.find((m) => m.to === subs[0]?.phone);
      if (!sent) throw new Error('not sent');
      await waitFor(
        'the send recorded',
        async () => (await outboxFor(sent.to))[0]?.status === 'sent' || undefined,
      );
      providers.twilio.setStatus(sent.sid, 'delivered');
      const cb = providers.twilio.statusCallback(sent.sid);
      const callback = await app().inject({
        method: 'POST',
        url: new URL(cb.url).pathname,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': cb.signature },
        payload: new URLSearchParams(cb.params).toString(),
      });
      expect(callback.statusCode).toBe(204);
      const history = (await app().inject(`/subscribers/${subs[0]?.id}/messages`)).json().messages;
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ status: 'delivered', source: 'model', body: text });
    });

    it('STOP, PAUSE or DELETE between planning and sending: nothing is sent', async () => {
      const zone = awayFromMidnight('Europe/Berlin');
      const stop = await subscribe({ phone: nextPhone(), timeZone: zone, window: windowAroundNow(zone) });
      const pause = await subscribe({ phone: nextPhone(), timeZone: zone, window: windowAroundNow(zone) });
      const gone = await subscribe({ phone: nextPhone(), timeZone: zone, window: windowAroundNow(zone) });
      const kept = await subscribe({ phone: nextPhone(), timeZone: zone, window: windowAroundNow(zone) });
      // Sends due three seconds from now.
      const result = await planDaily(
        planDeps({}, { random: () => 0, now: () => new Date(Date.now() + 3000) }),
      );
      expect(result.planned).toBe(4);
      await running.service.channels.receiveSms({
        from: stop.phone,
        to: '+15005550006',
        body: 'STOP',
        providerId: 'SMstop2',
      });
      await running.service.channels.receiveSms({
        from: pause.phone,
        to: '+15005550006',
        body: 'PAUSE 7',
        providerId: 'SMpause',
      });
      await app().inject({ method: 'DELETE', url: `/subscribers/${gone.id}` });

      await waitFor('the kept subscriber is texted', () =>
        providers.twilio.sentMessages.some((m) => m.to === kept.phone),
      );
      await waitFor('the others settle', async () => {
        const rows = await db().query<{ status: string }>(
          "select status from outbox_messages where dedupe_key like 'daily:%' and recipient = any($1)",
          [[stop.phone, pause.phone, gone.phone]],
        );
        return rows.length === 3 && rows.every((r) => r.status === 'suppressed' || r.status === 'cancelled');
      });
      const daily = providers.twilio.sentMessages.filter((m) => [stop.phone, gone.phone].includes(m.to));
      expect(daily).toHaveLength(0);
      const toPaused = providers.twilio.sentMessages.filter((m) => m.to === pause.phone).map((m) => m.body);
      expect(toPaused).toEqual([
        expect.stringMatching(/^Paused\. Your daily messages resume on \d{4}-\d{2}-\d{2}\.$/),
      ]);
    });

    it('holds a message until its release; STOP or DELETE before it: nothing queued; concurrent releases queue each once', async () => {
      const zone = 'Europe/Madrid';
      const kept = await subscribe({ phone: nextPhone(), timeZone: zone, window: windowLater(zone) });
      const stop = await subscribe({ phone: nextPhone(), timeZone: zone, window: windowLater(zone) });
      const gone = await subscribe({ phone: nextPhone(), timeZone: zone, window: windowLater(zone) });
      // Send times an hour away or more: beyond the release horizon, so the plan queues nothing for them.
      const result = await planDaily(planDeps({}, { random: () => 0 }));
      expect(result.planned).toBeGreaterThanOrEqual(3);
      for (const s of [kept, stop, gone]) expect(await outboxFor(s.phone)).toHaveLength(0);
      const waiting = (await app().inject(`/subscribers/${kept.id}/messages`)).json().messages;
      expect(waiting).toEqual([expect.objectContaining({ status: 'planned', outboxId: null })]);
      expect(new Date(waiting[0].sendAt).getTime()).toBeGreaterThan(Date.now() + 3000_000);

      await running.service.channels.receiveSms({
        from: stop.phone,
        to: '+15005550006',
        body: 'STOP',
        providerId: 'SMstop-release',
      });
      expect((await app().inject({ method: 'DELETE', url: `/subscribers/${gone.id}` })).statusCode).toBe(204);
      expect(
        await db().query('select 1 from daily_messages where subscriber_id = $1', [gone.id]),
      ).toHaveLength(0);

      // The release when they are due, by two workers at once: each waiting row is taken by one of them.
      const at = new Date(new Date(waiting[0].sendAt).getTime() + 60_000);
      const until = new Date(at.getTime() + RELEASE_AHEAD_SECONDS * 1000);
      const [{ n }] = (await db().query<{ n: number }>(
        'select count(*)::int as n from daily_messages where queued_at is null and send_at <= $1',
        [until.toISOString()],
      )) as [{ n: number }];
      const release = () =>
        releaseDue({
          db: db(),
          channels: running.service.channels,
          log: running.logs.log,
          now: () => at,
          batchSize: 2,
        });
      const [a, b] = await Promise.all([release(), release()]);
      expect(a + b).toBe(n);
      expect(await release()).toBe(0);
      const keptRows = await outboxFor(kept.phone);
      expect(keptRows).toHaveLength(1);
      expect(keptRows[0]).toMatchObject({
        status: 'queued',
        dedupe_key: `daily:${kept.id}:${waiting[0].localDate}`,
      });
      expect((await outboxFor(stop.phone)).map((r) => r.status)).toEqual(['suppressed']);
      expect(await outboxFor(gone.phone)).toHaveLength(0);
      const queued = (await app().inject(`/subscribers/${kept.id}/messages`)).json().messages;
      expect(queued).toEqual([expect.objectContaining({ status: 'queued', outboxId: keptRows[0]?.id })]);
    });

    it('falls back to the offline library on provider timeouts and when the budget is spent', async () => {
      const zone = awayFromMidnight('Asia/Tokyo');
      const fr = await subscribe({
        phone: nextPhone(),
        timeZone: zone,
        window: windowAroundNow(zone),
        language: 'fr',
      });
      openai.inject({ hang: true, times: 10 });
      // random 0: due now, so queued in the outbox as the plan ends.
      const slow = await planDaily(
        planDeps({ AI_TIMEOUT_SECONDS: '0.3', AI_MAX_RETRIES: '0' }, { random: () => 0 }),
      );
      openai.clearFaults();
      expect(slow.contents).toContainEqual(
        expect.objectContaining({ audience: 'fr', source: 'offline', reason: 'timeout' }),
      );
      expect((await outboxFor(fr.phone))[0]?.content.body).toMatch(/\.$/);

      const de = await subscribe({
        phone: nextPhone(),
        timeZone: zone,
        window: windowAroundNow(zone),
        language: 'de',
      });
      const before = openai.requests.length;
      const broke = await planDaily(planDeps({ AI_DAILY_TOKEN_BUDGET: '1' }, { random: () => 0 }));
      expect(broke.contents).toContainEqual(
        expect.objectContaining({ audience: 'de', source: 'offline', reason: 'budget_exhausted' }),
      );
      expect(openai.requests.length).toBe(before);
      expect(await outboxFor(de.phone)).toHaveLength(1);
    });

    it('never repeats: a model answer seen before is regenerated, then replaced; a recipient who had the text gets their own', async () => {
      const zone = awayFromMidnight('America/Sao_Paulo');
      const es = await subscribe({
        phone: nextPhone(),
        timeZone: zone,
        window: windowAroundNow(zone),
        language: 'es',
      });
      const today = DateTime.now().setZone(zone);
      const yesterday = today.minus({ days: 1 }).toISODate();
      const same = 'Hoy es un buen dia para empezar algo nuevo. Adelante.';
      await db().query(
        "insert into daily_contents (local_date, audience, body, fingerprint, source) values ($1, 'es', $2, 'x', 'model')",
        [yesterday, same],
      );
      const original = openai.reply;
      openai.reply = () => `  "${same.toUpperCase()}"  `;
      const chatsBefore = openai.chats().length;
      const repeated = await planDaily(planDeps({}, { random: () => 0 }));
      expect(openai.chats().length - chatsBefore).toBe(3);
      expect(repeated.contents).toContainEqual(
        expect.objectContaining({ audience: 'es', source: 'offline' }),
      );
      expect((await outboxFor(es.phone))[0]?.content.body).not.toContain('buen dia');

      // Per recipient: the audience text is new, but this subscriber already had it.
      const it2 = await subscribe({
        phone: nextPhone(),
        timeZone: zone,
        window: windowAroundNow(zone),
        language: 'it',
      });
      const fresh = 'Ogni piccolo passo conta. Continua cosi, stai andando bene.';
      openai.reply = () => fresh;
      const { fingerprint } = await import('../src/apps/daily/similarity.ts');
      await db().query(
        "insert into daily_messages (subscriber_id, local_date, send_at, body, fingerprint, source, queued_at) values ($1, $2, now(), $3, $4, 'model', now())",
        [it2.id, yesterday, fresh, fingerprint(fresh)],
      );
      const personal = await planDaily(planDeps({}, { random: () => 0 }));
      openai.reply = original;
      expect(personal.personalised).toBe(1);
      const body = (await outboxFor(it2.phone))[0]?.content.body ?? '';
      expect(body).not.toBe(fresh);
      expect(body.length).toBeGreaterThan(20);
    });

    it('caps sends at the daily quota and keeps every text to one segment', async () => {
      const zone = 'Africa/Nairobi';
      const many: Array<Awaited<ReturnType<typeof subscribe>>> = [];
      for (let i = 0; i < 4; i += 1)
        many.push(
          await subscribe({
            phone: nextPhone(),
            timeZone: zone,
            window: windowAroundNow(zone),
            language: 'sw',
          }),
        );
      const localDate = DateTime.now().setZone(zone).toISODate();
      const [{ n }] = (await db().query<{ n: string }>(
        'select count(*) as n from daily_messages where local_date = $1',
        [localDate],
      )) as [{ n: string }];
      const deps = planDeps({}, { random: () => 0 });
      deps.config.daily.quota = Number(n) + 2;
      openai.reply = () => 'x '.repeat(200);
      const capped = await planDaily(deps);
      expect(capped.planned).toBe(2);
      expect(capped.overQuota).toBeGreaterThanOrEqual(2);
      const bodies = (await Promise.all(many.map((s) => outboxFor(s.phone))))
        .flat()
        .map((r) => r.content.body);
      expect(bodies).toHaveLength(2);
      for (const b of bodies) expect(b.length).toBeLessThanOrEqual(160);
    });
  });

  describe('two-way SMS', () => {
    it('TIME moves the window, anything else gets help at most once a day', async () => {
      const s = await subscribe({ phone: nextPhone(), timeZone: 'America/Chicago' });
      const receive = (body: string, id: string) =>
        running.service.channels.receiveSms({ from: s.phone, to: '+15005550006', body, providerId: id });
      expect(await receive('TIME 9-11', 'SMt1')).toBe('handled');
      expect((await app().inject(`/subscribers/${s.id}`)).json().window).toBe('09:00-11:00');
      expect(await receive('TIME 11-9', 'SMt2')).toBe('handled');
      expect(await receive('thank you!', 'SMh1')).toBe('handled');
      expect(await receive('love these', 'SMh2')).toBe('handled');
      expect(await receive('HELP', 'SMh3')).toBe('help_sent');
      await waitFor(
        'replies',
        () => providers.twilio.sentMessages.filter((m) => m.to === s.phone).length >= 4,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const bodies = providers.twilio.sentMessages.filter((m) => m.to === s.phone).map((m) => m.body);
      expect(bodies.filter((b) => b.startsWith('Daily messages:'))).toHaveLength(1);
      expect(bodies).toContain('Done: your daily message now comes between 09:00 and 11:00.');
      expect(bodies.some((b) => b.includes('at least an hour'))).toBe(true);
      // HELP itself is the platform's answer, not ours.
      expect(bodies.filter((b) => b.includes('Reply STOP to unsubscribe'))).toHaveLength(1);
      // Numbers that are not subscribers are left to others.
      expect(
        await running.service.channels.receiveSms({
          from: '+12125550999',
          to: '+15005550006',
          body: 'hi',
          providerId: 'SMx',
        }),
      ).toBe('unhandled');
    });
    it('TIME moves the message still waiting into the new window and drops one whose new window is over', async () => {
      const zone = 'Asia/Tokyo';
      const s = await subscribe({ phone: nextPhone(), timeZone: zone });
      const local = DateTime.now().setZone(zone);
      const dateIn = (days: number) => local.plus({ days }).toISODate() as string;
      const yesterday = dateIn(-1);
      const today = dateIn(0);
      const tomorrow = dateIn(1);
      const insert = (localDate: string, sendAt: Date, queued: boolean) =>
        db().query(
          `insert into daily_messages (subscriber_id, local_date, send_at, body, fingerprint, source, queued_at)
           values ($1, $2, $3, 'planned', 'f', 'offline', ${queued ? 'now()' : 'null'})`,
          [s.id, localDate, sendAt],
        );
      const queuedAt = new Date(Date.now() + 60_000);
      await insert(yesterday, new Date(Date.now() + 3_600_000), false);
      await insert(today, queuedAt, true);
      await insert(tomorrow, new Date(Date.now() + 86_400_000), false);
      const receive = (body: string, id: string) =>
        running.service.channels.receiveSms({ from: s.phone, to: '+15005550006', body, providerId: id });
      expect(await receive('TIME 9-11', 'SMmove1')).toBe('handled');
      const rows = await db().query<{ local_date: string; send_at: Date; queued_at: Date | null }>(
        "select to_char(local_date, 'YYYY-MM-DD') as local_date, send_at, queued_at from daily_messages where subscriber_id = $1 order by local_date",
        [s.id],
      );
      // Yesterday's 09:00-11:00 is over: out of the plan. Today's is already in the outbox: left.
      expect(rows.map((r) => r.local_date)).toEqual([today, tomorrow]);
      expect(new Date(rows[0]?.send_at as Date).getTime()).toBe(queuedAt.getTime());
      const moved = DateTime.fromJSDate(new Date(rows[1]?.send_at as Date)).setZone(zone);
      expect(moved.toISODate()).toBe(tomorrow);
      expect(moved.hour * 60 + moved.minute).toBeGreaterThanOrEqual(9 * 60);
      expect(moved.hour * 60 + moved.minute).toBeLessThan(11 * 60);
    });
  });

  describe('retention and limits', () => {
    it('cleanup removes history past the horizon and old finished outbox rows', async () => {
      const s = await subscribe({ phone: nextPhone(), timeZone: 'UTC' });
      await db().query(
        "insert into daily_messages (subscriber_id, local_date, send_at, body, fingerprint, source, queued_at) values ($1, '2020-01-01', now(), 'old', 'f', 'offline', now())",
        [s.id],
      );
      await db().query(
        "insert into outbox_messages (dedupe_key, channel, recipient, content, status, created_at) values ('daily:old:2020-01-01', 'sms', $1, '{\"body\":\"old\"}', 'delivered', now() - interval '400 days'), ('other-app:old', 'sms', $1, '{\"body\":\"x\"}', 'delivered', now() - interval '400 days')",
        [s.phone],
      );
      const removed = (await post('/daily/cleanup')).json();
      expect(removed.history).toBeGreaterThanOrEqual(1);
      expect(removed.outbox).toBeGreaterThanOrEqual(1);
      expect(
        await db().query("select 1 from outbox_messages where dedupe_key = 'other-app:old'"),
      ).toHaveLength(1);
      expect(await db().query("select 1 from daily_messages where local_date = '2020-01-01'")).toHaveLength(
        0,
      );
    });

    it('reports the model in /info', async () => {
      expect((await app().inject('/info')).json().drivers.ai).toBe('openai-compatible:llama3.2:1b');
    });

    it('rate-limits subscriber changes (DAILY_CONFIG_RATE_LIMIT), not health', async () => {
      const limited = await startTestService(kind, {
        apps: [dailyApp],
        env: { DAILY_CONFIG_RATE_LIMIT: '3' },
      });
      try {
        const url = '/subscribers/00000000-0000-4000-8000-000000000000';
        const codes = [];
        for (let i = 0; i < 4; i += 1)
          codes.push(
            (await limited.service.app.inject({ method: 'PATCH', url, payload: { paused: true } }))
              .statusCode,
          );
        expect(codes).toEqual([404, 404, 404, 429]);
        expect((await limited.service.app.inject('/health/live')).statusCode).toBe(200);
        expect((await limited.service.app.inject('/info')).json().drivers.ai).toBe('offline');
      } finally {
        await limited.dispose();
      }
    });
  });
});
