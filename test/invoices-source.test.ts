// Teams whose invoices live elsewhere point the scan at their own PostgreSQL with a query.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicesApp } from '../src/apps/invoices/app.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { type Providers, startProviders } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const QUERY = `select invoice_no as id, supplier as vendor_name, amount_cents as total_minor, ccy as currency,
  review_state as matched_status, url as invoice_link from ap.invoices`;

describe.runIf(databaseKinds.includes('postgres'))('scanning a team’s own PostgreSQL', () => {
  let theirs: TestDatabase;
  let providers: Providers;
  let running: TestService;
  let client: pg.Client;

  beforeAll(async () => {
    theirs = await createTestDatabase('postgres');
    if (theirs.config.kind !== 'postgres') throw new Error('expected postgres');
    client = new pg.Client({ connectionString: theirs.config.url });
    await client.connect();
    await client.query(`create schema ap;
      create table ap.invoices (invoice_no text primary key, supplier text, amount_cents bigint, ccy text, review_state text, url text);
      insert into ap.invoices values
        ('EXT-1', 'Acme', 494880, 'USD', 'NEEDS_REVIEW', 'https://erp.example.com/EXT-1'),
        ('EXT-2', 'Globex', 1000, 'USD', 'MATCHED', null),
        ('EXT-3', 'Broken', 100, 'ZZZ', 'NEEDS_REVIEW', null),
        ('EXT-4', 'Initech', 250000, 'EUR', 'NEEDS_REVIEW', null),
        ('EXT-5', 'Card 4242 4242 4242 4242 Ltd', 700, 'USD', 'NEEDS_REVIEW', null);`);
    providers = await startProviders();
    running = await startTestService('pglite', {
      apps: [invoicesApp],
      env: {
        ...providers.env,
        NOTIFICATION_RECIPIENTS: 'ap@example.com',
        INVOICE_SOURCE_URL: theirs.config.url,
        INVOICE_SOURCE_QUERY: QUERY,
      },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
    await client?.end();
    await theirs?.drop();
  });

  it('alerts on the rows the query returns as needing review, skipping rows that do not validate', async () => {
    const scan = (await running.service.app.inject({ method: 'POST', url: '/invoices/scans' })).json();
    expect(scan).toMatchObject({ source: 'external', matched: 3, enqueued: 3, rejected: 1, error: null });
    await waitFor('the emails', () => providers.sendgrid.sentMessages.length === 3);
    const subjects = providers.sendgrid.sentMessages.map((m) => m.subject).sort();
    expect(subjects.slice(0, 2)).toEqual([
      'Invoice EXT-1 from Acme needs review',
      'Invoice EXT-4 from Initech needs review',
    ]);
    // A card number in their vendor name is masked before it is stored or sent.
    expect(subjects[2]).toMatch(/^Invoice EXT-5 from Card .*REDACTED.* Ltd needs review$/);
    const stored = await running.service.db.query<{ content: unknown }>(
      'select content from outbox_messages',
    );
    expect(stored).toHaveLength(3);
    expect(JSON.stringify(stored)).not.toMatch(/4242 ?4242 ?4242/);
    expect(JSON.stringify(providers.sendgrid.sentMessages)).not.toMatch(/4242 ?4242 ?4242/);
    expect(running.logs.text()).toContain('invoice source row skipped');
  });

  it('reads their database read-only', async () => {
    await client.query(
      `create or replace function ap.touch() returns int language sql as 'insert into ap.invoices values (''X'', ''x'', 1, ''USD'', ''MATCHED'', null) returning 1'`,
    );
    const malicious = await startTestService('pglite', {
      apps: [invoicesApp],
      env: {
        NOTIFICATION_RECIPIENTS: 'ap@example.com',
        INVOICE_SOURCE_URL: theirs.config.kind === 'postgres' ? theirs.config.url : '',
        INVOICE_SOURCE_QUERY: `${QUERY} where ap.touch() = 1`,
      },
    });
    try {
      const scan = (await malicious.service.app.inject({ method: 'POST', url: '/invoices/scans' })).json();
      expect(scan.error).toContain('read-only transaction');
      expect((await client.query("select 1 from ap.invoices where invoice_no = 'X'")).rowCount).toBe(0);
    } finally {
      await malicious.dispose();
    }
  });
});
