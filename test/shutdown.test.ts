import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AppModule, defineApp } from '../src/platform/app-module.ts';
import { openDatabase } from '../src/platform/db/database.ts';
import { defineJob } from '../src/platform/jobs/registry.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { captureLogs } from './helpers/logs.ts';
import { startTestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const targets: TestDatabase[] = [];
afterEach(async () => {
  for (const target of targets.splice(0)) await target.drop();
});

/** An app with one slow job whose handler the test controls. */
function slowApp(handler: (attempt: number) => Promise<void>): AppModule {
  return defineApp({
    name: 'slow',
    jobs: { 'slow.work': defineJob({ schema: z.object({ id: z.string() }) }) },
    setup: ({ jobs }) => jobs.work('slow.work', (_payload, { attempt }) => handler(attempt)),
  });
}

async function jobState(target: TestDatabase) {
  const db = await openDatabase(target.config, { log: captureLogs('silent').log, command: 'inspect' });
  try {
    return (
      await db.query<{ state: string; retry_count: number }>(
        "select state, retry_count from pgboss.job where name = 'slow.work'",
      )
    )[0];
  } finally {
    await db.close();
  }
}

describe.each(databaseKinds)('graceful shutdown on %s', (kind) => {
  it('lets a job in flight finish before closing the database', async () => {
    const target = await createTestDatabase(kind);
    targets.push(target);
    let started = false;
    let finished = false;
    const running = await startTestService(kind, {
      target,
      apps: [
        slowApp(async () => {
          started = true;
          await new Promise((resolve) => setTimeout(resolve, 1500));
          finished = true;
        }),
      ],
    });
    await running.service.jobs.send('slow.work', { id: 'a' });
    await waitFor('the job to start', () => started);

    await running.service.stop();
    expect(finished).toBe(true);
    expect(running.logs.text()).toContain('switchboard stopped');
    expect(await jobState(target)).toMatchObject({ state: 'completed', retry_count: 0 });
  });

  it('hands a job that outlives the grace period back to the queue, and the next process runs it', async () => {
    const target = await createTestDatabase(kind);
    targets.push(target);
    let firstStarted = false;
    const first = await startTestService(kind, {
      target,
      env: { SHUTDOWN_TIMEOUT_SECONDS: '1' },
      apps: [
        slowApp(async () => {
          firstStarted = true;
          await new Promise((resolve) => setTimeout(resolve, 4000));
        }),
      ],
    });
    await first.service.jobs.send('slow.work', { id: 'b' });
    await waitFor('the job to start', () => firstStarted);
    await first.service.stop();
    expect((await jobState(target))?.state).toBe('retry');

    const attempts: number[] = [];
    const second = await startTestService(kind, {
      target,
      apps: [slowApp(async (attempt) => void attempts.push(attempt))],
    });
    await waitFor('the retried job to run', () => attempts.length > 0, 30_000);
    await second.service.stop();
    expect(attempts).toEqual([1]);
    expect(await jobState(target)).toMatchObject({ state: 'completed', retry_count: 1 });
  });
});
