// The console's request handling that every page and action shares (the real service, PGlite):
// what a visitor without a session gets in each mode, the login form's answers, an action the
// service refuses (its status, its page, the audit entry), where "No, go back" leads, and forms
// and queries that carry a field twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM, openConsole, text } from './helpers/console.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const TOKEN = 'console-routes-admin-token-0123456789';

describe('the console with ADMIN_API_TOKEN', () => {
  let running: TestService;
  const app = () => running.service.app;

  beforeAll(async () => {
    running = await startTestService('pglite', { env: { ADMIN_API_TOKEN: TOKEN } });
  });
  afterAll(() => running?.dispose());

  it('sends a visitor without a session to the login form, which keeps where they were going', async () => {
    const page = await app().inject({ url: '/console/outbox?status=failed' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/console/login?next=%2Fconsole%2Foutbox%3Fstatus%3Dfailed');
    const form = await app().inject({ url: String(page.headers.location) });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="next" value="/console/outbox?status=failed"');
    // A next that is not a console path of this service becomes the overview.
    expect((await app().inject({ url: '/console/login?next=https://evil.example/' })).body).toContain(
      'name="next" value="/console"',
    );
    // An action posted without a session goes to the login form too, and does nothing.
    const action = await app().inject({
      method: 'POST',
      url: '/console/outbox/00000000-0000-4000-8000-000000000000/retry',
      headers: FORM,
      payload: '_confirmed=yes',
    });
    expect(action.statusCode).toBe(303);
    expect(String(action.headers.location)).toMatch(/^\/console\/login\?next=/);
    expect(await running.service.db.query('select 1 from audit_log')).toEqual([]);
  });

  it('answers a wrong token with 401 on the form, keeping the name typed', async () => {
    const wrong = await app().inject({
      method: 'POST',
      url: '/console/login',
      headers: FORM,
      payload: new URLSearchParams({
        name: 'Robin',
        token: 'not-the-token-at-all',
        next: '/console/jobs',
      }).toString(),
    });
    expect(wrong.statusCode).toBe(401);
    expect(text(wrong.body)).toContain('That is not this service’s ADMIN_API_TOKEN.');
    expect(wrong.body).toContain('value="Robin"');
    expect(wrong.body).toContain('name="next" value="/console/jobs"');
    expect(wrong.headers['set-cookie']).toBeUndefined();
  });

  it('names the signed-in operator in the audit log, and after logout the session is gone', async () => {
    const operator = await openConsole(app(), { token: TOKEN, name: 'Robin' });
    expect(text(await operator.page('/console'))).toContain('Robin');
    const queued = await running.service.channels.enqueue({
      dedupeKey: 'routes:cancel:1',
      channel: 'sms',
      to: '+14155550170',
      content: { body: 'later' },
      sendAfter: new Date(Date.now() + 3600_000),
    });
    await operator.act(`/console/outbox/${queued.id}/cancel`);
    const [entry] = await running.service.db.query<{ operator: string; outcome: string }>(
      "select operator, outcome from audit_log where action = 'outbox.cancel'",
    );
    expect(entry).toEqual({ operator: 'Robin', outcome: 'done' });
    const out = await operator.submit('/console/logout');
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/console/login');
    expect((await operator.get('/console')).statusCode).toBe(303);
  });
});

describe('the open console (no ADMIN_API_TOKEN)', () => {
  let running: TestService;
  const app = () => running.service.app;

  beforeAll(async () => {
    running = await startTestService('pglite');
  });
  afterAll(() => running?.dispose());

  it('has no login: the form and a login post lead to the overview', async () => {
    const form = await app().inject({ url: '/console/login' });
    expect(form.statusCode).toBe(303);
    expect(form.headers.location).toBe('/console');
    const post = await app().inject({
      method: 'POST',
      url: '/console/login',
      headers: FORM,
      payload: 'name=x&token=y',
    });
    expect(post.statusCode).toBe(303);
    expect(post.headers.location).toBe('/console');
  });

  it('refuses a form that came without a session, or with another session’s token, with 403', async () => {
    const bare = await app().inject({
      method: 'POST',
      url: '/console/outbox/00000000-0000-4000-8000-000000000000/retry',
      headers: FORM,
      payload: '_csrf=x&_confirmed=yes',
    });
    expect(bare.statusCode).toBe(403);
    expect(text(bare.body)).toContain('This form came without a console session');
    const operator = await openConsole(app());
    const forged = await operator.submit(
      '/console/outbox/00000000-0000-4000-8000-000000000000/retry',
      {},
      false,
    );
    expect(forged.statusCode).toBe(403);
    expect(text(forged.body)).toContain('its CSRF token does not match');
    expect(text(forged.body)).toContain('Not allowed');
  });

  it('shows an action the service refuses as its page with the reason, and records it refused', async () => {
    const operator = await openConsole(app());
    const queued = await running.service.channels.enqueue({
      dedupeKey: 'routes:retry:queued',
      channel: 'sms',
      to: '+14155550171',
      content: { body: 'not failed' },
      sendAfter: new Date(Date.now() + 3600_000),
    });
    const refused = await operator.submit(`/console/outbox/${queued.id}/retry`, { _confirmed: 'yes' });
    expect(refused.statusCode).toBe(409);
    expect(text(refused.body)).toContain('Cannot do that now');
    expect(text(refused.body)).toContain(`Message ${queued.id} is queued, so it was not retried`);
    const [entry] = await running.service.db.query<{ outcome: string; target: string; detail: string }>(
      "select outcome, target, detail from audit_log where action = 'outbox.retry'",
    );
    expect(entry).toMatchObject({ outcome: 'refused', target: queued.id });
    expect(entry?.detail).toContain('only a failed or undelivered message can be sent again');
    const missing = await operator.submit('/console/outbox/00000000-0000-4000-8000-000000000000/retry', {
      _confirmed: 'yes',
    });
    expect(missing.statusCode).toBe(404);
    expect(text(missing.body)).toContain('Not found');
  });

  it('leads "No, go back" to the console page the operator came from, never elsewhere', async () => {
    const operator = await openConsole(app());
    const queued = await running.service.channels.enqueue({
      dedupeKey: 'routes:back:1',
      channel: 'sms',
      to: '+14155550172',
      content: { body: 'ask me' },
      sendAfter: new Date(Date.now() + 3600_000),
    });
    const ask = (referer: string | undefined) =>
      app().inject({
        method: 'POST',
        url: `/console/outbox/${queued.id}/cancel`,
        headers: { cookie: operator.cookie, ...FORM, ...(referer === undefined ? {} : { referer }) },
        payload: new URLSearchParams({ _csrf: operator.csrf }).toString(),
      });
    expect((await ask('http://127.0.0.1/console/outbox?status=queued')).body).toContain(
      'href="/console/outbox?status=queued">No, go back',
    );
    expect((await ask('https://elsewhere.example/phish')).body).toContain('href="/console">No, go back');
    expect((await ask('http://[bad')).body).toContain('href="/console">No, go back');
    expect((await ask(undefined)).body).toContain('href="/console">No, go back');
    // Still queued: asking changed nothing.
    const [row] = await running.service.db.query<{ status: string }>(
      'select status from outbox_messages where id = $1',
      [queued.id],
    );
    expect(row?.status).toBe('queued');
  });

  it('takes the first of a field given twice, in a form and in a query', async () => {
    const operator = await openConsole(app());
    const queued = await running.service.channels.enqueue({
      dedupeKey: 'routes:twice:1',
      channel: 'sms',
      to: '+14155550173',
      content: { body: 'twice' },
      sendAfter: new Date(Date.now() + 3600_000),
    });
    const done = await app().inject({
      method: 'POST',
      url: `/console/outbox/${queued.id}/cancel`,
      headers: { cookie: operator.cookie, ...FORM },
      payload: `_csrf=${encodeURIComponent(operator.csrf)}&_csrf=other&_confirmed=yes&_confirmed=no`,
    });
    expect(done.statusCode).toBe(303);
    const landed = text(await operator.page(String(done.headers.location)));
    expect(landed).toContain('recorded in the audit log as local operator (no login)');
    const both = text(await operator.page('/console/outbox?status=cancelled&status=queued'));
    expect(both).toContain('+14155550173');
    expect(both).not.toContain('+14155550172');
    // A notice id that is no audit entry shows no notice, and no error.
    const page = await operator.page('/console/outbox?done=00000000-0000-4000-8000-000000000000');
    expect(page).not.toContain('recorded in the');
    expect(await operator.page('/console/outbox?done=not-an-id')).not.toContain('recorded in the');
  });
});
