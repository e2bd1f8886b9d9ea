// The platform's console pages on data beyond the first screen: the audit log past one page, a
// queue's failed job retried from the jobs page, the outbox filtered by recipient, key and time,
// the language model's spend against the budget, and the inbox when real providers are configured
// (the fakes of test/fakes: Twilio, SendGrid, Slack), which has no sandbox to show.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleSession, cookieOf, openConsole, text } from './helpers/console.ts';
import { type Providers, startProviders } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

describe('console pages past the first screen', () => {
  let running: TestService;
  let operator: ConsoleSession;
  const get = async (url: string) => (await operator.get(url)).body;
  const post = (url: string, fields: Record<string, string>) => operator.submit(url, fields);

  beforeAll(async () => {
    running = await startTestService('pglite');
    operator = await openConsole(running.service.app);
  });
  afterAll(() => running?.dispose());

  it('pages the audit log 100 entries at a time, newest first', async () => {
    await running.service.db.query(
      `insert into audit_log (operator, action, target, outcome, detail, at)
       select 'Pat', 'test.action', 'item-' || g, case when g % 10 = 0 then 'refused' else 'done' end, 'entry ' || g,
              now() - (g * interval '1 minute')
         from generate_series(1, 120) g`,
    );
    const first = await get('/console/audit');
    expect(first).toContain('item-1<');
    expect(first).toContain('item-100<');
    expect(first).not.toContain('item-101<');
    const older = /href="(\/console\/audit\?before=[^"]+)" rel="next"/.exec(first)?.[1];
    expect(older).toBeTruthy();
    const second = await get((older as string).replace(/&amp;/g, '&'));
    expect(second).toContain('item-101<');
    expect(second).toContain('item-120<');
    expect(second).not.toContain('item-100<');
    expect(second).not.toContain('rel="next"');
    // A cursor the page did not make is ignored: the newest page again, not an error.
    expect(await get('/console/audit?before=garbage')).toContain('item-1<');
  });

  it('lists a queue’s failed job with its error and retries it after confirming', async () => {
    const { jobs } = running.service;
    const id = (await jobs.boss.send('outbox.sweep', {}, { startAfter: 3600, retryLimit: 0 })) as string;
    await jobs.boss.fail('outbox.sweep', id, { message: 'lost the connection' });
    const page = text(await get('/console/jobs?queue=outbox.sweep'));
    expect(page).toContain('Failed jobs in outbox.sweep');
    expect(page).toContain('lost the connection');
    expect(page).toContain(id);
    const asked = await post('/console/jobs/retry', { queue: 'outbox.sweep', id });
    expect(text(asked.body)).toContain(`Run job ${id} of outbox.sweep again?`);
    const done = await post('/console/jobs/retry', { queue: 'outbox.sweep', id, _confirmed: 'yes' });
    expect(done.statusCode).toBe(303);
    const [job] = await running.service.db.query<{ state: string }>(
      `select state from pgboss.job where id = $1`,
      [id],
    );
    expect(job?.state).not.toBe('failed');
    const again = await post('/console/jobs/retry', { queue: 'outbox.sweep', id, _confirmed: 'yes' });
    expect(again.statusCode).toBe(409);
    expect(
      (await post('/console/jobs/retry', { queue: 'no.such.queue', id, _confirmed: 'yes' })).statusCode,
    ).toBe(404);
    expect(
      (await post('/console/jobs/retry', { queue: 'outbox.sweep', id: 'x', _confirmed: 'yes' })).statusCode,
    ).toBe(404);
  });

  it('filters the outbox by recipient, key prefix and time, and pages it', async () => {
    const { channels, db } = running.service;
    for (let i = 0; i < 55; i++)
      await channels.enqueue({
        dedupeKey: `invoice:${i}:sms:+14155550150`,
        channel: 'sms',
        to: i % 2 ? '+14155550150' : '+14155550151',
        content: { body: `Invoice ${i}` },
        sendAfter: new Date(Date.now() + 3600_000),
      });
    await waitFor('55 queued rows', async () => {
      const [row] = await db.query<{ n: number }>(
        `select count(*)::int as n from outbox_messages where status = 'queued'`,
      );
      return (row?.n ?? 0) >= 55;
    });
    const all = await get('/console/outbox');
    expect(all).toContain('rel="next"');
    const mine = text(await get('/console/outbox?to=%2B14155550150'));
    expect(mine).toContain('+14155550150');
    expect(mine).not.toContain('+14155550151');
    const one = text(await get('/console/outbox?key=invoice%3A7%3A'));
    expect(one).toContain('invoice:7:sms');
    expect(one).not.toContain('invoice:17:sms');
    const future = new Date(Date.now() + 60_000).toISOString().slice(0, 16);
    expect(text(await get(`/console/outbox?since=${future}`))).toContain('No messages match.');
    expect(text(await get(`/console/outbox?until=${future}&channel=sms&status=queued`))).toContain(
      'invoice:54:sms',
    );
  });

  it('shows the language model’s spend today against the daily budget', async () => {
    const day = new Date().toISOString().slice(0, 10);
    await running.service.db.query(
      `insert into ai_usage_daily (day, purpose, calls, input_tokens, output_tokens) values ($1, 'daily.message', 12, 30000, 20000)`,
      [day],
    );
    const overview = text(await get('/console'));
    expect(overview).toContain('50,000 tokens of the daily budget of 200,000 (25%)');
    expect(overview).toMatch(/daily\.message 12 30,000 20,000/);
  });
});

describe('console with real providers configured (their local fakes)', () => {
  let providers: Providers;
  let running: TestService;

  beforeAll(async () => {
    providers = await startProviders();
    running = await startTestService('pglite', { env: providers.env });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
  });

  it('says there is no sandbox for channels that have providers, and marks none as SANDBOX', async () => {
    const first = await running.service.app.inject({ url: '/console' });
    const cookie = cookieOf(first.headers);
    expect(first.body).not.toContain('class="banner sandbox"');
    expect(text(first.body)).toMatch(/sms driver\s+up\s+twilio/);
    const page = async (url: string) =>
      text((await running.service.app.inject({ url, headers: { cookie } })).body);
    expect(await page('/console/sandbox')).toContain(
      'SMS go through twilio: there is no sandbox inbox for them.',
    );
    expect(await page('/console/sandbox?tab=email')).toContain('Email goes through sendgrid');
    expect(await page('/console/sandbox?tab=slack')).toContain('Slack goes through its workspace');
  });
});
