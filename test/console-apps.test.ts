// The four bots' console pages, on the real service with every app, seeded through the API and the
// sandbox as a user would: what the operator reads on each page (values from the seeded data),
// that each action works and is in the audit log, and that a form without its CSRF token is refused.
// Also GET /subscribers: the opt-out state before and after the person texts STOP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { claimRequest, completeRequest, insertRequest } from '../src/apps/credits/store.ts';
import { dailyApp } from '../src/apps/daily/app.ts';
import { invoicesApp } from '../src/apps/invoices/app.ts';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { recordAttempt, updateSessionLocked } from '../src/apps/payments/store.ts';
import { withTransaction } from '../src/platform/db/transaction.ts';
import { type ConsoleSession, openConsole, text } from './helpers/console.ts';
import { databaseKinds } from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const CHAT_KEY = 'chat-key-for-console-tests-0123456789';
const LOOK_1 = 'https://looker.sandbox.localhost/looks/1';
const LOOK_2 = 'https://looker.sandbox.localhost/looks/2';
const EXPLORE_B3 = 'https://looker.sandbox.localhost/explore/sms/sms_traffic?qid=SandboxVerifyB3';

describe.each(databaseKinds)('the apps’ console pages on %s', (kind) => {
  let running: TestService;
  let operator: ConsoleSession;
  const app = () => running.service.app;
  const db = () => running.service.db;

  /** A console page as the signed-in operator sees it. */
  const page = (url: string) => operator.page(url);
  /** Submits a console form (with the session's CSRF token unless `withToken` is false). */
  const submit = (url: string, fields: Record<string, string> = {}, withToken = true) =>
    operator.submit(url, fields, withToken);
  /** Confirms and runs an action as the operator would: the question first, then "Yes, do it". */
  const act = (url: string, fields: Record<string, string> = {}, confirm = true) =>
    operator.act(url, fields, confirm);
  const audit = (action: string) =>
    db().query<{ operator: string; target: string | null; outcome: string; detail: string | null }>(
      'select operator, target, outcome, detail from audit_log where action = $1 order by at',
      [action],
    );

  beforeAll(async () => {
    running = await startTestService(kind, {
      apps: [creditsApp, invoicesApp, dailyApp, createPaymentsApp()],
      env: {
        NOTIFICATION_RECIPIENTS: 'ap@example.com,+14155550100,not-a-number',
        CHAT_API_KEYS: CHAT_KEY,
      },
    });
    // Open mode (no ADMIN_API_TOKEN): the first visit makes a session.
    operator = await openConsole(app());
  });
  afterAll(async () => {
    await running?.dispose();
  });

  it('CreditBot: requests, one request’s links and summary, retry, the charts, failed requests', async () => {
    const post = (text: string) =>
      app().inject({
        method: 'POST',
        url: '/sandbox/slack/messages',
        payload: { channel: '#credit_memo_testing', text },
      });
    const answered = (
      await post(
        `Please process this credit request ${LOOK_1} and https://looker.sandbox.localhost/x/Sbx7Short and ${LOOK_2}`,
      )
    ).json();
    const failing = (await post('credit https://looker.sandbox.localhost/looks/77')).json();
    const statusOf = async (id: string) => (await app().inject(`/credits/requests/${id}`)).json().status;
    await waitFor('the answer', async () => (await statusOf(answered.id)) === 'done');
    await waitFor('the failure', async () => (await statusOf(failing.id)) === 'failed');

    const list = text(await page('/console/credits'));
    expect(list).toContain('Credit requests, newest first');
    expect(list).toContain('$4,395.36');
    expect(list).toContain('the sandbox Looker has no Look 77 (404)');
    expect(list).toContain('Credits per day (UTC, whole US dollars)');
    expect(list).toContain('Credits per week (weeks from Monday, whole US dollars)');
    expect(list).toContain('credited 4395'); // the charts' key: whole dollars of $4,395.36
    expect(list).toMatch(/Week of Requests answered Credited \d{4}-\d{2}-\d{2} 1 \$4,395\.36/);
    // Only the failed one with ?status=failed (the API's filter, the same function).
    const failedOnly = await page('/console/credits?status=failed');
    expect(failedOnly).toContain(`/console/credits/${failing.id}`);
    expect(failedOnly).not.toContain(`/console/credits/${answered.id}`);
    const api = (await app().inject('/credits/requests?status=failed')).json();
    expect(api.requests.map((r: { id: string }) => r.id)).toEqual([failing.id]);

    const one = text(await page(`/console/credits/${answered.id}`));
    expect(one).toContain('Each link of the message, as computed');
    expect(one).toContain('credited');
    expect(one).toContain('Links not credited, and why');
    expect(one).toContain('same query');
    expect(one).toContain('no calculator is configured for PSMS');
    expect(one).toContain('The credit by Fraud Guard mode');
    expect(one).toContain('basic');
    expect(one).toContain('$7,526.30'); // the fraud cost of mode basic
    expect(one).toContain('The summary as stored (JSON)');
    expect(one).not.toContain('Retry this request');

    const failedPage = text(await page(`/console/credits/${failing.id}`));
    expect(failedPage).toContain('Retry this request');
    expect(failedPage).toContain('the sandbox Looker has no Look 77 (404)');

    // Needs a person, on the overview.
    const overview = text(await page('/console'));
    expect(overview).toContain('failed credit request');
    expect(overview).toContain(`Credit request ${failing.id.slice(0, 8)}`);

    // Retry: refused without the token, then confirmed, run and audited.
    expect(
      (await submit(`/console/credits/${failing.id}/retry`, { _confirmed: 'yes' }, false)).statusCode,
    ).toBe(403);
    expect(await audit('credits.retry')).toHaveLength(0);
    const location = await act(`/console/credits/${failing.id}/retry`);
    expect(location).toMatch(new RegExp(`^/console/credits/${failing.id}\\?done=`));
    const [entry] = await audit('credits.retry');
    expect(entry).toMatchObject({
      target: failing.id,
      outcome: 'done',
      operator: 'local operator (no login)',
    });
    expect(entry?.detail).toContain('queued again (round 2)');
    expect(text(await page(location))).toContain('queued again (round 2)');
    const retried = (await app().inject(`/credits/requests/${failing.id}`)).json();
    expect(retried.round).toBe(2);
    // An answered request cannot be retried: refused, and audited as refused.
    const refused = await submit(`/console/credits/${answered.id}/retry`, { _confirmed: 'yes' });
    expect(refused.statusCode).toBe(409);
    expect(text(refused.body)).toContain('only a failed request can be retried');
    expect((await audit('credits.retry')).map((e) => e.outcome)).toEqual(['done', 'refused']);
  });

  it('CreditBot: a notebook-computed request shows the notebook’s summary output', async () => {
    // As the notebook calculator stores it (a worker's run, here written by the store functions).
    const message = `credit ${LOOK_1}`;
    const row = await insertRequest(db().orm, {
      channel: 'C0NOTEBOOK',
      ts: '1700000000.000001',
      text: message,
      intake: 'api',
    });
    await claimRequest(db().orm, row?.id as string);
    const summary = {
      extractedAt: new Date().toISOString(),
      links: [
        {
          url: LOOK_1,
          link: 'Look 1',
          status: 'credited' as const,
          queryId: '101',
          product: 'verify' as const,
          calculator: 'notebook' as const,
          creditCents: 439536,
          summaryText: 'Credit amount: $4,395.36',
          notebook: {
            path: 'notebooks/credit-recommendation.ipynb',
            sha256: 'ab'.repeat(32),
            injected: ['looker', 'looker_rows'],
            heading: 'Summary',
            rule: 'result' as const,
            cells: [
              {
                executionCount: 7,
                source: 'print(f"Credit amount: {credit}")',
                output: 'Credit amount: $4,395.36',
              },
            ],
            resultTable: null,
            table: null,
          },
          durationMs: 1200,
          kernelMs: 900,
        },
      ],
      product: 'verify' as const,
      calculator: 'notebook',
      table: [],
      amountCents: 439536,
      amount: '$4,395.36',
      credited: 1,
      skipped: 0,
      durationMs: 1300,
    };
    expect(await completeRequest(db().orm, row?.id as string, summary, message)).toBe(true);
    const body = text(await page(`/console/credits/${row?.id}`));
    expect(body).toContain('Notebook output');
    expect(body).toContain('notebooks/credit-recommendation.ipynb');
    expect(body).toContain('looker, looker_rows');
    expect(body).toContain('Credit amount: $4,395.36');
    expect(body).toContain('print(f&quot;Credit amount: {credit}&quot;)');
  });

  it('CreditBot’s composer on the sandbox page posts a request whose answer arrives in the thread', async () => {
    const slack = await page('/console/sandbox?tab=slack');
    expect(slack).toContain('Post a credit request');
    expect(slack).toContain(LOOK_1);
    expect(slack).toMatch(/<label for="credit-text">Message<\/label>/);
    expect((await submit('/console/credits/sandbox-request', { link2: 'on' }, false)).statusCode).toBe(403);

    const location = await act(
      '/console/credits/sandbox-request',
      { text: 'Console credit please', link2: 'on', channel: 'C0CREDITMEMO' },
      false,
    );
    expect(location).toMatch(/^\/console\/sandbox\?tab=slack&channel=C0CREDITMEMO&done=/);
    const [entry] = await audit('credits.sandbox_request');
    expect(entry?.detail).toContain('request queued');
    // The sample Explore (account B, mixed Fraud Guard modes): $1,020.05.
    const thread = await waitFor('the answer in the thread', async () => {
      const body = text(await page(location));
      return body.includes('Console credit please') && body.includes('Approved, $1,020.05') ? body : null;
    });
    expect(thread).toContain(EXPLORE_B3);
    const request = (await app().inject(`/credits/requests/${entry?.target}`)).json();
    expect(request).toMatchObject({ status: 'done', amountCents: 102005, intake: 'sandbox' });
  });

  it('Invoices: awaiting review, scan now, each invoice’s alerts and their delivery, invalid recipients', async () => {
    const created = await app().inject({
      method: 'POST',
      url: '/invoices',
      payload: {
        invoices: [
          {
            id: 'INV-2026-0042',
            vendor_name: 'Acme Tools',
            total_minor: 123456,
            currency: 'USD',
            matched_status: 'NEEDS_REVIEW',
          },
          {
            id: 'INV-2026-0043',
            vendor_name: 'Paid Ltd',
            total_minor: 500,
            currency: 'EUR',
            matched_status: 'PAID',
          },
        ],
      },
    });
    expect(created.statusCode).toBe(201);

    const list = text(await page('/console/invoices'));
    expect(list).toContain('INV-2026-0042');
    expect(list).toContain('Acme Tools');
    expect(list).toContain('$1,234.56');
    expect(list).not.toContain('Paid Ltd');
    expect(list).toContain('not-a-number');
    expect(list).toContain('ap@example.com');

    expect((await submit('/console/invoices/scan', { _confirmed: 'yes' }, false)).statusCode).toBe(403);
    const location = await act('/console/invoices/scan');
    expect(location).toMatch(/^\/console\/invoices\?done=/);
    const [entry] = await audit('invoices.scan');
    expect(entry?.detail).toMatch(
      /^Scan done: matched 1, queued \d, already queued \d, rejected 0, invalid recipients 1\.$/,
    );
    const scans = (await app().inject('/invoices/scans')).json().scans;
    const scan = scans.find((s: { id: string }) => s.id === entry?.target);
    expect(scan).toMatchObject({ trigger: 'console', matched: 1, invalidRecipients: 1 });
    expect(text(await page('/console/invoices'))).toMatch(/console 1 \d \d 0 1/);

    // The invoice's alerts, from the outbox by dedupe-key prefix, delivered by the sandbox drivers.
    const alerts = await waitFor('both alerts delivered', async () => {
      const body = await page('/console/invoices/INV-2026-0042');
      return (body.match(/class="badge good">(sent|delivered)</g) ?? []).length >= 2 ? text(body) : null;
    });
    expect(alerts).toContain('Alerts for this invoice and their delivery');
    expect(alerts).toContain('ap@example.com');
    expect(alerts).toContain('+14155550100');
    expect(alerts).toContain('$1,234.56');
    expect((await operator.get('/console/invoices/INV-none')).statusCode).toBe(404);

    const overview = text(await page('/console'));
    expect(overview).toContain('invalid recipient');
    expect(overview).toContain('NOTIFICATION_RECIPIENTS entry “not-a-number”');
  });

  it('Daily: GET /subscribers shows the opt-out once the person texts STOP, and the console lists it', async () => {
    const subscribe = (phone: string, name: string) =>
      app().inject({
        method: 'POST',
        url: '/subscribers',
        payload: { phone, name, timeZone: 'America/New_York', window: '09:00-17:00' },
      });
    const ada = (await subscribe('+14155550123', 'Ada Lovelace')).json();
    const grace = (await subscribe('+14155550124', 'Grace Hopper')).json();
    expect(ada).toMatchObject({ optedOut: false, optedOutAt: null });

    const stop = await app().inject({
      method: 'POST',
      url: '/sandbox/sms/inbound',
      payload: { from: '+14155550123', body: 'STOP' },
    });
    expect(stop.statusCode).toBe(202);
    const after = (await app().inject(`/subscribers/${ada.id}`)).json();
    expect(after).toMatchObject({ optedOut: true, optOutReason: 'keyword' });
    expect(new Date(after.optedOutAt).getTime()).toBeGreaterThan(0);
    const listed = (await app().inject('/subscribers')).json().subscribers;
    expect(listed.find((s: { id: string }) => s.id === grace.id)).toMatchObject({ optedOut: false });
    const optedOut = (await app().inject('/subscribers?optedOut=true')).json().subscribers;
    expect(optedOut.map((s: { phone: string }) => s.phone)).toEqual(['+14155550123']);
    expect((await app().inject('/subscribers?window=nine')).statusCode).toBe(400);

    const all = text(await page('/console/daily'));
    expect(all).toContain('Ada Lovelace');
    expect(all).toContain('Grace Hopper');
    expect(all).toContain('09:00-17:00');
    expect(all).toContain('opted out');
    const filtered = text(await page('/console/daily?optedOut=true'));
    expect(filtered).toContain('+14155550123');
    expect(filtered).not.toContain('Grace Hopper');
    expect(text(await page('/console/daily?q=grace'))).not.toContain('Ada Lovelace');
    expect(text(await page('/console/daily?timeZone=Europe/Paris'))).toContain('No subscriber matches.');
    // The consent log: the STOP, then a START.
    await app().inject({
      method: 'POST',
      url: '/sandbox/sms/inbound',
      payload: { from: '+14155550123', body: 'START' },
    });
    const history = text(await page('/console/daily/consent?phone=%2B14155550123'));
    expect(history).toMatch(/opted in .*opted out/);
    expect((await app().inject(`/subscribers/${ada.id}`)).json()).toMatchObject({ optedOut: false });
    const one = text(await page(`/console/daily/subscribers/${ada.id}`));
    expect(one).toContain('Ada Lovelace');
    expect(one).toContain('America/New_York');
    expect(one).toMatch(/opted in .*opted out/);

    // Plan now: refused without the token, then run and audited; the plan shows on the page.
    expect((await submit('/console/daily/plan', { _confirmed: 'yes' }, false)).statusCode).toBe(403);
    await act('/console/daily/plan');
    const [entry] = await audit('daily.plan');
    expect(entry?.outcome).toBe('done');
    expect(entry?.detail).toMatch(/^Planned \d+ messages? \(/);
    // Both planned (Ada opted back in), by this run or an hourly one meanwhile.
    const planned = await db().query<{ n: number }>('select count(*)::int as n from daily_messages');
    expect(planned[0]?.n).toBe(2);
    const rows = await db().query<{ n: number }>(
      "select count(*)::int as n from daily_messages where send_at < now() + interval '24 hours'",
    );
    const chart = text(await page('/console/daily'));
    expect(chart).toContain('Messages per hour, the last 12 and the next 24 hours (UTC send time)');
    if ((rows[0]?.n ?? 0) > 0) expect(chart).not.toContain('Nothing sent or planned in these hours.');
  });

  it('PayBot: sessions with status and current field, payments with Stripe ids, hand-offs; never card data', async () => {
    const chat = async (sessionId: string, message: string) => {
      const response = await app().inject({
        method: 'POST',
        url: '/chat',
        headers: { authorization: `Bearer ${CHAT_KEY}` },
        payload: { sessionId, message },
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
    await chat('console-collecting', 'Hi, I want to make a payment');
    await chat('console-collecting', 'Jane Doe');
    // No Stripe here: reaching the card step hands the customer to a person.
    await chat('console-handoff', 'Hi, I want to make a payment');
    await chat('console-handoff', 'John Roe');
    expect((await chat('console-handoff', '$45.10')).status).toBe('error');
    // What Stripe told about a card (as a ConfirmationToken would): the console shows the brand only.
    await withTransaction(db(), (tx) =>
      updateSessionLocked(tx, { id: 'console-collecting' }, (state) => ({
        ...state,
        card: {
          brand: 'visa',
          last4: '4242',
          expMonth: 12,
          expYear: 2034,
          source: { kind: 'confirmation_token', id: 'ctoken_console' },
        },
      })),
    );
    await recordAttempt(db(), {
      idempotencyKey: 'paybot:console-collecting:1',
      sessionId: 'console-collecting',
      paymentIntentId: 'pi_console_0001',
      amountMinor: 4510,
      currency: 'USD',
      invoiceId: null,
      status: 'succeeded',
    });

    const list = text(await page('/console/paybot'));
    // Session, status, current field, name, amount, payments (the card is on the session's page).
    expect(list).toContain('console-collecting collecting amount Jane Doe — 1');
    expect(list).not.toContain('4242');
    expect(list).not.toContain('ctoken_console');
    expect(list).toContain('console-handoff handed off card John Roe $45.10 0');
    expect(list).toContain('pi_console_0001');
    expect(list).toContain('succeeded');
    expect(await page('/console/paybot')).toContain('href="/pay"');
    expect(text(await page('/console/paybot?status=error'))).not.toContain('Jane Doe');

    const card = text(await page('/console/paybot/sessions/console-collecting'));
    expect(card).toContain('visa card given');
    expect(card).not.toContain('4242');
    const one = text(await page('/console/paybot/sessions/console-handoff'));
    expect(one).toContain('John Roe');
    expect(one).toContain('PayBot handed this customer to a person');
    const overview = text(await page('/console'));
    expect(overview).toContain('PayBot hand-off');
    expect(overview).toContain('Session console-handoff');
  });

  it('gives each app’s page its heading and navigation entry', async () => {
    const home = await page('/console');
    for (const [href, label] of [
      ['/console/credits', 'CreditBot'],
      ['/console/invoices', 'Invoices'],
      ['/console/daily', 'Daily'],
      ['/console/paybot', 'PayBot'],
    ]) {
      expect(home).toContain(`<a href="${href}">${label}</a>`);
      expect(await page(href as string)).toMatch(/<h1>[^<]+<\/h1>/);
    }
    expect((await operator.get('/console/credits?status=lost')).statusCode).toBe(400);
    expect((await app().inject('/console/paybot')).statusCode).toBe(200); // open mode: a new session
  });
});
