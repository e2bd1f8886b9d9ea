import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeSmtp } from './fakes/smtp.ts';
import { startSmtp } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

describe('email through SMTP', () => {
  let smtp: FakeSmtp;
  let running: TestService;
  beforeAll(async () => {
    const started = await startSmtp();
    smtp = started.smtp;
    running = await startTestService('pglite', {
      env: { ...started.env, OUTBOX_RETRY_BASE_SECONDS: '0.2', OUTBOX_RETRY_MAX_SECONDS: '1' },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await smtp?.close();
  });
  const settled = (id: string) =>
    waitFor(`message ${id}`, async () => {
      const [row] = await running.service.db.query<{
        status: string;
        attempts: number;
        error_code: string | null;
      }>('select status, attempts, error_code from outbox_messages where id = $1', [id]);
      return row && !['queued', 'sending'].includes(row.status) ? row : undefined;
    });

  it('delivers through the server and records it as sent', async () => {
    const result = await running.service.channels.enqueue({
      dedupeKey: 'smtp:1',
      channel: 'email',
      to: 'ap@example.com',
      content: { subject: 'Invoice INV-7 needs review', text: 'Please look', html: '<p>Please look</p>' },
    });
    expect(await settled(result.id)).toMatchObject({ status: 'sent', attempts: 1 });
    const message = smtp.messages.find((m) => m.to.includes('ap@example.com'));
    expect(message?.raw).toContain('Subject: Invoice INV-7 needs review');
    expect(message?.raw).toMatch(new RegExp(`X-Switchboard-Outbox-Id: ${result.id}`, 'i'));
    expect(message?.user).toBe('mailer');
  });

  it('fails at once on a permanent 5xx, retries a temporary 4xx', async () => {
    smtp.rejectRecipient('nobody@example.com', 550);
    const gone = await running.service.channels.enqueue({
      dedupeKey: 'smtp:550',
      channel: 'email',
      to: 'nobody@example.com',
      content: { subject: 's', text: 't' },
    });
    expect(await settled(gone.id)).toMatchObject({ status: 'failed', attempts: 1 });

    smtp.inject({ stage: 'rcpt', code: 451, address: 'later@example.com', times: 1 });
    const later = await running.service.channels.enqueue({
      dedupeKey: 'smtp:451',
      channel: 'email',
      to: 'later@example.com',
      content: { subject: 's', text: 't' },
    });
    expect(await settled(later.id)).toMatchObject({ status: 'sent', attempts: 2 });
  });
});
