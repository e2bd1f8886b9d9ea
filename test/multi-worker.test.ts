// Several worker processes on one PostgreSQL share the outbox: every row is sent exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { freePort, type Running, spawnCli } from './helpers/processes.ts';
import { type Providers, startProviders } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

describe.runIf(databaseKinds.includes('postgres'))('two worker processes on one PostgreSQL', () => {
  let target: TestDatabase;
  let providers: Providers;
  let api: TestService;
  const workers: Running[] = [];
  const ports: number[] = [];

  beforeAll(async () => {
    target = await createTestDatabase('postgres');
    providers = await startProviders();
    // The API process enqueues; it runs no workers.
    api = await startTestService('postgres', { target, env: providers.env, mode: 'http' });
    if (target.config.kind !== 'postgres') throw new Error('expected postgres');
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      ports.push(port);
      const worker = spawnCli(['worker'], {
        ...providers.env,
        DATABASE_URL: target.config.url,
        PORT: String(port),
        JOBS_POLL_INTERVAL_SECONDS: '0.5',
        OUTBOX_BATCH_SIZE: '20',
      });
      workers.push(worker);
      await waitFor(
        `worker ${i} to be ready (${worker.output()})`,
        async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.ok,
        60_000,
        100,
      );
    }
  });

  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await api?.dispose();
    await providers?.close();
    await target?.drop();
  });

  it('send N messages exactly N times between them', async () => {
    const n = 300;
    providers.twilio.latencyMs = 20;
    const numbers = Array.from({ length: n }, (_, i) => `+1415556${String(i).padStart(4, '0')}`);
    // Each message enqueued twice, concurrently: the dedupe key makes it one row. Ten messages at a
    // time, as a caller should: the pool has five connections and a five-second wait for one.
    for (let start = 0; start < n; start += 10) {
      await Promise.all(
        numbers.slice(start, start + 10).flatMap((to, offset) =>
          [0, 1].map(() =>
            api.service.channels.enqueue({
              dedupeKey: `multi:${start + offset}`,
              channel: 'sms',
              to,
              content: { body: `message ${start + offset}` },
            }),
          ),
        ),
      );
    }
    await waitFor(
      'every message to reach the provider',
      () => providers.twilio.sentMessages.length >= n,
      60_000,
    );
    await waitFor('every row to be recorded', async () => {
      const [row] = await api.service.db.query<{ sent: string }>(
        "select count(*) as sent from outbox_messages where status = 'sent'",
      );
      return Number(row?.sent) === n;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sentTo = providers.twilio.sentMessages.map((m) => m.to);
    expect(sentTo).toHaveLength(n);
    expect(new Set(sentTo).size).toBe(n);
    // Both processes took part: each one's own metrics count what it sent.
    const perWorker = await Promise.all(
      ports.map(async (port) => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const line = text
          .split('\n')
          .find((l) => l.startsWith('outbox_messages_total{') && l.includes('outcome="sent"'));
        return Number(line?.split(' ').at(-1) ?? 0);
      }),
    );
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(n);
    for (const count of perWorker) expect(count).toBeGreaterThan(0);
  });
});
