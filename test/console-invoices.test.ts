// The invoices app's console past its first screen (the real service with the app, PGlite): with
// nobody to tell, invoices paged 50 at a time, one invoice with its alerts paged, unknown invoices
// as 404 pages, and, for a team's own database (PostgreSQL), an alert for an invoice only they
// hold and a scan whose query fails, as the operator reads it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicesApp } from '../src/apps/invoices/app.ts';
import { type ConsoleSession, openConsole, text } from './helpers/console.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const invoice = (id: string, status = 'NEEDS_REVIEW', link: string | null = null) => ({
  id,
  vendor_name: `Vendor of ${id}`,
  total_minor: 12_345,
  currency: 'USD',
  matched_status: status,
  invoice_link: link,
});

describe('the invoices console with nobody to tell', () => {
  let running: TestService;
  let operator: ConsoleSession;
  const post = (invoices: unknown[]) =>
    running.service.app.inject({ method: 'POST', url: '/invoices', payload: { invoices } });

  beforeAll(async () => {
    running = await startTestService('pglite', { apps: [invoicesApp], env: { NOTIFICATION_RECIPIENTS: '' } });
    operator = await openConsole(running.service.app);
  });
  afterAll(() => running?.dispose());

  it('says nobody is told, and a scan finds the invoices but queues nothing', async () => {
    const empty = text(await operator.page('/console/invoices'));
    expect(empty).toContain('0 invoices need review.');
    expect(empty).toContain('No invoice needs review.');
    expect(empty).toContain('No scan yet.');
    expect(empty).toContain('Nobody: NOTIFICATION_RECIPIENTS has no valid entry');
    expect(empty).toContain('Every entry is a valid email address or phone number.');

    expect((await post([invoice('ONE-1', 'NEEDS_REVIEW', 'https://ap.example.com/ONE-1')])).statusCode).toBe(
      201,
    );
    expect(text(await operator.page('/console/invoices'))).toContain('1 invoice needs review.');
    const landed = await operator.act('/console/invoices/scan');
    expect(text(await operator.page(landed))).toContain(
      'Scan done: matched 1, queued 0, already queued 0, rejected 0, invalid recipients 0.',
    );
    expect(text(await operator.page('/console/invoices'))).toMatch(/console 1 0 0 0 0 [\d,]+ ms completed/);
    const one = await operator.page('/console/invoices/ONE-1');
    expect(text(one)).toMatch(
      /Status NEEDS REVIEW Vendor Vendor of ONE-1 Total \$123\.45 Link https:\/\/ap\.example\.com\/ONE-1/,
    );
    expect(one).toContain('href="https://ap.example.com/ONE-1"');
    expect(text(one)).toContain('No alert queued for this invoice yet.');
    expect(one).toContain('href="/console/outbox?key=invoice%3AONE-1%3A"');
  });

  it('pages the invoices awaiting review 50 at a time', async () => {
    const many = Array.from({ length: 60 }, (_, i) => invoice(`PAGE-${String(i).padStart(3, '0')}`));
    expect((await post([...many, invoice('PAGE-MATCHED', 'MATCHED')])).statusCode).toBe(201);
    const first = await operator.page('/console/invoices');
    expect(text(first)).toContain('61 invoices need review.');
    const next = /href="(\/console\/invoices\?after=[^"]+)" rel="next"/.exec(first)?.[1];
    expect(next).toBeTruthy();
    const second = await operator.page(next as string);
    expect(second).toContain('href="/console/invoices">First</a>');
    expect(text(second)).toContain('PAGE-059');
    expect(text(second)).not.toContain('PAGE-MATCHED');
    // A matched invoice is not awaiting review, but has its page.
    expect(text(await operator.page('/console/invoices/PAGE-MATCHED'))).toMatch(/Status MATCHED .* Link —/);
  });

  it('answers an unknown or malformed invoice id with 404', async () => {
    const unknown = await operator.get('/console/invoices/NOPE-1');
    expect(unknown.statusCode).toBe(404);
    expect(text(unknown.body)).toContain('Invoice NOPE-1');
    expect(
      (await operator.get(`/console/invoices/${encodeURIComponent('bad id with spaces!')}`)).statusCode,
    ).toBe(404);
  });

  it('pages an invoice’s alerts 50 at a time, with their delivery', async () => {
    expect((await post([invoice('ALERTS-1')])).statusCode).toBe(201);
    for (let i = 0; i < 52; i++)
      await running.service.channels.enqueue({
        dedupeKey: `invoice:ALERTS-1:email:ap${i}@example.com`,
        channel: 'email',
        to: `ap${i}@example.com`,
        content: { subject: 'Invoice ALERTS-1 needs review', text: 'Please look' },
        sendAfter: new Date(Date.now() + 24 * 3600_000),
      });
    const first = await operator.page('/console/invoices/ALERTS-1');
    expect((text(first).match(/ email ap\d+@example\.com queued /g) ?? []).length).toBe(50);
    const older = /href="(\/console\/invoices\/ALERTS-1\?[^"]+)" rel="next"/
      .exec(first)?.[1]
      ?.replace(/&amp;/g, '&');
    const second = text(await operator.page(older as string));
    expect((second.match(/ email ap\d+@example\.com queued /g) ?? []).length).toBe(2);
  });
});

describe.runIf(databaseKinds.includes('postgres'))('the invoices console on a team’s own database', () => {
  let theirs: TestDatabase;
  let running: TestService;
  let operator: ConsoleSession;

  beforeAll(async () => {
    theirs = await createTestDatabase('postgres');
    if (theirs.config.kind !== 'postgres') throw new Error('expected postgres');
    running = await startTestService('pglite', {
      apps: [invoicesApp],
      env: {
        NOTIFICATION_RECIPIENTS: 'ap@example.com,+1555',
        INVOICE_SOURCE_URL: theirs.config.url,
        // Their table is not there (renamed, or a typo): every scan fails with the database's words.
        INVOICE_SOURCE_QUERY: 'select id, vendor_name, total_minor, currency, matched_status from ap.missing',
      },
    });
    operator = await openConsole(running.service.app);
  });
  afterAll(async () => {
    await running?.dispose();
    await theirs?.drop();
  });

  it('shows where invoices come from, the invalid recipient, and a failed scan', async () => {
    const page = text(await operator.page('/console/invoices'));
    expect(page).toContain('Invoices are read from the team’s own database (INVOICE_SOURCE_URL)');
    expect(page).toMatch(/Invalid entries, skipped by every scan Entry Why \+1555 /);
    expect(page).toMatch(/email ap@example\.com/);
    const landed = await operator.act('/console/invoices/scan');
    const after = text(await operator.page(landed));
    expect(after).toMatch(/Scan failed: .*ap\.missing.* \(matched 0, queued 0/);
    expect(after).toMatch(/console 0 0 0 0 1 .*failed .*ap\.missing/);
    const overview = text(await operator.page('/console'));
    expect(overview).toContain('NOTIFICATION_RECIPIENTS entry “+1555”');
  });

  it('shows an alert for an invoice only their database holds', async () => {
    await running.service.channels.enqueue({
      dedupeKey: 'invoice:EXT-9:email:ap@example.com',
      channel: 'email',
      to: 'ap@example.com',
      content: { subject: 'Invoice EXT-9 needs review', text: 'Please look' },
      sendAfter: new Date(Date.now() + 24 * 3600_000),
    });
    const page = text(await operator.page('/console/invoices/EXT-9'));
    expect(page).toContain(
      'This invoice is not in Switchboard’s table (it came from the team’s own database).',
    );
    expect(page).toMatch(/email ap@example\.com queued 0/);
  });
});
