import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicesApp } from '../src/apps/invoices/app.ts';
import { countSegments } from '../src/platform/channels/sms/segments.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { type Providers, startProviders } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const RECIPIENTS = 'ap@example.com, +1 415 555 0100, not-an-address, +1555';

const invoice = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  vendor_name: 'Acme Supplies',
  total_minor: 494880,
  currency: 'USD',
  matched_status: 'NEEDS_REVIEW',
  invoice_link: `https://ap.example.com/invoices/${id}`,
  ...extra,
});

describe.each(databaseKinds)('invoice review alerts on %s', (kind) => {
  let providers: Providers;
  let target: TestDatabase;
  let running: TestService;
  const app = () => running.service.app;
  const post = (url: string, payload?: unknown) =>
    app().inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    providers = await startProviders();
    target = await createTestDatabase(kind);
    running = await startTestService(kind, {
      target,
      apps: [invoicesApp],
      env: { ...providers.env, NOTIFICATION_RECIPIENTS: RECIPIENTS },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
    await target?.drop();
  });

  describe('the invoices API', () => {
    it('creates one or many, updates, and lists by status', async () => {
      const one = await post('/invoices', invoice('API-1'));
      expect(one.statusCode).toBe(201);
      expect(one.json()).toEqual({ created: 1, updated: 0, ids: ['API-1'] });
      const bulk = await post('/invoices', {
        invoices: [
          invoice('API-2'),
          invoice('API-3', { matched_status: 'MATCHED' }),
          invoice('API-1', { vendor_name: 'Acme Ltd' }),
        ],
      });
      expect(bulk.json()).toEqual({ created: 2, updated: 1, ids: ['API-2', 'API-3', 'API-1'] });
      const updated = await app().inject({
        method: 'PUT',
        url: '/invoices/API-2',
        payload: { matched_status: 'APPROVED', total_minor: 100 },
      });
      expect(updated.json()).toMatchObject({
        id: 'API-2',
        matched_status: 'APPROVED',
        total_minor: 100,
        vendor_name: 'Acme Supplies',
      });
      const list = (await app().inject('/invoices?status=NEEDS_REVIEW')).json();
      expect(list.invoices.map((i: { id: string }) => i.id)).toContain('API-1');
      expect(list.invoices.find((i: { id: string }) => i.id === 'API-1').vendor_name).toBe('Acme Ltd');
      expect(
        (await app().inject({ method: 'PUT', url: '/invoices/NOPE', payload: { matched_status: 'PAID' } }))
          .statusCode,
      ).toBe(404);
    });

    it('refuses bad input with the field and reason, and writes nothing of a bad batch', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [invoice('BAD-1', { total_minor: -5 }), 'body.total_minor'],
        [invoice('BAD-2', { total_minor: 49.5 }), 'body.total_minor'],
        [invoice('BAD-3', { currency: 'XYZ' }), 'body.currency'],
        [invoice('BAD-4', { vendor_name: 'x'.repeat(301) }), 'body.vendor_name'],
        [invoice('BAD-5', { colour: 'red' }), 'body'],
        [invoice('BAD-6', { matched_status: 'MAYBE' }), 'body.matched_status'],
      ];
      for (const [body, field] of cases) {
        const response = await post('/invoices', body);
        expect(response.statusCode, JSON.stringify(body)).toBe(400);
        expect(response.json().error.code).toBe('invalid_input');
        expect(response.json().error.details.map((d: { field: string }) => d.field)).toContain(field);
      }
      const batch = await post('/invoices', {
        invoices: [invoice('BATCH-OK'), invoice('BATCH-BAD', { total_minor: 'lots' })],
      });
      expect(batch.statusCode).toBe(400);
      expect(batch.json().error.details.map((d: { field: string }) => d.field)).toContain(
        'body.invoices.1.total_minor',
      );
      expect((await app().inject('/invoices/BATCH-OK')).statusCode).toBe(404);
      const tooMany = await post('/invoices', {
        invoices: Array.from({ length: 1001 }, (_, i) => invoice(`MANY-${i}`)),
      });
      expect(tooMany.statusCode).toBe(400);
    });
  });

  describe('scans', () => {
    it('queue one email and one SMS per valid recipient; a second scan sends nothing new', async () => {
      await post('/invoices', {
        invoices: [invoice('SCAN-1'), invoice('SCAN-2', { vendor_name: 'Globex' })],
      });
      const first = (await post('/invoices/scans')).json();
      const needing = (await app().inject('/invoices?status=NEEDS_REVIEW&limit=1000')).json().invoices.length;
      expect(first).toMatchObject({
        trigger: 'api',
        source: 'local',
        matched: needing,
        enqueued: needing * 2,
        invalidRecipients: 2,
        error: null,
      });

      await waitFor(
        'SCAN-2 alerts',
        () =>
          providers.sendgrid.sentMessages.some((m) => m.subject?.includes('SCAN-2')) &&
          providers.twilio.sentMessages.some((m) => m.body.includes('SCAN-2')),
      );
      const second = (await post('/invoices/scans')).json();
      expect(second).toMatchObject({ matched: needing, enqueued: 0, duplicates: needing * 2 });
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(providers.sendgrid.sentMessages.filter((m) => m.subject?.includes('SCAN-2'))).toHaveLength(1);
      expect(providers.twilio.sentMessages.filter((m) => m.body.includes('SCAN-2'))).toHaveLength(1);
      expect(providers.twilio.sentMessages.find((m) => m.body.includes('SCAN-2'))?.to).toBe('+14155550100');

      const scans = (await app().inject('/invoices/scans')).json().scans;
      expect(scans[0].id).toBe(second.id);
      expect(running.logs.text()).toContain('NOTIFICATION_RECIPIENTS entry skipped');
    });

    it('are measured: alerts by channel and outcome, scan duration, invoices waiting', async () => {
      await post('/invoices/scans');
      const text = (await app().inject('/metrics')).body;
      const value = (prefix: string) =>
        Number(
          text
            .split('\n')
            .find((l) => l.startsWith(prefix))
            ?.split(' ')
            .at(-1),
        );
      expect(value('invoice_notifications_total{channel="email",outcome="enqueued"}')).toBeGreaterThan(0);
      expect(value('invoice_notifications_total{channel="sms",outcome="duplicate"}')).toBeGreaterThan(0);
      expect(value('invoice_notifications_total{channel="sms",outcome="invalid_recipient"}')).toBeGreaterThan(
        0,
      );
      expect(value('invoice_scan_duration_seconds_count{source="local"}')).toBeGreaterThanOrEqual(3);
      const waiting = (await app().inject('/invoices?status=NEEDS_REVIEW&limit=1000')).json().invoices.length;
      expect(value('invoices_awaiting_review')).toBe(waiting);
    });

    it('two scans at once still queue each alert once', async () => {
      await post('/invoices', {
        invoices: Array.from({ length: 40 }, (_, i) => invoice(`PAR-${String(i).padStart(2, '0')}`)),
      });
      const [a, b] = await Promise.all([post('/invoices/scans'), post('/invoices/scans')]);
      const enqueued = a.json().enqueued + b.json().enqueued;
      const [row] = await running.service.db.query<{ count: string }>(
        "select count(*) as count from outbox_messages where dedupe_key like 'invoice:PAR-%'",
      );
      expect(Number(row?.count)).toBe(80);
      expect(enqueued).toBe(80);
      await waitFor('every PAR alert', async () => {
        const [sent] = await running.service.db.query<{ count: string }>(
          "select count(*) as count from outbox_messages where dedupe_key like 'invoice:PAR-%' and status = 'sent'",
        );
        return Number(sent?.count) === 80;
      });
      expect(providers.twilio.sentMessages.filter((m) => m.body.includes('PAR-'))).toHaveLength(40);
    });

    it('renders hostile vendor names safely: escaped in HTML, plain in text, one SMS segment', async () => {
      const vendor = '<script>alert("x")</script> & Sons "Ltd" \u00e9\u00e8';
      await post(
        '/invoices',
        invoice('XSS-1', { vendor_name: vendor, total_minor: 123456789, currency: 'EUR' }),
      );
      await post('/invoices/scans');
      const email = await waitFor('the XSS-1 email', () =>
        providers.sendgrid.sentMessages.find((m) => m.subject?.includes('XSS-1')),
      );
      const body = email.body as { content: Array<{ type: string; value: string }> };
      const html = body.content.find((c) => c.type === 'text/html')?.value ?? '';
      const text = body.content.find((c) => c.type === 'text/plain')?.value ?? '';
      expect(html).not.toContain('<script>');
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons &quot;Ltd&quot;');
      expect(html).toContain('€1,234,567.89');
      expect(text).toContain(`${vendor} for €1,234,567.89`);
      const sms = await waitFor('the XSS-1 SMS', () =>
        providers.twilio.sentMessages.find((m) => m.body.includes('XSS-1')),
      );
      expect(countSegments(sms.body).segments).toBe(1);
    });
  });
});

describe.each(databaseKinds)('an invoice leaving review before its alert goes out (%s)', (kind) => {
  it('is not notified', async () => {
    const providers = await startProviders();
    const target = await createTestDatabase(kind);
    const env = { ...providers.env, NOTIFICATION_RECIPIENTS: 'ap@example.com,+14155550100' };
    try {
      // An API-only process scans (and queues); nothing delivers yet.
      const api = await startTestService(kind, { target, apps: [invoicesApp], env, mode: 'http' });
      await api.service.app.inject({
        method: 'POST',
        url: '/invoices',
        payload: { invoices: [invoice('LEAVE-1'), invoice('STAY-1')] },
      });
      expect((await api.service.app.inject({ method: 'POST', url: '/invoices/scans' })).json().enqueued).toBe(
        4,
      );
      await api.service.app.inject({
        method: 'PUT',
        url: '/invoices/LEAVE-1',
        payload: { matched_status: 'MATCHED' },
      });
      await api.dispose();

      // Workers start afterwards: the alerts for LEAVE-1 are cancelled, STAY-1's go out.
      const worker = await startTestService(kind, { target, apps: [invoicesApp], env });
      try {
        const statuses = await waitFor('every alert to settle', async () => {
          const rows = await worker.service.db.query<{
            dedupe_key: string;
            status: string;
            last_error: string | null;
          }>(
            "select dedupe_key, status, last_error from outbox_messages where dedupe_key like 'invoice:%' order by dedupe_key",
          );
          return rows.every((r) => ['sent', 'cancelled'].includes(r.status)) ? rows : undefined;
        });
        expect(
          statuses.filter((r) => r.dedupe_key.startsWith('invoice:LEAVE-1:')).map((r) => r.status),
        ).toEqual(['cancelled', 'cancelled']);
        expect(statuses.find((r) => r.dedupe_key.startsWith('invoice:LEAVE-1:'))?.last_error).toBe(
          'invoice LEAVE-1 no longer needs review',
        );
        expect(
          statuses.filter((r) => r.dedupe_key.startsWith('invoice:STAY-1:')).map((r) => r.status),
        ).toEqual(['sent', 'sent']);
        expect(providers.twilio.sentMessages.some((m) => m.body.includes('LEAVE-1'))).toBe(false);
        expect(providers.sendgrid.sentMessages.some((m) => m.subject?.includes('LEAVE-1'))).toBe(false);
      } finally {
        await worker.dispose();
      }
    } finally {
      await providers.close();
      await target.drop();
    }
  });
});
