// CreditBot's console past its first screen (the real service with CreditBot and the sandbox Slack,
// PGlite): the requests paged and filtered by status, a request not yet computed, one that failed
// partway with the links it had done, bad filters and unknown requests as error pages, a retry
// refused for a request that did not fail, and the sandbox composer's refusals and "not a request".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import type { CreditSummary } from '../src/apps/credits/compute.ts';
import { claimRequest, completeRequest, failRequest, insertRequest } from '../src/apps/credits/store.ts';
import { type ConsoleSession, openConsole, text } from './helpers/console.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const LOOK = 'https://looker.sandbox.localhost/looks/1';

describe('the CreditBot console', () => {
  let running: TestService;
  let operator: ConsoleSession;
  const db = () => running.service.db;
  let ts = 1_700_000_000;
  /** A request as intake stores it; no job is sent, so it stays as written. */
  const request = async (message: string, channel = 'C0CONSOLE1') => {
    const row = await insertRequest(db().orm, {
      channel,
      ts: `${ts++}.000100`,
      text: message,
      intake: 'api',
    });
    return row?.id as string;
  };

  beforeAll(async () => {
    running = await startTestService('pglite', { apps: [creditsApp] });
    operator = await openConsole(running.service.app);
  });
  afterAll(() => running?.dispose());

  it('shows no requests and no credits before any', async () => {
    const page = text(await operator.page('/console/credits'));
    expect(page).toContain('No credit requests match.');
    expect(page).toContain('$0.00 granted in 0 answered requests over the last 12 weeks.');
    expect(page).toContain('No credits granted in this time.');
  });

  it('pages the requests 50 at a time, newest first, and filters them by status', async () => {
    for (let i = 0; i < 52; i++) await request(`credit number ${i} ${LOOK}`);
    // Inserted within the same few milliseconds, some share a created_at and then come in either
    // order: a second apart each, "newest first" is one order.
    await db().query(
      `update credit_requests set created_at = now() - interval '1 hour' + split_part(text, ' ', 3)::int * interval '1 second'
        where text like 'credit number %'`,
    );
    const first = await operator.page('/console/credits?status=queued');
    expect(text(first)).toContain('credit number 51');
    expect(text(first)).not.toContain('credit number 1 ');
    const older = /href="(\/console\/credits\?[^"]+)" rel="next"/.exec(first)?.[1]?.replace(/&amp;/g, '&');
    expect(older).toContain('status=queued');
    expect(older).toContain('before=');
    const second = text(await operator.page(older as string));
    expect(second).toContain('credit number 0 ');
    expect(second).toContain('credit number 1 ');
    expect(second).not.toContain('credit number 2 ');
    expect(text(await operator.page('/console/credits?status=done'))).toContain('No credit requests match.');
    // A long message is cut short in the list; the request's own page has all of it.
    const long = await request(`credit ${'x'.repeat(120)} ${LOOK}`);
    const list = text(await operator.page('/console/credits?status=queued'));
    expect(list).toContain(`credit ${'x'.repeat(72)}…`);
    expect(text(await operator.page(`/console/credits/${long}`))).toContain('x'.repeat(120));
  });

  it('shows a request not yet computed, and refuses to retry it (409, in the audit log)', async () => {
    const id = await request(`credit this ${LOOK}`);
    const page = text(await operator.page(`/console/credits/${id}`));
    expect(page).toContain('No summary yet: the request has not been computed.');
    expect(page).not.toContain('Retry this request');
    const refused = await operator.submit(`/console/credits/${id}/retry`, { _confirmed: 'yes' });
    expect(refused.statusCode).toBe(409);
    const [entry] = await db().query<{ outcome: string; target: string }>(
      "select outcome, target from audit_log where action = 'credits.retry'",
    );
    expect(entry).toEqual({ outcome: 'refused', target: id });
  });

  it('shows a request that failed partway: the failure, the link done, the link skipped; retry asks with the error', async () => {
    const id = await request(`credit ${LOOK} and ${LOOK}?again`);
    await claimRequest(db().orm, id);
    await failRequest(db().orm, id, 'Looker answered 503', {
      extractedAt: new Date().toISOString(),
      durationMs: 40,
      failure: { link: 'Look 2', code: 'looker_unavailable', reason: 'Looker answered 503' },
      links: [
        { url: LOOK, link: 'Look 1', status: 'failed', reason: 'Looker answered 503', durationMs: 30 },
        {
          url: `${LOOK}?again`,
          link: 'Look 1 again',
          status: 'unreadable',
          reason: 'not a Look URL',
          durationMs: 0,
        },
      ],
    });
    const page = text(await operator.page(`/console/credits/${id}`));
    expect(page).toContain('Retry this request');
    expect(page).toMatch(/Failure Link Look 2 Code looker_unavailable Reason Looker answered 503/);
    expect(page).toMatch(/Look 1 failed .*Looker answered 503/);
    expect(page).toMatch(/Links not credited, and why .*Look 1 again unreadable not a Look URL/);
    expect(page).not.toContain('Summary table');
    const question = text((await operator.submit(`/console/credits/${id}/retry`)).body);
    expect(question).toContain(
      `Compute credit request ${id.slice(0, 8)} again? It failed: Looker answered 503.`,
    );
    // The overview lists it as needing a person.
    expect(text(await operator.page('/console'))).toContain(`Credit request ${id.slice(0, 8)} in C0CONSOLE1`);
    expect(text(await operator.page('/console/credits?status=failed'))).toContain('Looker answered 503');
  });

  it('shows answered requests however much of the summary was stored: notebook output, older summaries', async () => {
    const answer = async (message: string, summary: Partial<CreditSummary>) => {
      const id = await request(message);
      await claimRequest(db().orm, id);
      expect(await completeRequest(db().orm, id, summary as CreditSummary, message)).toBe(true);
      return id;
    };
    const notebook = {
      path: 'notebooks/credit.ipynb',
      sha256: 'cd'.repeat(32),
      injected: ['looker'],
      heading: 'Summary',
      rule: 'result' as const,
      cells: [{ executionCount: null, source: 'credit', output: '12.34' }],
      resultTable: null,
      table: null,
    };
    const one = await answer(`credit ${LOOK}`, {
      extractedAt: new Date().toISOString(),
      amountCents: 1234,
      amount: '$12.34',
      links: [
        { url: LOOK, link: 'Look 1', status: 'credited', creditCents: 1234, durationMs: 5, notebook },
        {
          url: `${LOOK}?b`,
          link: 'Look 1 b',
          status: 'credited',
          creditCents: 0,
          durationMs: 1,
          summaryText: 'No credit due',
        },
        { url: `${LOOK}?c`, link: 'Look 1 c', status: 'same_query', sameQueryAs: 'Look 1', durationMs: 0 },
      ],
    });
    const page = text(await operator.page(`/console/credits/${one}`));
    expect(page).toMatch(
      /Result Amount \$12\.34 Product — Calculator — Links credited — Links skipped — Computed in —/,
    );
    expect(page).toContain('Notebook output');
    expect(page).toMatch(/Notebook notebooks\/credit\.ipynb .* Kernel time —/);
    expect(page).toMatch(/Cell credit 12\.34/);
    expect(page).toMatch(/Look 1 b No credit due/);
    expect(page).toMatch(/Links not credited, and why Link Why Reason Look 1 c same query/);
    // One answered request: the credits' sentence in the singular.
    expect(text(await operator.page('/console/credits'))).toContain(
      '$12.34 granted in 1 answered request over',
    );

    // A summary from before amounts were kept in cents: its amount as written, no link table rows.
    const older = await answer(`credit older ${LOOK}`, {
      amount: '$5.00',
      links: [],
    } as Partial<CreditSummary>);
    const olderPage = text(await operator.page(`/console/credits/${older}`));
    expect(olderPage).toMatch(/Result Amount \$5\.00/);
    expect(olderPage).toContain('No link was computed.');
    expect(olderPage).toContain('No link was skipped.');
    expect(text(await operator.page('/console/credits?status=done'))).toContain('credit older');
  });

  it('answers a bad status or cursor with 400 and an unknown request with 404', async () => {
    const status = await operator.get('/console/credits?status=lost');
    expect(status.statusCode).toBe(400);
    expect(text(status.body)).toContain('Status lost is not one of queued, processing, done, failed');
    const cursor = await operator.get('/console/credits?before=last-week');
    expect(cursor.statusCode).toBe(400);
    expect(text(cursor.body)).toContain('`before` is not a date and time');
    const unknown = await operator.get('/console/credits/00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    expect(text(unknown.body)).toContain('Credit request 00000000-0000-4000-8000-000000000000');
    expect((await operator.get('/console/credits/nope')).statusCode).toBe(404);
    expect((await operator.submit('/console/credits/nope/retry', { _confirmed: 'yes' })).statusCode).toBe(
      404,
    );
  });

  it('refuses an empty or oversized post from the composer, and says when a post is not a request', async () => {
    const sandbox = await operator.page('/console/sandbox?tab=slack');
    expect(sandbox).toContain('Post a credit request');
    const empty = await operator.submit('/console/credits/sandbox-request', { text: '  ' });
    expect(empty.statusCode).toBe(400);
    expect(text(empty.body)).toContain('Write a message or choose a sample link.');
    const huge = await operator.submit('/console/credits/sandbox-request', { text: 'x'.repeat(40_001) });
    expect(huge.statusCode).toBe(400);
    expect(text(huge.body)).toContain('The message is longer than 40,000 characters.');
    // A sample link ticked: a request is made from the composer's text and the link.
    const made = await operator.act(
      '/console/credits/sandbox-request',
      { text: 'Please credit', link0: 'on' },
      false,
    );
    expect(text(await operator.page(made))).toMatch(/: request queued\. The answer arrives in its thread\./);
    const [posted] = await db().query<{ text: string; intake: string }>(
      "select text, intake from credit_requests where text like 'Please credit %'",
    );
    expect(posted?.intake).toBe('sandbox');
    expect(posted?.text).toMatch(/^Please credit https:\/\/looker\.sandbox\.localhost\//);
    const before = await db().query<{ n: number }>('select count(*)::int as n from credit_requests');

    const chat = await operator.act(
      '/console/credits/sandbox-request',
      { text: 'good morning, no links here' },
      false,
    );
    expect(chat).toMatch(/^\/console\/sandbox\?tab=slack&channel=C[A-Z0-9]+&done=/);
    expect(text(await operator.page(chat))).toMatch(
      /Posted to C[A-Z0-9]+ as a person would \(ts [\d.]+\): not a request \(no Looker link\)/,
    );
    const after = await db().query<{ n: number }>('select count(*)::int as n from credit_requests');
    expect(after[0]?.n).toBe(before[0]?.n);
  });
});
