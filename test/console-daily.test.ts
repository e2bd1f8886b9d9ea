// The daily messages app's console past its first screen (the real service with the app, PGlite):
// subscribers paged 50 at a time and filtered by state, each subscriber's state and messages with
// their delivery, the consent history paged, bad filters and unknown subscribers as error pages,
// and "Plan now" with nobody to plan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyApp } from '../src/apps/daily/app.ts';
import { type ConsoleSession, openConsole, text } from './helpers/console.ts';
import { startTestService, type TestService } from './helpers/service.ts';

describe('the daily console', () => {
  let running: TestService;
  let operator: ConsoleSession;
  const app = () => running.service.app;
  const db = () => running.service.db;
  const subscribe = async (phone: string, name: string, extra: Record<string, unknown> = {}) => {
    const response = await app().inject({
      method: 'POST',
      url: '/subscribers',
      payload: { phone, name, timeZone: 'America/New_York', window: '09:00-17:00', ...extra },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { id: string; phone: string };
  };

  beforeAll(async () => {
    running = await startTestService('pglite', { apps: [dailyApp] });
    operator = await openConsole(app());
  });
  afterAll(() => running?.dispose());

  it('shows an empty plan, no consent events, and plans nothing when nobody subscribed', async () => {
    const page = text(await operator.page('/console/daily'));
    expect(page).toContain('No subscriber matches.');
    expect(page).toContain('Nothing sent or planned in these hours.');
    expect(page).toContain('No opt-out or opt-in yet.');
    expect(page).not.toContain('rel="next"');
    const landed = await operator.act('/console/daily/plan');
    expect(landed).toMatch(/^\/console\/daily\?done=/);
    expect(text(await operator.page(landed))).toMatch(
      /Planned 0 messages \(0 queued now, 0 over the daily quota/,
    );
  });

  it('pages subscribers 50 at a time and filters paused ones', async () => {
    const bulk = await app().inject({
      method: 'POST',
      url: '/subscribers',
      payload: {
        subscribers: Array.from({ length: 55 }, (_, i) => ({
          phone: `+1415556${String(i).padStart(4, '0')}`,
          name: `Bulk ${i}`,
          timeZone: 'Europe/Paris',
          window: '10:00-12:00',
        })),
      },
    });
    expect(bulk.statusCode, bulk.body).toBe(201);
    const paused = await subscribe('+14155550201', 'Paula Paused');
    expect(
      (await app().inject({ method: 'PATCH', url: `/subscribers/${paused.id}`, payload: { paused: true } }))
        .statusCode,
    ).toBe(200);

    const first = await operator.page('/console/daily?timeZone=Europe/Paris');
    const next = /href="(\/console\/daily\?[^"]+)" rel="next"/.exec(first)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toContain('after=');
    expect(next).toContain('timeZone=Europe%2FParis');
    expect((first.match(/Bulk \d+/g) ?? []).length).toBe(50);
    const second = await operator.page(next as string);
    expect((second.match(/Bulk \d+/g) ?? []).length).toBe(5);
    expect(second).not.toContain('rel="next"');
    // Back to the first page keeps the filter, drops the cursor.
    expect(second).toContain('href="/console/daily?timeZone=Europe%2FParis">First</a>');

    const pausedOnly = text(await operator.page('/console/daily?paused=true'));
    expect(pausedOnly).toContain('Paula Paused');
    expect(pausedOnly).toContain('paused');
    expect(pausedOnly).not.toContain('Bulk 1 ');
    expect(text(await operator.page('/console/daily?window=10:00-12:00&q=Bulk%2054'))).toContain('Bulk 54');
    const one = text(await operator.page(`/console/daily/subscribers/${paused.id}`));
    expect(one).toContain('Paula Paused');
    expect(one).toMatch(/State paused/);
    expect(one).toContain('Nothing planned for this subscriber yet.');
    expect(one).toContain('Opted out no');
  });

  it('shows a subscriber who texted PAUSE 7 as paused to a date, and one without a name', async () => {
    const pat = await subscribe('+14155550211', 'Pat Pause');
    const pause = await app().inject({
      method: 'POST',
      url: '/sandbox/sms/inbound',
      payload: { from: '+14155550211', body: 'PAUSE 7' },
    });
    expect(pause.statusCode).toBe(202);
    const [stored] = await db().query<{ paused_until: string }>(
      'select paused_until::text from daily_subscribers where id = $1',
      [pat.id],
    );
    expect(stored?.paused_until).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const one = text(await operator.page(`/console/daily/subscribers/${pat.id}`));
    expect(one).toContain(`State paused to ${stored?.paused_until}`);
    expect(one).toContain(`Paused until ${stored?.paused_until}`);

    const created = await app().inject({
      method: 'POST',
      url: '/subscribers',
      payload: { phone: '+14155550212', timeZone: 'Asia/Tokyo', window: '08:00-09:00' },
    });
    expect(created.statusCode).toBe(201);
    expect(text(await operator.page('/console/daily?timeZone=Asia/Tokyo'))).toMatch(
      /\+14155550212 Asia\/Tokyo 08:00-09:00 en active/,
    );
  });

  it('answers a filter it does not understand with 400 and an unknown subscriber with 404', async () => {
    const bad = await operator.get('/console/daily?window=nine&paused=maybe');
    expect(bad.statusCode).toBe(400);
    expect(text(bad.body)).toContain('Filter not understood: window: a window such as 09:00-17:00');
    expect(text(bad.body)).toContain('paused');
    const unknown = await operator.get('/console/daily/subscribers/00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    expect(text(unknown.body)).toContain('Subscriber 00000000-0000-4000-8000-000000000000');
    expect((await operator.get('/console/daily/subscribers/not-a-uuid')).statusCode).toBe(404);
    const cursor = await operator.get('/console/daily/consent?before=yesterday');
    expect(cursor.statusCode).toBe(400);
    expect(text(cursor.body)).toContain('`before` is not a cursor this page gave');
  });

  it('shows a subscriber’s messages: planned, removed, and sent or failed with the outbox’s status', async () => {
    const ada = await subscribe('+14155550301', 'Ada Messages');
    const insert = (date: string, body: string, queued: boolean) =>
      db().query(
        `insert into daily_messages (subscriber_id, local_date, send_at, body, fingerprint, source, queued_at)
         values ($1, $2, now() + interval '1 hour', $3, md5($3), 'offline', ${queued ? 'now()' : 'null'})`,
        [ada.id, date, body],
      );
    // Local dates from today on, all within the plan chart's hours.
    const [d1, d2, d3] = [0, 1, 2].map((days) =>
      new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10),
    );
    await insert(d1 as string, 'planned, not yet queued', false);
    await insert(d2 as string, 'queued, then removed from the outbox', true);
    await insert(d3 as string, 'queued and refused by the carrier', true);
    const queued = await running.service.channels.enqueue({
      dedupeKey: `daily:${ada.id}:${d3}`,
      channel: 'sms',
      to: ada.phone,
      content: { body: 'queued and refused by the carrier' },
      sendAfter: new Date(Date.now() + 24 * 3600_000),
    });
    await db().query(
      `update outbox_messages set status = 'failed', error_code = '30006', last_error = 'Landline or unreachable carrier' where id = $1`,
      [queued.id],
    );
    const one = await operator.page(`/console/daily/subscribers/${ada.id}`);
    const shown = text(one);
    expect(shown).toMatch(
      new RegExp(
        `${d3} [^A-Za-z]* UTC failed queued and refused by the carrier offline message Landline or unreachable carrier`,
      ),
    );
    expect(shown).toMatch(
      new RegExp(`${d2} [^A-Za-z]* UTC removed queued, then removed from the outbox offline`),
    );
    expect(shown).toMatch(new RegExp(`${d1} [^A-Za-z]* UTC planned planned, not yet queued offline`));
    expect(one).toContain(`href="/console/outbox/${queued.id}"`);

    // The plan's table counts each status, the outbox's and the plan's own (removed) alike.
    const plan = text(await operator.page('/console/daily'));
    expect(plan).toMatch(/Status Messages planned 1 failed 1 removed 1/);
  });

  it('pages the consent history 50 at a time and shows an opted-out subscriber as such', async () => {
    const out = await subscribe('+14155550401', 'Olive Out');
    await db().query(
      `insert into sms_consent_events (phone, event, source, detail, created_at)
       select '+14155550401', case when g % 2 = 0 then 'opt_in' else 'opt_out' end, 'keyword', 'event ' || g,
              now() - (g * interval '1 minute')
         from generate_series(1, 55) g`,
    );
    // The person texts STOP: the newest event, and the subscriber shows as opted out.
    const stop = await app().inject({
      method: 'POST',
      url: '/sandbox/sms/inbound',
      payload: { from: '+14155550401', body: 'STOP' },
    });
    expect(stop.statusCode).toBe(202);
    const first = await operator.page('/console/daily/consent?phone=%2B14155550401');
    expect(text(first)).toContain('event 1 ');
    // 56 events (the STOP newest): 50 on the first page, through event 49.
    expect(text(first)).toContain('event 49 ');
    expect(text(first)).not.toContain('event 50 ');
    const older = /href="(\/console\/daily\/consent\?[^"]+)" rel="next"/
      .exec(first)?.[1]
      ?.replace(/&amp;/g, '&');
    expect(older).toContain('phone=%2B14155550401');
    const second = text(await operator.page(older as string));
    expect(second).toContain('event 55 ');
    expect(second).toContain('event 50 ');
    expect(second).not.toContain('event 49 ');
    // The overview's last ten, with a link to the whole history.
    const overview = await operator.page('/console/daily');
    expect(overview).toContain('href="/console/daily/consent"');
    expect(text(overview)).toContain('event 1 ');
    const one = text(await operator.page(`/console/daily/subscribers/${out.id}`));
    expect(one).toContain('Olive Out');
    expect(one).toMatch(/State opted out Opted out \d{4}-\d{2}-\d{2} [\d:]+ UTC \(keyword\)/);
    expect(text(await operator.page('/console/daily?optedOut=true'))).toContain('Olive Out');
  });
});
