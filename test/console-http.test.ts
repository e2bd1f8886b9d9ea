// The console's HTTP rules, without a browser: sessions that expire, the login's guess limit and
// where it sends you after, the live refresh's fragment, and the outbox API's retry and cancel that
// the console's buttons share.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieOf, csrfOf } from './helpers/console.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const TOKEN = 'console-http-admin-token-0123456789';

describe('console over HTTP, with ADMIN_API_TOKEN', () => {
  let running: TestService;

  beforeAll(async () => {
    running = await startTestService('pglite', {
      env: { ADMIN_API_TOKEN: TOKEN, AUTH_FAILURE_RATE_LIMIT: '3' },
    });
  });
  afterAll(async () => {
    await running?.dispose();
  });

  const login = async (next = '/console', remoteAddress = '127.0.0.1') =>
    running.service.app.inject({
      method: 'POST',
      url: '/console/login',
      remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ name: 'Sam', token: TOKEN, next }).toString(),
    });

  it('sends a login only to a console path of this service', async () => {
    const inside = await login('/console/outbox?status=failed');
    expect(inside.statusCode).toBe(303);
    expect(inside.headers.location).toBe('/console/outbox?status=failed');
    for (const next of [
      'https://evil.example/console',
      '//evil.example/console',
      '/docs',
      'javascript:alert(1)',
    ]) {
      const response = await login(next);
      expect(response.headers.location).toBe('/console');
    }
  });

  it('limits wrong tokens per address: after the limit even the right one waits (429)', async () => {
    const wrong = () =>
      running.service.app.inject({
        method: 'POST',
        url: '/console/login',
        remoteAddress: '10.9.8.7',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'name=Eve&token=guess-guess-guess-guess',
      });
    for (let i = 0; i < 3; i++) expect((await wrong()).statusCode).toBe(401);
    const blocked = await login('/console', '10.9.8.7');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.body).toContain('Too many failed credentials');
    expect(blocked.headers['set-cookie']).toBeUndefined();
    // Another address is not held back by Eve's guesses.
    expect((await login('/console', '10.9.8.8')).statusCode).toBe(303);
  });

  it('asks for a name, since the audit log records who acted', async () => {
    const response = await running.service.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ name: '  ', token: TOKEN }).toString(),
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Give your name');
  });

  it('ends a session when it expires: the next page goes back to the login form', async () => {
    const cookie = cookieOf((await login()).headers);
    const ok = await running.service.app.inject({ url: '/console', headers: { cookie } });
    expect(ok.statusCode).toBe(200);
    await running.service.db.query(`update console_sessions set expires_at = now() - interval '1 second'`);
    const expired = await running.service.app.inject({ url: '/console/jobs', headers: { cookie } });
    expect(expired.statusCode).toBe(303);
    expect(expired.headers.location).toBe('/console/login?next=%2Fconsole%2Fjobs');
  });

  it('answers the live refresh with the main region only, never cached', async () => {
    const cookie = cookieOf((await login()).headers);
    const whole = await running.service.app.inject({ url: '/console/outbox', headers: { cookie } });
    const part = await running.service.app.inject({
      url: '/console/outbox',
      headers: { cookie, 'x-console-fragment': '1' },
    });
    expect(whole.body).toContain('<!doctype html>');
    expect(part.body).not.toContain('<!doctype html>');
    expect(part.body).toContain('<h1>Outbox</h1>');
    expect(part.headers['cache-control']).toBe('no-store');
  });

  it('logs out only with the session’s CSRF token', async () => {
    const cookie = cookieOf((await login()).headers);
    const page = await running.service.app.inject({ url: '/console', headers: { cookie } });
    const refused = await running.service.app.inject({
      method: 'POST',
      url: '/console/logout',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '_csrf=forged',
    });
    expect(refused.statusCode).toBe(403);
    expect((await running.service.app.inject({ url: '/console', headers: { cookie } })).statusCode).toBe(200);
    const out = await running.service.app.inject({
      method: 'POST',
      url: '/console/logout',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(csrfOf(page.body))}`,
    });
    expect(out.statusCode).toBe(303);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
  });
});

describe('outbox retry and cancel through the API', () => {
  let running: TestService;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    running = await startTestService('pglite', { env: { ADMIN_API_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await running?.dispose();
  });

  it('retries a failed message once (a second retry is 409) and cancels only what is queued', async () => {
    const { channels, db, app } = running.service;
    const failed = await channels.enqueue({
      dedupeKey: 'api:retry:1',
      channel: 'sms',
      to: '+14155550190',
      content: { body: 'Try me again' },
    });
    await waitFor('the first delivery', async () => {
      const [row] = await db.query<{ status: string }>('select status from outbox_messages where id = $1', [
        failed.id,
      ]);
      return row?.status === 'delivered';
    });
    // A retry of a delivered message would send it twice: refused.
    const early = await app.inject({ method: 'POST', url: `/outbox/${failed.id}/retry`, headers: auth });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('conflict');
    await db.query(
      `update outbox_messages set status = 'failed', last_error = 'carrier said no' where id = $1`,
      [failed.id],
    );
    const retried = await app.inject({ method: 'POST', url: `/outbox/${failed.id}/retry`, headers: auth });
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toMatchObject({ status: 'queued', attempts: 0, lastError: null });
    await waitFor('the retried delivery', async () => {
      const [row] = await db.query<{ status: string }>('select status from outbox_messages where id = $1', [
        failed.id,
      ]);
      return row?.status === 'delivered';
    });
    const sandbox = await db.query('select id from sandbox_messages where outbox_id = $1', [failed.id]);
    expect(sandbox).toHaveLength(2);

    const later = await channels.enqueue({
      dedupeKey: 'api:cancel:1',
      channel: 'sms',
      to: '+14155550191',
      content: { body: 'Not today' },
      sendAfter: new Date(Date.now() + 3600_000),
    });
    const cancelled = await app.inject({ method: 'POST', url: `/outbox/${later.id}/cancel`, headers: auth });
    expect(cancelled.json()).toMatchObject({
      status: 'cancelled',
      lastError: 'cancelled by api (admin token)',
    });
    const again = await app.inject({ method: 'POST', url: `/outbox/${later.id}/cancel`, headers: auth });
    expect(again.statusCode).toBe(409);
    const missing = await app.inject({
      method: 'POST',
      url: '/outbox/00000000-0000-4000-8000-000000000000/cancel',
      headers: auth,
    });
    expect(missing.statusCode).toBe(404);
  });

  it('filters the list by recipient and time, and refuses a cursor it did not make', async () => {
    const { app } = running.service;
    const mine = await app.inject({ url: '/outbox?to=%2B14155550190', headers: auth });
    expect(mine.json().messages.map((m: { to: string }) => m.to)).toEqual(['+14155550190']);
    const future = await app.inject({
      url: `/outbox?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      headers: auth,
    });
    expect(future.json().messages).toEqual([]);
    const bad = await app.inject({ url: '/outbox?before=bm90LWEtY3Vyc29y', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_input');
  });
});

describe('job system API, shared with the console’s jobs page', () => {
  let running: TestService;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    running = await startTestService('pglite', { env: { ADMIN_API_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await running?.dispose();
  });

  it('lists queues, shows a failed job with its error, retries it once', async () => {
    const { app, jobs } = running.service;
    // A job that failed: deferred so no worker takes it first, then failed as a handler would.
    const id = await jobs.boss.send('outbox.sweep', {}, { startAfter: 3600, retryLimit: 0 });
    expect(id).toBeTruthy();
    await jobs.boss.fail('outbox.sweep', id as string, { message: 'the sweep lost its connection' });
    const queues = await app.inject({ url: '/jobs', headers: auth });
    // Counts come from pg-boss's queue cache (refreshed by its monitor); the failed list reads the table.
    expect(queues.json().queues.map((q: { name: string }) => q.name)).toEqual(
      expect.arrayContaining(['outbox.deliver', 'outbox.sweep', 'outbox.deliver.dead']),
    );
    const failed = await app.inject({ url: '/jobs/outbox.sweep/failed', headers: auth });
    expect(failed.json().jobs).toMatchObject([{ id, output: { message: 'the sweep lost its connection' } }]);
    const retried = await app.inject({
      method: 'POST',
      url: `/jobs/outbox.sweep/${id}/retry`,
      headers: auth,
    });
    expect(retried.statusCode).toBe(202);
    const twice = await app.inject({ method: 'POST', url: `/jobs/outbox.sweep/${id}/retry`, headers: auth });
    expect(twice.statusCode).toBe(409);
    expect((await app.inject({ url: '/jobs/no.such.queue/failed', headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ url: '/jobs' })).statusCode).toBe(401);
  });

  it('counts messages per hour and channel for the last day, and what waits', async () => {
    const { app, channels } = running.service;
    await channels.enqueue({
      dedupeKey: 'stats:1',
      channel: 'email',
      to: 'ap@example.com',
      content: { subject: 'Hi', text: 'Hi' },
      sendAfter: new Date(Date.now() + 3600_000),
    });
    const stats = await app.inject({ url: '/outbox/stats?hours=24', headers: auth });
    expect(stats.json().backlog).toEqual([{ channel: 'email', status: 'queued', count: 1 }]);
    expect(stats.json().hourly).toEqual([
      expect.objectContaining({ channel: 'email', outcome: 'other', count: 1 }),
    ]);
    expect((await app.inject({ url: '/outbox/stats?hours=0', headers: auth })).statusCode).toBe(400);
  });
});
