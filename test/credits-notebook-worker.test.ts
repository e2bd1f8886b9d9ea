// Notebooks in a worker of their own (`switchboard worker --queues credits.notebook`), as a deploy
// runs them in their own container: the main service runs every queue but that one, a notebook
// worker process dies (SIGKILL) mid-run, its kernel goes with it, and another notebook worker
// picks the run up through its heartbeat, well before the job's expiry.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { code, markdown, notebookFolder, parameters } from './helpers/notebooks.ts';
import { freePort, type Running, spawnCli } from './helpers/processes.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe.runIf(databaseKinds.includes('postgres'))('notebooks in their own worker process', () => {
  const folder = notebookFolder();
  const release = path.join(folder.dir, 'release');
  const pidFile = path.join(folder.dir, 'kernel.pid');
  // Records its kernel's pid (the last run's), then waits for the test to let it finish.
  const notebook = folder.write('worker.ipynb', [
    parameters('looker = ""'),
    code(
      [
        'import os, time',
        `open(${JSON.stringify(pidFile)}, "w").write(str(os.getpid()))`,
        `while not os.path.exists(${JSON.stringify(release)}):`,
        '    time.sleep(0.2)',
      ].join('\n'),
    ),
    markdown('## Summary Info'),
    code(
      'import json, os\nprint(json.dumps({"credit_cents": 777}))\nprint("secret visible:", "SLACK_SIGNING_SECRET" in os.environ)',
    ),
  ]);
  let target: TestDatabase;
  let main: TestService;
  const workers: Running[] = [];

  const startNotebookWorker = async () => {
    if (target.config.kind !== 'postgres') throw new Error('expected postgres');
    const port = await freePort();
    const worker = spawnCli(['worker', '--queues', 'credits.notebook'], {
      DATABASE_URL: target.config.url,
      PORT: String(port),
      NOTEBOOK_PATH: notebook,
      JOBS_POLL_INTERVAL_SECONDS: '0.5',
      // A secret of the service that the notebook worker does not need and its kernel must not see.
      SLACK_SIGNING_SECRET: 'worker-signing-secret',
    });
    workers.push(worker);
    await waitFor(
      `the notebook worker to be ready (${worker.output()})`,
      async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.ok,
      60_000,
      100,
    );
    return worker;
  };

  beforeAll(async () => {
    target = await createTestDatabase('postgres');
    main = await startTestService('postgres', {
      target,
      apps: [creditsApp],
      env: { NOTEBOOK_PATH: notebook, JOBS_QUEUES: '-credits.notebook' },
    });
  }, 60_000);
  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await main?.dispose();
    await target?.drop();
  });

  it('runs there, and a run whose worker was killed is picked up again by another', async () => {
    expect(main.service.jobs.runsQueue('credits.notebook')).toBe(false);
    expect(main.service.jobs.runsQueue('credits.process')).toBe(true);
    // Both of CreditBot's queues carry heartbeats: a dead worker's job is not left to its expiry.
    for (const queue of ['credits.process', 'credits.notebook'])
      expect((await main.service.jobs.boss.getQueue(queue))?.heartbeatSeconds).toBe(20);
    const first = await startNotebookWorker();
    const posted = await main.service.app.inject({
      method: 'POST',
      url: '/sandbox/slack/messages',
      payload: { channel: 'C0CREDITMEMO', text: 'credit please https://looker.sandbox.localhost/looks/1' },
    });
    const { id } = posted.json();
    await waitFor('the kernel to start in the notebook worker', async () => existsSync(pidFile), 60_000, 100);
    const firstKernel = Number(readFileSync(pidFile, 'utf8'));
    const second = await startNotebookWorker();

    first.child.kill('SIGKILL');
    await first.exited;
    // The watchdog saw its parent go and ended the kernel.
    await waitFor('the dead worker kernel to end', async () => !alive(firstKernel), 20_000, 100);
    // Picked up through the heartbeat (20 s, swept as often), not the job's expiry (420 s).
    await waitFor(
      'another worker to run the notebook again',
      async () => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')) !== firstKernel,
      60_000,
      200,
    );
    writeFileSync(release, '');
    const done = await waitFor(
      'the request to finish',
      async () => {
        const row = (await main.service.app.inject(`/credits/requests/${id}`)).json();
        return row.status === 'done' || row.status === 'failed' ? row : null;
      },
      60_000,
      200,
    );
    expect(done).toMatchObject({ status: 'done', amountCents: 777 });
    expect(done.summary.links[0].notebook.cells[0].output).toContain('secret visible: False');
    second.child.kill('SIGTERM');
    await second.exited;
  }, 240_000);
});
