// One delivery, called as the outbox's job calls it, on PostgreSQL with the Twilio driver against
// the Twilio fake and no workers running: what the claim decides for a row that is not to be sent
// (already sent, not due, suppressed, out of attempts, owned by a live attempt, in quiet hours),
// an attempt stopped before the provider call, a read-back the provider refuses for good, a match
// another row owns, a fault that is not the provider's, and an attempt that lost its row meanwhile.
// Each case asserts what the fake received and what the row holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { type DeliverDeps, deliverMessage } from '../src/platform/channels/outbox/deliver.ts';
import type { OutboxJobs } from '../src/platform/channels/outbox/jobs.ts';
import { createLeaseKeeper } from '../src/platform/channels/outbox/lease.ts';
import { createPacer } from '../src/platform/channels/pacing.ts';
import { createSandboxDriver } from '../src/platform/channels/sandbox/sandbox-driver.ts';
import type { OutboxRow } from '../src/platform/channels/schema.ts';
import { suppress } from '../src/platform/channels/suppression.ts';
import { type ChannelDriver, ProviderError } from '../src/platform/channels/types.ts';
import type { JobSystem } from '../src/platform/jobs/job-system.ts';
import { databaseKinds } from './helpers/databases.ts';
import { captureLogs } from './helpers/logs.ts';
import { type Providers, startProviders, twilioDriverAt } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';

describe.runIf(databaseKinds.includes('postgres'))('delivering one outbox message (PostgreSQL)', () => {
  let providers: Providers;
  let running: TestService;
  let twilio: ChannelDriver;
  let phone = 0;
  const nextPhone = () => `+1415555${String(7000 + phone++)}`;
  const logs = captureLogs('info');
  const db = () => running.service.db;

  const deps = (overrides: Partial<DeliverDeps> = {}, env: Record<string, string> = {}): DeliverDeps => {
    const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
    return {
      db: db(),
      jobs: running.service.jobs as unknown as JobSystem<OutboxJobs>,
      drivers: {
        sms: twilio,
        email: createSandboxDriver('email', db()),
        slack: createSandboxDriver('slack', db()),
      },
      pacer: createPacer({ perSecond: 1000, db: db(), redis: null }),
      leases: createLeaseKeeper({ db: db(), leaseMs: 30_000, log: logs.log }),
      metrics: running.service.metrics,
      config,
      ...overrides,
    };
  };
  const deliver = (id: string, options: { deps?: DeliverDeps; signal?: AbortSignal } = {}) =>
    deliverMessage(options.deps ?? deps(), id, {
      log: logs.log,
      signal: options.signal ?? new AbortController().signal,
    });
  /** An SMS waiting in the outbox (its job is never worked: this process runs no workers). */
  const sms = async (to: string, body: string, extra: { sendAfter?: Date } = {}) =>
    (
      await running.service.channels.enqueue({
        dedupeKey: `deliver:${to}:${body}`,
        channel: 'sms',
        to,
        content: { body },
        ...extra,
      })
    ).id;
  const row = async (id: string) =>
    (
      await db().query<{
        status: string;
        attempts: number;
        last_error: string | null;
        error_code: string | null;
        provider_id: string | null;
        send_after: Date | null;
        attempt_id: string | null;
      }>(
        'select status, attempts, last_error, error_code, provider_id, send_after, attempt_id from outbox_messages where id = $1',
        [id],
      )
    )[0];
  const received = (to: string) => providers.twilio.sentMessages.filter((m) => m.to === to);

  beforeAll(async () => {
    providers = await startProviders();
    running = await startTestService('postgres', { env: providers.env, mode: 'http' });
    twilio = twilioDriverAt(providers.twilio.url);
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
  });

  it('sends once; a second delivery of the same row finds it already done', async () => {
    const to = nextPhone();
    const id = await sms(to, 'hello once');
    expect(await deliver(id)).toBe('sent');
    expect(await deliver(id)).toBe('already_done');
    expect(received(to)).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 1, provider_id: received(to)[0]?.sid });
    expect(await deliver('00000000-0000-4000-8000-000000000000')).toBe('already_done');
  });

  it('leaves a row that is not due, and one a live attempt owns, as they are', async () => {
    const to = nextPhone();
    const later = await sms(to, 'tomorrow', { sendAfter: new Date(Date.now() + 86_400_000) });
    expect(await deliver(later)).toBe('not_due');
    expect(await row(later)).toMatchObject({ status: 'queued', attempts: 0 });
    const owned = await sms(to, 'being sent elsewhere');
    await db().query(
      `update outbox_messages set status = 'sending', attempt_id = gen_random_uuid(), lease_expires_at = now() + interval '1 minute' where id = $1`,
      [owned],
    );
    expect(await deliver(owned)).toBe('in_progress');
    expect((await row(owned))?.status).toBe('sending');
    expect(received(to)).toHaveLength(0);
  });

  it('suppresses an opted-out number and fails a row out of attempts, sending neither', async () => {
    const out = nextPhone();
    const id = await sms(out, 'to someone who said STOP');
    await suppress(db().orm, out, 'keyword', 'STOP');
    expect(await deliver(id)).toBe('suppressed');
    expect((await row(id))?.status).toBe('suppressed');

    const to = nextPhone();
    const tired = await sms(to, 'tried too often');
    await db().query('update outbox_messages set attempts = 8, last_error = null where id = $1', [tired]);
    expect(await deliver(tired)).toBe('failed');
    expect(await row(tired)).toMatchObject({
      status: 'failed',
      last_error: 'gave up after 8 attempts: no answer recorded',
    });
    expect([...received(out), ...received(to)]).toHaveLength(0);
  });

  it('holds an SMS due outside quiet hours until the window opens', async () => {
    const to = nextPhone();
    const id = await sms(to, 'not at night');
    // A window that opens two hours from now (UTC) and lasts an hour, or until midnight when the hour
    // would cross it: QUIET_HOURS is one span within a day (this test failed from 21:00 to 22:00 UTC).
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const opens = Date.now() + 2 * 3600_000;
    const [start, end] = [hhmm(opens), hhmm(opens + 3600_000)];
    const quiet = deps(
      {},
      { QUIET_HOURS_ENABLED: 'true', QUIET_HOURS: `${start}-${end > start ? end : '24:00'}` },
    );
    expect(await deliver(id, { deps: quiet })).toBe('held_for_quiet_hours');
    const held = await row(id);
    expect(held?.status).toBe('queued');
    expect(Math.abs(new Date(held?.send_after ?? 0).getTime() - opens)).toBeLessThan(61_000);
    expect(received(to)).toHaveLength(0);
  });

  it('hands an attempt stopped before the provider call back to the queue, its attempt not counted', async () => {
    const to = nextPhone();
    const id = await sms(to, 'stopped in time');
    const stopped = new AbortController();
    stopped.abort(new Error('the worker is stopping'));
    expect(await deliver(id, { signal: stopped.signal })).toBe('handed_back');
    expect(await row(id)).toMatchObject({ status: 'queued', attempts: 0, attempt_id: null });
    expect(received(to)).toHaveLength(0);
    expect(logs.text()).toContain('message handed back to the queue');
  });

  it('sends again when the provider refuses the read-back for good (no read scope)', async () => {
    const to = nextPhone();
    const id = await sms(to, 'after a crash');
    await db().query(
      `update outbox_messages set unconfirmed_since = now() - interval '1 minute', attempts = 1 where id = $1`,
      [id],
    );
    providers.twilio.inject({
      match: (r) => r.method === 'GET' && r.query.get('To') === to,
      status: 403,
      body: { code: 20403, message: 'Permission denied', status: 403 },
    });
    expect(await deliver(id)).toBe('sent');
    expect(received(to)).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(logs.text()).toContain('cannot read back what the provider sent; sending again');
  });

  it('sends when the only match at the provider is another row’s message (the same text twice)', async () => {
    const to = nextPhone();
    const first = await sms(to, 'Your code is ready');
    expect(await deliver(first)).toBe('sent');
    const second = (
      await running.service.channels.enqueue({
        dedupeKey: `deliver:${to}:second`,
        channel: 'sms',
        to,
        content: { body: 'Your code is ready' },
      })
    ).id;
    await db().query(
      `update outbox_messages set unconfirmed_since = now() - interval '1 minute' where id = $1`,
      [second],
    );
    expect(await deliver(second)).toBe('sent');
    const [a, b] = received(to);
    expect(received(to)).toHaveLength(2);
    expect((await row(first))?.provider_id).toBe(a?.sid);
    expect((await row(second))?.provider_id).toBe(b?.sid);
  });

  it('lets a fault that is not the provider’s fail the job, the row left for its lease to run out', async () => {
    const to = nextPhone();
    const id = await sms(to, 'bug in the driver');
    const broken: ChannelDriver = {
      ...twilio,
      send: async () => {
        throw new TypeError('cannot read properties of undefined');
      },
    };
    const withBroken = deps({ drivers: { ...deps().drivers, sms: broken } });
    await expect(deliver(id, { deps: withBroken })).rejects.toThrow('cannot read properties of undefined');
    expect(await row(id)).toMatchObject({ status: 'sending', attempts: 1 });
    expect(received(to)).toHaveLength(0);
  });

  it('leaves the row to its new owner when the attempt lost it while the provider answered', async () => {
    const to = nextPhone();
    const id = await sms(to, 'taken over');
    const slow: ChannelDriver = {
      ...twilio,
      send: async (message: OutboxRow) => {
        // Another attempt claims the row meanwhile (this one's lease ran out at the database).
        await db().query('update outbox_messages set attempt_id = gen_random_uuid() where id = $1', [
          message.id,
        ]);
        throw new ProviderError('Twilio 503: Service Unavailable', { permanent: false, status: 503 });
      },
    };
    const taken = deps({ drivers: { ...deps().drivers, sms: slow } });
    expect(await deliver(id, { deps: taken })).toBe('lost_lease');
    const after = await row(id);
    expect(after?.status).toBe('sending');
    expect(after?.last_error).toBeNull();
    expect(logs.text()).toContain('send attempt lost its lease');
  });

  it('records a message the driver reports delivered at once (the sandbox) as delivered', async () => {
    const id = (
      await running.service.channels.enqueue({
        dedupeKey: 'deliver:email:1',
        channel: 'email',
        to: 'ap@example.com',
        content: { subject: 'Hello', text: 'Hello' },
      })
    ).id;
    expect(await deliver(id)).toBe('delivered');
    expect((await row(id))?.status).toBe('delivered');
  });
});
