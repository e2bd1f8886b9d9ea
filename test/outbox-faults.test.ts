// The outbox under the faults production brings, on real worker processes and the machine's
// PostgreSQL: a job that outlives its expiry, kill -9 with sends the provider took but nobody
// recorded (then a read-back that fails once), a Slack channel busy after the lost posts, and the
// database dropping and black-holing under load. Every assertion counts what the provider fakes
// received per message: once, never twice, none lost.
import { afterEach, describe, expect, it } from 'vitest';
import type { EnqueueInput } from '../src/platform/channels/outbox/enqueue.ts';
import { route } from './fakes/http-fake.ts';
import { twilioError } from './fakes/twilio.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { freePort, type Running, spawnCli } from './helpers/processes.ts';
import { type Providers, startProviders, TWILIO_FROM } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { waitFor } from './helpers/wait.ts';

const SLACK_CHANNEL = 'C0FAULTS001';

interface Worker extends Running {
  port: number;
}

describe.runIf(databaseKinds.includes('postgres'))(
  'the outbox under faults (PostgreSQL, real processes)',
  () => {
    let target: TestDatabase;
    let providers: Providers;
    let api: TestService;
    let proxy: TcpProxy | null = null;
    const workers: Worker[] = [];

    const setUp = async () => {
      target = await createTestDatabase('postgres');
      providers = await startProviders();
      providers.slack.addChannel({ id: SLACK_CHANNEL, name: 'faults', member: true });
      // Enqueues and reads the rows; it runs no workers.
      api = await startTestService('postgres', { target, env: providers.env, mode: 'http' });
    };

    const databaseUrl = (viaProxy = false) => {
      if (target.config.kind !== 'postgres') throw new Error('expected postgres');
      if (!viaProxy || !proxy) return target.config.url;
      const url = new URL(target.config.url);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      return url.toString();
    };

    const spawnWorker = async (env: Record<string, string> = {}, options: { viaProxy?: boolean } = {}) => {
      const port = await freePort();
      const worker = spawnCli(['worker'], {
        ...providers.env,
        DATABASE_URL: databaseUrl(options.viaProxy),
        PORT: String(port),
        JOBS_POLL_INTERVAL_SECONDS: '0.5',
        ...env,
      });
      const running = Object.assign(worker, { port });
      workers.push(running);
      return running;
    };
    const ready = async (worker: Worker, timeoutMs = 60_000) =>
      waitFor(
        `the worker to be ready (${worker.output().slice(-2000)})`,
        async () => (await fetch(`http://127.0.0.1:${worker.port}/health/ready`).catch(() => null))?.ok,
        timeoutMs,
        100,
      );
    const startWorker = async (env: Record<string, string> = {}, options: { viaProxy?: boolean } = {}) => {
      const worker = await spawnWorker(env, options);
      await ready(worker);
      return worker;
    };
    const kill9 = async (worker: Worker) => {
      worker.child.kill('SIGKILL');
      await worker.exited;
    };

    const sms = (prefix: string, n: number): EnqueueInput[] =>
      Array.from({ length: n }, (_, i) => ({
        dedupeKey: `${prefix}:${i}`,
        channel: 'sms' as const,
        to: `+1415555${String(i).padStart(4, '0')}`,
        content: { body: `${prefix} message ${i}` },
      }));
    const enqueue = async (inputs: EnqueueInput[]) => {
      for (let i = 0; i < inputs.length; i += 100)
        await api.service.channels.enqueueMany(inputs.slice(i, i + 100));
    };
    const statusCounts = async (prefix: string) => {
      const rows = await api.service.db.query<{ status: string; n: string }>(
        'select status, count(*) as n from outbox_messages where dedupe_key like $1 group by status',
        [`${prefix}:%`],
      );
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) as Record<string, number>;
    };
    const allSent = (prefix: string, n: number) => async () => (await statusCounts(prefix)).sent === n;
    /** Bodies the Twilio fake received, with how many times each. */
    const twilioCounts = (prefix: string) => {
      const counts = new Map<string, number>();
      for (const m of providers.twilio.sentMessages)
        if (m.body.startsWith(`${prefix} `)) counts.set(m.body, (counts.get(m.body) ?? 0) + 1);
      return counts;
    };
    const expectEachOnce = (counts: Map<string, number>, n: number) => {
      const twice = [...counts].filter(([, c]) => c > 1);
      expect(twice, 'messages the provider received more than once').toEqual([]);
      expect(counts.size, 'messages the provider received').toBe(n);
    };
    const metric = async (worker: Worker, name: string, label = '') => {
      const text = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith(name) && l.includes(label))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    };

    afterEach(async () => {
      for (const worker of workers.splice(0)) {
        if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
        await worker.exited;
      }
      await proxy?.close();
      proxy = null;
      await api?.dispose();
      await providers?.close();
      await target?.drop();
    });

    it('a paced backlog whose jobs outlive their expiry sends each SMS once across two workers', async () => {
      await setUp();
      const n = 120;
      // 12 s of pacing for one sender against a 6 s job expiry: pg-boss expires and retries the jobs
      // while the first attempts still wait their turn.
      const env = { JOBS_EXPIRE_SECONDS: '6', SMS_SEGMENTS_PER_SECOND: '10', OUTBOX_BATCH_SIZE: '200' };
      const pair = [await startWorker(env), await startWorker(env)];
      await enqueue(sms('overrun', n));
      await waitFor('every SMS to be recorded sent', allSent('overrun', n), 120_000, 200);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expectEachOnce(twilioCounts('overrun'), n);
      expect(providers.twilio.sentMessages.every((m) => m.from === TWILIO_FROM)).toBe(true);
      // The overrun happened: attempts whose jobs expired stopped before sending and handed back.
      const handedBack = (
        await Promise.all(pair.map((w) => metric(w, 'outbox_messages_total', 'handed_back')))
      ).reduce((a, b) => a + b, 0);
      expect(handedBack).toBeGreaterThan(0);
    }, 180_000);

    it('kill -9 with sends Twilio took but nobody recorded: recovered within 60 s with the default lease, read-back failing once, none sent twice', async () => {
      await setUp();
      const n = 30;
      // Twilio stores each message and never answers: the worker dies holding 30 unrecorded sends.
      providers.twilio.inject({
        match: route('POST', /\/Messages\.json$/),
        afterProcessing: true,
        hang: true,
        times: n,
      });
      const first = await startWorker({ PROVIDER_TIMEOUT_SECONDS: '120' });
      await enqueue(sms('killed', n));
      await waitFor('Twilio to hold every message', () => providers.twilio.sentMessages.length >= n, 60_000);
      await kill9(first);
      const killedAt = Date.now();
      expect(await statusCounts('killed')).toEqual({ sending: n });
      // Every stranded row's first read-back fails.
      providers.twilio.clearFaults();
      providers.twilio.inject({
        match: route('GET', /\/Messages\.json$/),
        status: 500,
        body: twilioError(500, 20500, 'Internal Server Error').body,
        times: n,
      });
      const second = await startWorker();
      await waitFor('every stranded row to be recorded sent', allSent('killed', n), 90_000, 200).catch(
        (e) => {
          console.log(
            second.output().slice(-6000),
            JSON.stringify(
              providers.twilio.requests.slice(-5).map((r) => [r.method, r.path, r.query.toString()]),
            ),
          );
          throw e;
        },
      );
      const recoveredMs = Date.now() - killedAt;
      expect(recoveredMs).toBeLessThanOrEqual(60_000);
      expectEachOnce(twilioCounts('killed'), n);
      const lists = providers.twilio.requests.filter(
        (r) => r.method === 'GET' && r.path.endsWith('/Messages.json'),
      );
      expect(lists.length).toBeGreaterThan(n);
      // The failed read-back used none of the rows' send attempts: the first claim and the one that
      // found the message.
      const [{ max }] = (await api.service.db.query<{ max: number }>(
        "select max(attempts) as max from outbox_messages where dedupe_key like 'killed:%'",
      )) as [{ max: number }];
      expect(max).toBeLessThanOrEqual(2);
      expect(second.output()).toMatch(
        /outbox recovered messages whose send attempt stopped renewing its lease/,
      );
    }, 180_000);

    it('kill -9 after a worker fetched the jobs but before it claimed the rows: sent well before the jobs expire', async () => {
      await setUp();
      const n = 20;
      await enqueue(sms('fetched', n));
      // Hold the rows' locks, so the worker fetches the jobs (pg-boss marks them active) and waits
      // in its claim; then it dies there, leaving queued rows under jobs pg-boss thinks are running.
      if (target.config.kind !== 'postgres') throw new Error('expected postgres');
      const { default: pg } = await import('pg');
      const locker = new pg.Client({ connectionString: target.config.url });
      await locker.connect();
      await locker.query('begin');
      await locker.query("select id from outbox_messages where dedupe_key like 'fetched:%' for update");
      const first = await startWorker();
      await waitFor('the worker to be waiting in its claim', async () => {
        const [row] = await api.service.db.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%outbox_messages%'",
        );
        return Number(row?.n) > 0;
      });
      await kill9(first);
      await locker.query('rollback');
      await locker.end();
      const activeJobs = await api.service.db.query<{ n: string }>(
        "select count(*) as n from pgboss.job where name = 'outbox.deliver' and state = 'active'",
      );
      expect(Number(activeJobs[0]?.n)).toBeGreaterThan(0);
      expect(await statusCounts('fetched')).toEqual({ queued: n });
      // With the default JOBS_EXPIRE_SECONDS (900) the dead worker's jobs stay active for 15 minutes.
      const second = await startWorker({ OUTBOX_LEASE_SECONDS: '5' });
      await waitFor('every row to be recorded sent', allSent('fetched', n), 60_000, 200);
      expectEachOnce(twilioCounts('fetched'), n);
      expect(await metric(second, 'outbox_recovered_total', 'stale_queued')).toBeGreaterThan(0);
    }, 180_000);

    it('kill -9 before Slack posts were recorded, then 1,400 later messages in the channel: none posted twice', async () => {
      await setUp();
      const n = 10;
      providers.slack.inject({
        match: route('POST', '/api/chat.postMessage'),
        afterProcessing: true,
        hang: true,
        times: n,
      });
      const first = await startWorker({ PROVIDER_TIMEOUT_SECONDS: '120', OUTBOX_LEASE_SECONDS: '5' });
      await enqueue(
        Array.from({ length: n }, (_, i) => ({
          dedupeKey: `slack:${i}`,
          channel: 'slack' as const,
          to: SLACK_CHANNEL,
          content: { text: `slack message ${i}` },
        })),
      );
      const ours = () =>
        providers.slack.history(SLACK_CHANNEL).filter((m) => m.text?.startsWith('slack message'));
      await waitFor('Slack to hold every post', () => ours().length >= n, 60_000);
      await kill9(first);
      providers.slack.clearFaults();
      for (let i = 0; i < 1400; i++) providers.slack.seedMessage(SLACK_CHANNEL, { text: `chatter ${i}` });
      await startWorker({ OUTBOX_LEASE_SECONDS: '5' });
      await waitFor('every stranded post to be recorded', allSent('slack', n), 90_000, 200);
      const counts = new Map<string, number>();
      for (const m of ours()) counts.set(m.text as string, (counts.get(m.text as string) ?? 0) + 1);
      expect([...counts.values()].filter((c) => c > 1)).toEqual([]);
      expect(counts.size).toBe(n);
      // The read-back had to page: more than one history call per stranded post.
      const pages = providers.slack.requests.filter((r) => r.path === '/api/conversations.history');
      expect(pages.length).toBeGreaterThan(n);
    }, 180_000);

    it('SIGTERM with a pacing backlog longer than the grace period hands every waiting SMS back, and says so', async () => {
      await setUp();
      const n = 40;
      const env = { SMS_SEGMENTS_PER_SECOND: '4', SHUTDOWN_TIMEOUT_SECONDS: '2', LOG_LEVEL: 'info' };
      const first = await startWorker(env);
      await enqueue(sms('drain', n));
      await waitFor('sending to be under way', () => twilioCounts('drain').size >= 4, 30_000);
      first.child.kill('SIGTERM');
      const { code } = await first.exited;
      expect(code).toBe(0);
      const after = await statusCounts('drain');
      expect(after.sending ?? 0, JSON.stringify(after)).toBe(0);
      expect(after.queued ?? 0).toBeGreaterThan(0);
      expect(first.output()).toMatch(/message handed back to the queue/);
      await startWorker({ SMS_SEGMENTS_PER_SECOND: '100' });
      await waitFor('every SMS to be recorded sent', allSent('drain', n), 60_000, 200);
      expectEachOnce(twilioCounts('drain'), n);
    }, 120_000);

    it('the database dropping and black-holing under load: the worker lives, says so on /health/ready, resumes, sends each SMS once', async () => {
      await setUp();
      const url = new URL(databaseUrl());
      proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
      providers.twilio.latencyMs = 20;
      const worker = await startWorker(
        { SMS_SEGMENTS_PER_SECOND: '40', OUTBOX_LEASE_SECONDS: '6' },
        { viaProxy: true },
      );
      await enqueue(sms('outage', 200));
      await waitFor('sending to be under way', () => twilioCounts('outage').size >= 20, 30_000);

      // A restart: every connection dropped, new ones refused for a moment.
      await proxy.refuse();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await proxy.restore();
      // A partition: nothing flows, connections hang.
      proxy.blackhole();
      const during = await waitFor(
        'readiness to fail naming the database',
        async () => {
          const answer = await fetch(`http://127.0.0.1:${worker.port}/health/ready`).catch(() => null);
          if (answer?.status !== 503) return null;
          return (await answer.json()) as { components?: Array<{ name: string; status: string }> };
        },
        30_000,
        250,
      );
      expect(JSON.stringify(during)).toMatch(/database/);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(worker.child.exitCode, worker.output().slice(-3000)).toBeNull();
      await proxy.restore();
      const restoredAt = Date.now();
      await enqueue(sms('after', 20));
      await waitFor(
        'a message queued after the outage to be sent',
        () => twilioCounts('after').size > 0,
        60_000,
      );
      const resumedMs = Date.now() - restoredAt;
      await ready(worker, 30_000);
      await waitFor('every SMS to be recorded sent', allSent('outage', 200), 120_000, 250);
      await waitFor('every later SMS to be recorded sent', allSent('after', 20), 60_000, 250);
      expect(worker.child.exitCode).toBeNull();
      expectEachOnce(twilioCounts('outage'), 200);
      expectEachOnce(twilioCounts('after'), 20);
      // Generous: the goal (10 s) is measured by bench/faults.ts, not asserted on a shared machine.
      expect(resumedMs).toBeLessThan(45_000);
    }, 240_000);

    it('a worker started while the database is down waits for it with a log line, then runs', async () => {
      await setUp();
      const url = new URL(databaseUrl());
      proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
      await proxy.refuse();
      const worker = await spawnWorker({ DATABASE_CONNECT_RETRY_SECONDS: '120' }, { viaProxy: true });
      await waitFor(
        'the retry to be logged',
        () => /database unreachable; retrying/.test(worker.output()),
        20_000,
      );
      expect(worker.child.exitCode).toBeNull();
      await proxy.restore();
      await ready(worker);
      await enqueue(sms('late', 3));
      await waitFor('the SMS to be sent', allSent('late', 3), 30_000, 200);

      // With no time to wait it still ends with one sentence, not a stack trace.
      await proxy.refuse();
      const impatient = await spawnWorker({ DATABASE_CONNECT_RETRY_SECONDS: '0' }, { viaProxy: true });
      const finished = await impatient.exited;
      expect(finished.code).toBe(1);
      expect(finished.stderr).toMatch(/Cannot reach the PostgreSQL server/);
      expect(finished.stderr).not.toMatch(/\n\s+at /);
    }, 180_000);
  },
);
