// A crash left an SMS in `sending` after Twilio took it, and the number has since had more messages
// than one read-back lists (OUTBOX_READBACK_MAX_MESSAGES): the read-back cannot say "not sent". It
// is retried, never resent, until OUTBOX_READBACK_GIVE_UP_AFTER_MINUTES after the attempt; then the
// message ends `failed`, delivery unknown, as the operator sees it. Between read-backs refused for
// their limit the wait doubles the time undecided (readBackLimitDelay), checked here and by hand.
// Real outbox, PostgreSQL, the Twilio fake; what the fake received is counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { readBackLimitDelay } from '../src/platform/channels/outbox/deliver.ts';
import type { OutboxRow } from '../src/platform/channels/schema.ts';
import { openConsole, text } from './helpers/console.ts';
import { databaseKinds } from './helpers/databases.ts';
import { type Providers, startProviders, twilioDriverAt } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const TO = '+14155550901';
const BODY = 'Invoice INV-77 needs review';
const TOKEN = 'readback-test-admin-token-0123456789';

describe.runIf(databaseKinds.includes('postgres'))('a read-back that cannot decide (PostgreSQL)', () => {
  let providers: Providers;
  let running: TestService;
  const db = () => running.service.db;
  const row = async (id: string) =>
    (
      await db().query<{
        status: string;
        attempts: number;
        error_code: string | null;
        last_error: string | null;
        provider_id: string | null;
      }>('select status, attempts, error_code, last_error, provider_id from outbox_messages where id = $1', [
        id,
      ])
    )[0];
  /** What reached the phone: the fake's accepted messages to the number with the alert's text. */
  const received = () => providers.twilio.sentMessages.filter((m) => m.to === TO && m.body === BODY);
  const readBacks = () =>
    providers.twilio.requests.filter((r) => r.method === 'GET' && r.query.get('To') === TO).length;
  const posts = () =>
    providers.twilio.requests.filter((r) => r.method === 'POST' && r.form?.get('To') === TO).length;

  beforeAll(async () => {
    providers = await startProviders();
    running = await startTestService('postgres', {
      env: {
        ...providers.env,
        ADMIN_API_TOKEN: TOKEN,
        OUTBOX_READBACK_MAX_MESSAGES: '5',
        OUTBOX_READBACK_GIVE_UP_AFTER_MINUTES: '60',
        // The providers' one second would cap the wait between read-backs refused for their limit.
        OUTBOX_RETRY_MAX_SECONDS: '3600',
        // Recovery sweeps every second or two: the stranded row is taken up without a long wait.
        OUTBOX_LEASE_SECONDS: '5',
      },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
  });

  it('retries without sending within the bound, then fails as delivery unknown; only Retry sends it', async () => {
    const twilio = twilioDriverAt(providers.twilio.url);
    const asRow = (body: string) => ({ recipient: TO, content: { body } }) as unknown as OutboxRow;
    // The attempt that reached Twilio, then eight more messages to the same number (another app's).
    await twilio.send(asRow(BODY));
    for (let i = 0; i < 8; i++) await twilio.send(asRow(`other alert ${i}`));

    // The row as the crash left it: `sending`, its lease lapsed, unconfirmed since five minutes ago.
    const { id } = await running.service.channels.enqueue({
      dedupeKey: 'test:readback-bound:1',
      channel: 'sms',
      to: TO,
      content: { body: BODY },
      sendAfter: new Date(Date.now() + 24 * 3600_000),
    });
    await db().query(
      `update outbox_messages set status = 'sending', attempts = 1, send_after = null,
              attempt_id = gen_random_uuid(), lease_expires_at = now() - interval '1 second',
              attempt_started_at = now() - interval '5 minutes', unconfirmed_since = now() - interval '5 minutes'
        where id = $1`,
      [id],
    );
    const postsBefore = posts();

    // Within the bound: read back, cannot decide, retried later; nothing sent, no attempt used.
    await waitFor(
      'the row queued with the read-back limit as its error',
      async () => (await row(id))?.error_code === 'readback_limit',
      60_000,
    );
    const waiting = await row(id);
    expect(waiting).toMatchObject({ status: 'queued', attempts: 1 });
    expect(readBacks()).toBe(1);
    expect(received()).toHaveLength(1);
    expect(posts()).toBe(postsBefore);
    // Tried again once it has been undecided twice as long (five minutes more), not in seconds: each
    // such read-back lists the whole limit, and can only be refused again.
    const [due] = await db().query<{ in_seconds: number }>(
      `select extract(epoch from send_after - now())::float8 as in_seconds from outbox_messages where id = $1`,
      [id],
    );
    expect(due?.in_seconds).toBeGreaterThan(270);
    expect(due?.in_seconds).toBeLessThan(310);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(readBacks()).toBe(1);

    // An hour later (the attempt backdated past the bound and the retry made due, while no attempt
    // holds the row).
    const updated = await db().query<{ id: string }>(
      `update outbox_messages set unconfirmed_since = now() - interval '61 minutes', send_after = now()
        where id = $1 and status = 'queued' returning id`,
      [id],
    );
    expect(updated).toHaveLength(1);
    await db().query(
      `update pgboss.job set start_after = now()
        where name = 'outbox.deliver' and state in ('created', 'retry') and data->>'id' = $1`,
      [id],
    );
    const failed = await waitFor('the row to fail as delivery unknown', async () => {
      const current = await row(id);
      return current?.status === 'failed' ? current : undefined;
    });
    expect(failed).toMatchObject({ status: 'failed', error_code: 'delivery_unknown', attempts: 1 });
    expect(failed.provider_id).toBeNull();
    expect(failed.last_error).toContain('delivery unknown');
    expect(failed.last_error).toContain('may have reached twilio');
    expect(failed.last_error).toContain('for over 60 min');
    expect(failed.last_error).toContain('not sent again');
    expect(failed.last_error).toContain('read-back stopped after 5 messages');
    // Never resent by the worker: Twilio still has the one message the crashed attempt sent.
    expect(received()).toHaveLength(1);
    expect(posts()).toBe(postsBefore);

    // What the operator sees: the failed list and the message's page say why, and Retry asks first.
    const operator = await openConsole(running.service.app, { token: TOKEN });
    const list = text(await operator.page('/console/outbox?status=failed'));
    expect(list).toContain(TO);
    expect(list).toContain('delivery unknown');
    const one = text(await operator.page(`/console/outbox/${id}`));
    expect(one).toContain('delivery_unknown');
    expect(one).toContain('not sent again');
    const question = text((await operator.submit(`/console/outbox/${id}/retry`)).body);
    expect(question).toContain(`Send this sms message to ${TO} again? It is failed (delivery unknown`);
    expect(received()).toHaveLength(1);

    // Retry is the operator's decision to risk a duplicate: it sends, not another failed read-back.
    await operator.act(`/console/outbox/${id}/retry`);
    const sent = await waitFor('the retried message to be sent', async () => {
      const current = await row(id);
      return current?.status === 'sent' ? current : undefined;
    });
    expect(received()).toHaveLength(2);
    expect(sent.provider_id).toBe(received()[1]?.sid);
  }, 120_000);
});

describe('readBackLimitDelay', () => {
  const at = new Date('2026-12-01T12:00:00Z');
  const deps = (env: Record<string, string> = {}) => ({
    config: loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', ...env }),
    now: () => at,
  });
  const since = (secondsAgo: number) => new Date(at.getTime() - secondsAgo * 1000);

  it('waits as long again as the message has been undecided, from the first retry delay up', () => {
    expect(readBackLimitDelay(deps(), since(1))).toBe(5_000); // OUTBOX_RETRY_BASE_SECONDS
    expect(readBackLimitDelay(deps(), since(20))).toBe(20_000);
    expect(readBackLimitDelay(deps(), since(300))).toBe(300_000);
  });

  it('tries again just past the give-up bound, not later, and no later than the last retry delay', () => {
    // Undecided 40 of 60 minutes: once more 1 s past the bound (it then ends as delivery unknown).
    expect(readBackLimitDelay(deps(), since(40 * 60))).toBe(20 * 60_000 + 1000);
    // Past the bound already: at the first retry delay.
    expect(readBackLimitDelay(deps(), since(61 * 60))).toBe(5_000);
    // A longer bound: capped at OUTBOX_RETRY_MAX_SECONDS.
    const long = deps({ OUTBOX_READBACK_GIVE_UP_AFTER_MINUTES: '1440', OUTBOX_RETRY_MAX_SECONDS: '600' });
    expect(readBackLimitDelay(long, since(3 * 3600))).toBe(600_000);
  });
});
