// kill -9 during delivery on the embedded database, then a restart on the same DATA_DIR: the
// messages Twilio took but nobody recorded are read back, not sent again, and none is lost.
import { afterEach, describe, expect, it } from 'vitest';
import { route } from './fakes/http-fake.ts';
import { freePort, freshDataDir, type Running, spawnCli } from './helpers/processes.ts';
import { type Providers, startProviders } from './helpers/providers.ts';
import { waitFor } from './helpers/wait.ts';

describe('the outbox after kill -9 on PGlite', () => {
  let providers: Providers;
  const running: Running[] = [];

  afterEach(async () => {
    for (const p of running.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    await providers?.close();
  });

  it('sends every invoice SMS exactly once across the kill and the restart', async () => {
    providers = await startProviders();
    const n = 20;
    const phones = ['+14155550101', '+14155550102'];
    const dataDir = freshDataDir();
    const port = await freePort();
    const env = {
      ...providers.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      JOBS_POLL_INTERVAL_SECONDS: '0.5',
      NOTIFICATION_RECIPIENTS: phones.join(','),
      OUTBOX_LEASE_SECONDS: '5',
      PROVIDER_TIMEOUT_SECONDS: '120',
    };
    const base = `http://127.0.0.1:${port}`;
    const start = async () => {
      const p = spawnCli(['start'], env);
      running.push(p);
      await waitFor(
        `the service to be ready (${p.output().slice(-2000)})`,
        async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok,
        60_000,
        100,
      );
      return p;
    };
    // Twilio takes half the messages and never answers: the process dies holding them unrecorded.
    providers.twilio.inject({
      match: route('POST', /\/Messages\.json$/),
      afterProcessing: true,
      hang: true,
      times: n,
    });
    const first = await start();
    const invoices = Array.from({ length: n }, (_, i) => ({
      id: `PGL-${i}`,
      vendor_name: `Vendor ${i}`,
      total_minor: 1000 + i,
      currency: 'USD',
      matched_status: 'NEEDS_REVIEW',
    }));
    const post = (path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
    expect((await post('/invoices', { invoices })).status).toBeLessThan(300);
    expect((await post('/invoices/scans')).status).toBe(201);
    await waitFor(
      'Twilio to hold the first messages',
      () => providers.twilio.sentMessages.length >= n,
      60_000,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    providers.twilio.clearFaults();

    await start();
    const sent = async () => {
      const answer = await fetch(`${base}/outbox?channel=sms&status=sent&limit=500`);
      return ((await answer.json()) as { messages: unknown[] }).messages.length;
    };
    await waitFor(
      'every alert to be recorded sent',
      async () => (await sent()) === n * phones.length,
      90_000,
      250,
    );
    const counts = new Map<string, number>();
    for (const m of providers.twilio.sentMessages) {
      const key = `${m.to} ${m.body}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect([...counts].filter(([, c]) => c > 1)).toEqual([]);
    expect(counts.size).toBe(n * phones.length);
  }, 180_000);
});
