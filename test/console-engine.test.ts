// The console's engine with pages and actions of the test's own: what an operator sees when a page
// breaks (a page, never a stack trace), when an action is refused or fails, and how forms, the
// open mode and the login routes behave at their edges.

import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { html } from '../src/platform/console/html.ts';
import { createConsole } from '../src/platform/console/routes.ts';
import { AppError } from '../src/platform/errors.ts';
import { cookieOf, csrfOf, FORM } from './helpers/console.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('console engine', () => {
  let running: TestService;
  let app: FastifyInstance;
  const ran: string[] = [];

  beforeAll(async () => {
    running = await startTestService('pglite');
    app = Fastify();
    await app.register(formbody);
    const console = createConsole({
      db: running.service.db,
      log: running.logs.log,
      adminToken: null,
      sessionTtlMs: 60_000,
      sandboxChannels: [],
    });
    console.ui.page({ path: '/console', title: 'Home', nav: 'Home', render: async () => html`<p>home</p>` });
    console.ui.page({
      path: '/console/broken',
      title: 'Broken',
      render: async () => {
        throw new Error('secret internal detail at /srv/app.ts:12');
      },
    });
    console.ui.action({
      path: '/console/things/:id/poke',
      name: 'things.poke',
      confirm: async (view) => `Poke ${view.params.id} with ${view.form.how ?? 'nothing'}?`,
      run: async (view) => {
        if (view.params.id === 'busy') throw new AppError('conflict', 'That thing is busy.');
        if (view.params.id === 'crash') throw new Error('database went away');
        ran.push(`${view.params.id}:${view.form.how}`);
        return { message: `Poked ${view.params.id}.`, target: view.params.id, redirect: '/console?x=1' };
      },
    });
    console.ui.attention(async () => {
      throw new Error('a source that fails');
    });
    console.ui.attention(async () => [
      { kind: 'k', title: 'older', detail: '', href: '/console', at: new Date(1000) },
      { kind: 'k', title: 'newer', detail: '', href: '/console', at: new Date(2000) },
    ]);
    console.register(app);
    await app.ready();
    // The merged list: a failing source is logged and left out, the rest newest first.
    expect((await console.attention(5)).map((item) => item.title)).toEqual(['newer', 'older']);
  });
  afterAll(async () => {
    await app?.close();
    await running?.dispose();
  });

  const session = async () => {
    const first = await app.inject({ url: '/console' });
    return { cookie: cookieOf(first.headers), csrf: csrfOf(first.body) };
  };

  it('shows a broken page as a page with the request id, never the error or a stack', async () => {
    const { cookie } = await session();
    const response = await app.inject({ url: '/console/broken', headers: { cookie } });
    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain('This page could not be shown');
    expect(response.body).not.toContain('secret internal detail');
    expect(response.body).not.toContain('app.ts');
  });

  it('asks first, keeping the form’s fields; then runs once and links the audit entry', async () => {
    const { cookie, csrf } = await session();
    const asked = await app.inject({
      method: 'POST',
      url: '/console/things/t1/poke',
      headers: { cookie, ...FORM, referer: 'https://elsewhere.example/console/things?x=1' },
      payload: form({ _csrf: csrf, how: 'a stick' }),
    });
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain('Poke t1 with a stick?');
    expect(asked.body).toContain('name="how" value="a stick"');
    // "No" goes back to where the operator was on this console, never to another site.
    expect(asked.body).toContain('href="/console/things?x=1"');
    expect(ran).toEqual([]);
    const done = await app.inject({
      method: 'POST',
      url: '/console/things/t1/poke',
      headers: { cookie, ...FORM },
      payload: form({ _csrf: csrf, how: 'a stick', _confirmed: 'yes' }),
    });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toMatch(/^\/console\?x=1&done=[0-9a-f-]{36}$/);
    expect(ran).toEqual(['t1:a stick']);
    const landed = await app.inject({ url: String(done.headers.location), headers: { cookie } });
    expect(landed.body).toContain('Poked t1.');
  });

  it('shows a refusal in words and audits it; an unexpected failure is a page, not a trace', async () => {
    const { cookie, csrf } = await session();
    const busy = await app.inject({
      method: 'POST',
      url: '/console/things/busy/poke',
      headers: { cookie, ...FORM },
      payload: form({ _csrf: csrf, _confirmed: 'yes' }),
    });
    expect(busy.statusCode).toBe(409);
    expect(busy.body).toContain('That thing is busy.');
    const audit = await running.service.db.query(
      `select action, outcome, detail from audit_log where target = 'busy'`,
    );
    expect(audit).toEqual([{ action: 'things.poke', outcome: 'refused', detail: 'That thing is busy.' }]);
    const crash = await app.inject({
      method: 'POST',
      url: '/console/things/crash/poke',
      headers: { cookie, ...FORM },
      payload: form({ _csrf: csrf, _confirmed: 'yes' }),
    });
    expect(crash.statusCode).toBe(500);
    expect(crash.body).not.toContain('database went away');
  });

  it('in open mode: the login form sends you to the console, and logging out opens a new session', async () => {
    expect((await app.inject({ url: '/console/login' })).headers.location).toBe('/console');
    const posted = await app.inject({
      method: 'POST',
      url: '/console/login',
      headers: FORM,
      payload: 'name=x&token=y',
    });
    expect(posted.headers.location).toBe('/console');
    const out = await app.inject({ method: 'POST', url: '/console/logout', headers: FORM, payload: '' });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/console');
  });

  it('serves its stylesheet and script from the service, cacheable', async () => {
    const css = await app.inject({ url: '/console/assets/console.css' });
    const js = await app.inject({ url: '/console/assets/console.js' });
    expect(css.headers['content-type']).toContain('text/css');
    expect(js.headers['content-type']).toContain('text/javascript');
    expect(js.body).toContain('x-console-fragment');
  });
});
