// The operator console in a real browser (Debian chromium through playwright-core), on the
// embedded default (PGlite, sandbox drivers), with data the service made itself: messages the
// outbox delivered to the sandbox, a provider failure, texts sent back. What is checked is what
// an operator sees and what the database holds after each action; axe-core checks every page
// for serious accessibility violations at a laptop's width and a phone's. Screenshots land in
// test-results/console/.
import { existsSync, mkdirSync } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_NAMES, loadApps } from '../src/apps/index.ts';
import { CHROMIUM, launchChromium, seriousViolations } from './helpers/browser.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const SHOTS = 'test-results/console';
const TOKEN = 'console-test-admin-token-0123456789';

describe.skipIf(!existsSync(CHROMIUM))('operator console in chromium', () => {
  let running: TestService;
  let browser: Browser;
  let context: BrowserContext;
  let url: string;
  let failedId: string;
  let queuedId: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    running = await startTestService('pglite');
    url = await running.service.app.listen({ port: 0, host: '127.0.0.1' });
    const { channels, db } = running.service;
    // Messages the outbox delivers to the sandbox: an SMS thread, an HTML email, a Slack post.
    await channels.enqueue({
      dedupeKey: 'test:sms:1',
      channel: 'sms',
      to: '+14155550101',
      content: { body: 'Your daily note: drink water. Reply STOP to opt out.' },
    });
    await channels.enqueue({
      dedupeKey: 'test:email:1',
      channel: 'email',
      to: 'ap@example.com',
      content: {
        subject: 'Invoice INV-9 needs review',
        text: 'Invoice INV-9 from Acme needs review.',
        html: '<h1>Invoice INV-9</h1><p>From <b>Acme</b>, it needs review.</p>',
      },
    });
    await channels.enqueue({
      dedupeKey: 'test:slack:1',
      channel: 'slack',
      to: 'C0SANDBOX1',
      content: { text: 'Hello from a bot' },
    });
    const failed = await channels.enqueue({
      dedupeKey: 'test:sms:failed',
      channel: 'sms',
      to: '+14155550102',
      content: { body: 'This one the carrier refused.' },
    });
    failedId = failed.id;
    const queued = await channels.enqueue({
      dedupeKey: 'test:sms:later',
      channel: 'sms',
      to: '+14155550103',
      content: { body: 'Tomorrow, not now.' },
      sendAfter: new Date(Date.now() + 24 * 3600_000),
    });
    queuedId = queued.id;
    // Settled, not only handed to the sandbox: the failure below must not race the delivery's record.
    await waitFor('the outbox to deliver four messages', async () => {
      const rows = await db.query<{ n: number }>(
        `select count(*)::int as n from outbox_messages where status = 'delivered'`,
      );
      return (rows[0]?.n ?? 0) >= 4;
    });
    // What a permanent provider error leaves (Twilio 21211): the row failed with the reason.
    await db.query(
      `update outbox_messages set status = 'failed', error_code = '21211', last_error = 'The To number is not a valid phone number' where id = $1`,
      [failedId],
    );
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await running?.dispose();
  });

  it('sends a browser at / to the console, and the API client keeps its JSON', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe('/console');
    const api = await fetch(`${url}/`, { headers: { accept: 'application/json' } });
    expect(((await api.json()) as { name: string }).name).toBe('switchboard');
    await page.close();
  });

  it('shows the overview: components with SANDBOX marked, the 24 h chart, failures, what needs a person', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/console`);
    const main = page.locator('main');
    await expect.poll(async () => (await main.locator('h1').innerText()).trim()).toBe('Overview');
    const text = await main.innerText();
    expect(text).toContain('database');
    expect(text).toMatch(/sms driver\s+SANDBOX/i);
    expect(text).toContain('The To number is not a valid phone number');
    expect(await page.locator('.banner.warn').innerText()).toContain('ADMIN_API_TOKEN is not set');
    expect(await page.locator('figure.chart svg').count()).toBe(3);
    // The SMS chart: of the four SMS made in this hour one was delivered and one failed (the
    // other two still wait); its table of numbers says the same, hour by hour.
    const sms = page.locator('figure.chart').first();
    expect(await sms.locator('figcaption').innerText()).toMatch(/delivered 1\s+sent 0\s+failed 1/);
    const cells = await sms.locator('tbody td').allTextContents();
    expect(cells.map(Number).reduce((a, b) => a + b, 0)).toBe(2);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/overview.png`, fullPage: true });
    await page.close();
  });

  it('lists, filters and opens messages; retries a failed one after confirming, and records who did it', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/console/outbox`);
    await page.selectOption('#f-status', 'failed');
    await page.click('form.filters button[type=submit]');
    const rows = page.locator('main table tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain('+14155550102');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/outbox.png`, fullPage: true });

    await rows.first().locator('a').first().click();
    await expect
      .poll(async () => (await page.locator('main h1').innerText()).trim())
      .toBe(`Message ${failedId.slice(0, 8)}`);
    expect(await page.locator('main').innerText()).toContain('1 segment (GSM-7');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(async () => (await page.locator('main h1').innerText()).trim()).toBe('Please confirm');
    expect(await page.locator('main').innerText()).toContain('Send this sms message to +14155550102 again?');
    await page.getByRole('button', { name: 'Yes, do it' }).click();
    await expect.poll(() => page.locator('.notice').innerText()).toContain('queued again');
    // The sandbox driver delivers it: the page (live) shows it without a reload.
    await expect
      .poll(() => page.locator('main').innerText(), { timeout: 20_000 })
      .toMatch(/Status\s+delivered/);
    const [row] = await running.service.db.query<{ status: string; attempts: number }>(
      'select status, attempts from outbox_messages where id = $1',
      [failedId],
    );
    expect(row?.status).toBe('delivered');
    const audit = await running.service.db.query<{ operator: string; action: string; outcome: string }>(
      `select operator, action, outcome from audit_log where target = $1`,
      [failedId],
    );
    expect(audit).toEqual([
      { operator: 'local operator (no login)', action: 'outbox.retry', outcome: 'done' },
    ]);
    await page.close();
  });

  it('cancels a queued message; the same button on a delivered one is refused with the reason', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/console/outbox/${queuedId}`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Yes, do it' }).click();
    await expect.poll(() => page.locator('main').innerText()).toContain('cancelled');
    const [row] = await running.service.db.query<{ status: string }>(
      'select status from outbox_messages where id = $1',
      [queuedId],
    );
    expect(row?.status).toBe('cancelled');
    // A second cancel (a stale tab): 409, said in words, audited as refused, nothing changed.
    const csrf = await page.locator('form.who input[name=_csrf]').inputValue();
    const response = await page.request.post(`${url}/console/outbox/${queuedId}/cancel`, {
      form: { _csrf: csrf, _confirmed: 'yes' },
    });
    expect(response.status()).toBe(409);
    expect(await response.text()).toContain('is cancelled, so it was not cancelled');
    await page.close();
  });

  it('refuses an action without the CSRF token, and one posted from another site', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/console/outbox/${failedId}`);
    const before = await running.service.db.query<{ n: number }>('select count(*)::int as n from audit_log');
    const missing = await page.request.post(`${url}/console/outbox/${queuedId}/cancel`, {
      form: { _confirmed: 'yes' },
    });
    expect(missing.status()).toBe(403);
    const wrong = await page.request.post(`${url}/console/outbox/${queuedId}/cancel`, {
      form: { _csrf: 'not-the-token', _confirmed: 'yes' },
    });
    expect(wrong.status()).toBe(403);
    // A cross-site form: SameSite=Strict keeps the cookie off it, so there is no session to act in.
    const crossSite = await fetch(`${url}/console/outbox/${queuedId}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '_confirmed=yes',
    });
    expect(crossSite.status).toBe(403);
    const after = await running.service.db.query<{ n: number }>('select count(*)::int as n from audit_log');
    expect(after[0]?.n).toBe(before[0]?.n);
    await page.close();
  });

  it('texts back as a person from the sandbox: STOP suppresses the number and the reply shows in the thread', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/console/sandbox`);
    await page.getByRole('link', { name: '+14155550101' }).click();
    await expect.poll(() => page.locator('.thread').innerText()).toContain('drink water');
    await page.fill('#sms-body', 'STOP');
    await page.getByRole('button', { name: 'Send as this person' }).click();
    await expect.poll(() => page.locator('.notice').innerText()).toContain('from +14155550101');
    await expect.poll(() => page.locator('.thread').innerText()).toContain('STOP');
    const suppressed = await running.service.db.query(
      'select reason from sms_suppressions where phone = $1',
      ['+14155550101'],
    );
    expect(suppressed).toEqual([{ reason: 'keyword' }]);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/sandbox-sms.png`, fullPage: true });
    // A number that is not one: said on the page, nothing stored.
    await page.fill('#sms-from', 'not a phone');
    await page.fill('#sms-body', 'hello');
    await page.getByRole('button', { name: 'Send as this person' }).click();
    await expect
      .poll(() => page.locator('.notice.error').innerText())
      .toContain('`from` is not a phone number');
    await page.close();
  });

  it('renders emails in a sandboxed frame with their text part, and Slack posts by channel', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/console/sandbox?tab=email`);
    const frame = page.frameLocator('iframe.email');
    await expect.poll(async () => (await frame.locator('h1').innerText()).trim()).toBe('Invoice INV-9');
    expect(await page.locator('iframe.email').getAttribute('sandbox')).toBe('');
    await expect
      .poll(() => page.locator('main').innerText())
      .toContain('Invoice INV-9 from Acme needs review.');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/sandbox-email.png`, fullPage: true });
    await page.goto(`${url}/console/sandbox?tab=slack`);
    await expect.poll(() => page.locator('main').innerText()).toContain('Hello from a bot');
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('shows queues and their failed jobs, and the audit log', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/console/jobs`);
    await expect.poll(() => page.locator('main').innerText()).toContain('outbox.deliver');
    await page.getByRole('link', { name: 'outbox.deliver', exact: true }).first().click();
    await expect.poll(() => page.locator('main h2').innerText()).toContain('Failed jobs in outbox.deliver');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/jobs.png`, fullPage: true });
    await page.goto(`${url}/console/audit`);
    await expect.poll(() => page.locator('main tbody').innerText()).toContain('outbox.retry');
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('works at a phone’s width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await phone.newPage();
    for (const path of ['/console', '/console/outbox', '/console/sandbox']) {
      await page.goto(`${url}${path}`);
      expect(await seriousViolations(page)).toEqual([]);
      // Nothing wider than the screen but tables, which scroll inside their own box.
      const overflow = await page.evaluate(() => {
        const { document, innerWidth } = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number } };
          innerWidth: number;
        };
        return document.documentElement.scrollWidth - innerWidth;
      });
      expect(overflow).toBeLessThanOrEqual(1);
    }
    await page.goto(`${url}/console`);
    await page.screenshot({ path: `${SHOTS}/overview-phone.png`, fullPage: true });
    await phone.close();
  });
});

describe.skipIf(!existsSync(CHROMIUM))('console login with ADMIN_API_TOKEN', () => {
  let running: TestService;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    running = await startTestService('pglite', { env: { ADMIN_API_TOKEN: TOKEN } });
    url = await running.service.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await running?.dispose();
  });

  it('redirects to the login form, refuses a wrong token, lets the right one in, and logout ends the session', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/console/outbox`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(await seriousViolations(page)).toEqual([]);
    await page.fill('#login-name', 'Dana from AP');
    await page.fill('#login-token', 'wrong-token-wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.locator('.notice.error').innerText())
      .toContain('not this service’s ADMIN_API_TOKEN');
    await page.fill('#login-token', TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back where the operator was going, signed in under the name given.
    expect(new URL(page.url()).pathname).toBe('/console/outbox');
    await expect.poll(() => page.locator('form.who').innerText()).toContain('Dana from AP');
    expect(await page.locator('.banner.warn').count()).toBe(0);
    const cookie = (await context.cookies()).find((c) => c.name === 'sb_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const [stored] = await running.service.db.query<{ id: string; operator: string }>(
      'select id, operator from console_sessions where operator = $1',
      ['Dana from AP'],
    );
    // The table holds the token's digest, never the token.
    expect(stored?.id).not.toBe(cookie?.value);
    await page.getByRole('button', { name: 'Log out' }).click();
    expect(new URL(page.url()).pathname).toBe('/console/login');
    // The old cookie opens nothing now.
    const reused = await fetch(`${url}/console`, {
      headers: { cookie: `sb_console=${cookie?.value}` },
      redirect: 'manual',
    });
    expect(reused.status).toBe(303);
    expect(reused.headers.get('location')).toBe('/console/login?next=%2Fconsole');
    await context.close();
  });

  it('keeps the API on the bearer token: the console cookie is not an API credential', async () => {
    const response = await fetch(`${url}/outbox`);
    expect(response.status).toBe(401);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('every page the console lists, with the four bots running', () => {
  let running: TestService;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    running = await startTestService('pglite', { apps: await loadApps(APP_NAMES) });
    url = await running.service.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await running?.dispose();
  });

  it('posts a credit request from the sandbox composer and shows CreditBot’s answer arriving in its thread', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${url}/console/sandbox?tab=slack`);
    await page.getByRole('button', { name: 'Post the credit request' }).click();
    await expect
      .poll(() => page.locator('.notice').innerText())
      .toContain('The answer arrives in its thread');
    // No reload: the live refresh brings the reply (the sandbox Looker's sample traffic, computed).
    const replies = page.locator('.thread .replies');
    await expect.poll(() => replies.count(), { timeout: 45_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => replies.first().innerText(), { timeout: 45_000 })
      .toMatch(/Approved|Denied|\$[\d,]+\.\d\d/);
    const [request] = await running.service.db.query<{ status: string; amount_cents: number | null }>(
      'select status, amount_cents from credit_requests order by created_at desc limit 1',
    );
    expect(request?.status).toBe('done');
    await page.screenshot({ path: `${SHOTS}/sandbox-slack.png`, fullPage: true });
    await context.close();
  });

  it('runs "Scan now" and "Plan now" after confirming, and the audit log names them', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    for (const [path, button] of [
      ['/console/invoices', 'Scan now'],
      ['/console/daily', 'Plan now'],
    ] as const) {
      await page.goto(`${url}${path}`);
      await page.getByRole('button', { name: button }).click();
      await expect
        .poll(async () => (await page.locator('main h1').innerText()).trim())
        .toBe('Please confirm');
      await page.getByRole('button', { name: 'Yes, do it' }).click();
      await expect.poll(() => page.locator('.notice').innerText()).toContain('recorded in the audit log');
    }
    const actions = await running.service.db.query<{ action: string }>(
      `select action from audit_log where outcome = 'done' order by at`,
    );
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['invoices.scan', 'daily.plan']));
    await context.close();
  });

  it('renders each one without a console error or a serious accessibility violation, at 1280 px and 390 px', async () => {
    for (const width of [1280, 390]) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await page.goto(`${url}/console`);
      const links = await page
        .locator('header nav a')
        .evaluateAll((anchors) =>
          anchors.map((a) => (a as unknown as { getAttribute(name: string): string }).getAttribute('href')),
        );
      // The platform's pages and one per bot (CreditBot, Invoices, Daily, PayBot) once they add theirs.
      expect(links).toEqual(
        expect.arrayContaining([
          '/console',
          '/console/outbox',
          '/console/sandbox',
          '/console/jobs',
          '/console/audit',
        ]),
      );
      for (const href of links) {
        const response = await page.goto(`${url}${href}`);
        expect(response?.status(), href).toBe(200);
        expect(await seriousViolations(page), href).toEqual([]);
        const name = href.replace(/^\/console\/?/, '').replace(/\W+/g, '-') || 'overview';
        await page.screenshot({ path: `${SHOTS}/all-${name}-${width}.png`, fullPage: true });
      }
      expect(problems).toEqual([]);
      await context.close();
    }
  });
});
