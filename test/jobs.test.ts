import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Database, openDatabase } from '../src/platform/db/database.ts';
import { sql } from '../src/platform/db/drizzle.ts';
import { runMigrations } from '../src/platform/db/migrate.ts';
import { withTransaction } from '../src/platform/db/transaction.ts';
import { JobSystem, PermanentJobError } from '../src/platform/jobs/job-system.ts';
import { deadLetterQueue, defineJob } from '../src/platform/jobs/registry.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { testConfig } from './helpers/config.ts';
import {
  createTestDatabase,
  type DatabaseKind,
  databaseKinds,
  type TestDatabase,
} from './helpers/databases.ts';
import { captureLogs } from './helpers/logs.ts';
import { waitFor } from './helpers/wait.ts';

const definitions = {
  'test.echo': defineJob({ schema: z.object({ n: z.number().int() }) }),
  'test.flaky': defineJob({
    schema: z.object({ failTimes: z.number().int() }),
    retryLimit: 2,
    retryDelaySeconds: 1,
  }),
  'test.doomed': defineJob({ schema: z.object({}), retryLimit: 1, retryDelaySeconds: 1 }),
  'test.permanent': defineJob({ schema: z.object({}), retryLimit: 5 }),
  'test.single': defineJob({ schema: z.object({ key: z.string() }), policy: 'short' }),
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(kind: DatabaseKind) {
  const target: TestDatabase = await createTestDatabase(kind);
  cleanups.push(() => target.drop());
  const { log } = captureLogs('silent');
  const db: Database = await openDatabase(target.config, { log, command: 'test' });
  cleanups.push(() => db.close());
  await runMigrations(db);
  const metrics = createMetrics({ processMetrics: false });
  const config = testConfig(target.config).jobs;
  const jobs = new JobSystem({ db, config, definitions, log, metrics, workers: true });
  cleanups.push(() => jobs.stop({ timeoutMs: 1000 }));
  return { db, jobs, metrics, config };
}

const jobRows = (db: Database, queue: string) =>
  db.query<{ state: string; retry_count: number; output: { error?: string } | null; data: unknown }>(
    'select state, retry_count, output, data from pgboss.job where name = $1',
    [queue],
  );

describe.each(databaseKinds)('jobs on %s', (kind) => {
  it('runs what is sent, with the parsed payload, in batches', async () => {
    const { db, jobs, metrics } = await setup(kind);
    const seen: number[] = [];
    let running = 0;
    let maxRunning = 0;
    jobs.work('test.echo', async ({ n }, context) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.push(n);
      running -= 1;
      expect(context.queue).toBe('test.echo');
      expect(context.attempt).toBe(0);
      return { doubled: n * 2 };
    });
    await jobs.start();
    for (let n = 0; n < 30; n++) await jobs.send('test.echo', { n });
    await waitFor('30 jobs to run', () => seen.length === 30);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(30).keys()]);
    // A batch is run concurrently, not one job per poll.
    expect(maxRunning).toBeGreaterThan(1);
    await waitFor('completion to be recorded', async () =>
      (await jobRows(db, 'test.echo')).every((row) => row.state === 'completed'),
    );
    const metricText = await metrics.registry.metrics();
    expect(metricText).toContain('jobs_processed_total{queue="test.echo",outcome="completed"} 30');
  });

  it("creates each queue and its dead letter once, and brings a changed queue's settings in step on the next start", async () => {
    const { db, jobs, metrics, config } = await setup(kind);
    await jobs.start();
    const queues = () =>
      db.query<{ name: string; retry_limit: number; expire_seconds: number; dead_letter: string | null }>(
        `select name, retry_limit, expire_seconds, dead_letter from pgboss.queue where name like 'test.%' order by name`,
      );
    const first = await queues();
    expect(first.map((q) => q.name)).toEqual(
      Object.keys(definitions)
        .flatMap((name) => [name, deadLetterQueue(name)])
        .sort(),
    );
    expect(first.find((q) => q.name === 'test.flaky')).toMatchObject({
      retry_limit: 2,
      dead_letter: deadLetterQueue('test.flaky'),
    });
    await jobs.stop({ timeoutMs: 1000 });

    // The next start with one definition changed: that queue is updated, the others left as they were.
    const { log } = captureLogs('silent');
    const changed = {
      ...definitions,
      'test.flaky': defineJob({
        schema: z.object({ failTimes: z.number().int() }),
        retryLimit: 7,
        expireSeconds: 99,
      }),
    };
    const again = new JobSystem({ db, config, definitions: changed, log, metrics, workers: false });
    await again.start();
    await again.stop({ timeoutMs: 1000 });
    const second = await queues();
    expect(second.find((q) => q.name === 'test.flaky')).toMatchObject({ retry_limit: 7, expire_seconds: 99 });
    expect(second.filter((q) => q.name !== 'test.flaky')).toEqual(
      first.filter((q) => q.name !== 'test.flaky'),
    );
  });

  it('rejects a payload that does not match the registry', async () => {
    const { jobs } = await setup(kind);
    await jobs.start();
    // @ts-expect-error: the compiler already refuses it; the runtime check is for untyped callers.
    await expect(jobs.send('test.echo', { n: 'seven' })).rejects.toThrow(
      /Invalid payload for job "test.echo"/,
    );
    // @ts-expect-error: unknown job names do not compile either.
    await expect(jobs.send('test.nope', {})).rejects.toThrow(/Unknown job "test.nope"/);
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    const { db, jobs } = await setup(kind);
    const attempts: number[] = [];
    jobs.work('test.flaky', async ({ failTimes }, { attempt }) => {
      attempts.push(attempt);
      if (attempt < failTimes) throw new Error(`attempt ${attempt} failed`);
    });
    await jobs.start();
    await jobs.send('test.flaky', { failTimes: 2 });
    await waitFor('the third attempt', () => attempts.length === 3, 30_000);
    expect(attempts).toEqual([0, 1, 2]);
    await waitFor('completion', async () => (await jobRows(db, 'test.flaky'))[0]?.state === 'completed');
  });

  it('dead-letters a job whose retries are spent, keeping its payload and last error', async () => {
    const { db, jobs } = await setup(kind);
    let attempts = 0;
    jobs.work('test.doomed', async () => {
      attempts += 1;
      throw new Error('provider said no to card 4242424242424242');
    });
    await jobs.start();
    await jobs.send('test.doomed', {});
    const dead = await waitFor(
      'the dead letter',
      async () => (await jobRows(db, deadLetterQueue('test.doomed')))[0],
      30_000,
    );
    expect(attempts).toBe(2);
    expect(dead?.data).toEqual({});
    const [original] = await jobRows(db, 'test.doomed');
    expect(original?.state).toBe('failed');
    expect(original?.output?.error).toBe('provider said no to card [REDACTED CARD]');
  });

  it('dead-letters at once on a permanent error', async () => {
    const { db, jobs } = await setup(kind);
    let attempts = 0;
    jobs.work('test.permanent', async () => {
      attempts += 1;
      throw new PermanentJobError('the number is not a mobile number');
    });
    await jobs.start();
    await jobs.send('test.permanent', {});
    await waitFor(
      'the dead letter',
      async () => (await jobRows(db, deadLetterQueue('test.permanent'))).length === 1,
    );
    expect(attempts).toBe(1);
  });

  it('keeps one queued job per singleton key on a "short" queue', async () => {
    const { db, jobs } = await setup(kind);
    await jobs.start();
    const first = await jobs.send('test.single', { key: 'a' }, { singletonKey: 'invoice-1' });
    const second = await jobs.send('test.single', { key: 'b' }, { singletonKey: 'invoice-1' });
    const other = await jobs.send('test.single', { key: 'c' }, { singletonKey: 'invoice-2' });
    expect(first).toBeTruthy();
    expect(second).toBeNull();
    expect(other).toBeTruthy();
    expect(await jobRows(db, 'test.single')).toHaveLength(2);
  });

  it('enqueues inside the caller transaction: nothing on rollback', async () => {
    const { db, jobs } = await setup(kind);
    await jobs.start();
    await expect(
      withTransaction(db, async (tx) => {
        await jobs.send('test.echo', { n: 1 }, { tx });
        throw new Error('business change failed');
      }),
    ).rejects.toThrow('business change failed');
    expect(await jobRows(db, 'test.echo')).toHaveLength(0);
    await withTransaction(db, async (tx) => {
      await tx.execute(sql`select 1`);
      await jobs.send('test.echo', { n: 2 }, { tx });
    });
    expect((await jobRows(db, 'test.echo')).map((r) => r.data)).toEqual([{ n: 2 }]);
  });

  it('registers recurring schedules', async () => {
    const { jobs } = await setup(kind);
    await jobs.start();
    await jobs.schedule('test.echo', '*/5 * * * *', { n: 5 }, { tz: 'Europe/Berlin', key: 'every-5' });
    const [schedule] = await jobs.boss.getSchedules('test.echo');
    expect(schedule).toMatchObject({
      name: 'test.echo',
      cron: '*/5 * * * *',
      timezone: 'Europe/Berlin',
      key: 'every-5',
    });
    expect(schedule?.data).toEqual({ n: 5 });
  });

  it('leaves a schedule stored as asked alone at the next start, and rewrites one that changed', async () => {
    const { jobs } = await setup(kind);
    await jobs.start();
    const stored = async () => (await jobs.boss.getSchedule('test.echo', 'nightly'))?.updatedOn;
    await jobs.schedule('test.echo', '0 3 * * *', { n: 1 }, { key: 'nightly' });
    const first = await stored();
    expect(first).toBeInstanceOf(Date);
    // Declared again as every start declares it: the row is not written (updated_on stays).
    await new Promise((resolve) => setTimeout(resolve, 20));
    await jobs.schedule('test.echo', '0 3 * * *', { n: 1 }, { key: 'nightly' });
    expect(await stored()).toEqual(first);
    // Each of expression, zone and payload is part of what is compared.
    for (const [cron, payload, tz] of [
      ['0 4 * * *', { n: 1 }, 'UTC'],
      ['0 4 * * *', { n: 2 }, 'UTC'],
      ['0 4 * * *', { n: 2 }, 'Asia/Tokyo'],
    ] as const) {
      const before = await stored();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await jobs.schedule('test.echo', cron, payload, { key: 'nightly', tz });
      const now = await jobs.boss.getSchedule('test.echo', 'nightly');
      expect(now).toMatchObject({ cron, timezone: tz, data: payload });
      expect(now?.updatedOn.getTime()).toBeGreaterThan((before as Date).getTime());
    }
  });
});
