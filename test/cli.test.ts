import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { lockFilePath } from '../src/platform/db/lockfile.ts';
import { freePort, freshDataDir, type Running, runCli, spawnCli } from './helpers/processes.ts';
import { waitFor } from './helpers/wait.ts';

const children: Running[] = [];
afterEach(async () => {
  for (const running of children.splice(0)) {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
    await running.exited;
  }
});

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

async function startServer(env: Record<string, string>) {
  const port = await freePort();
  const running = spawnCli(['start'], { PORT: String(port), ...env });
  children.push(running);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `the server to be ready (output so far: ${running.output()})`,
    async () => (await fetch(`${url}/health/ready`).catch(() => null))?.status === 200,
    60_000,
    100,
  );
  return { running, url, port };
}

describe('switchboard CLI', () => {
  it('prints its version and usage, and rejects unknown commands with exit 2', async () => {
    expect((await runCli(['version'], {})).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await runCli(['help'], {})).stdout).toContain('Usage: switchboard <command>');
    const unknown = await runCli(['launch'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "launch"');
  });

  it('refuses invalid configuration with every problem listed, exit 2, no stack trace', async () => {
    const result = await runCli(['start'], {
      PORT: '99999',
      DATABASE_URL: 'mysql://root:hunter2@db/x',
      LOG_LEVEL: 'loud',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Switchboard cannot start: Invalid configuration');
    for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL']) expect(result.stderr).toContain(`- ${name}:`);
    expect(result.stderr).not.toContain('hunter2');
    noStackTrace(result.stderr);
  });

  it('migrates an empty data directory, after which doctor finds nothing wrong', async () => {
    const env = { DATA_DIR: freshDataDir({ empty: true }) };
    const migrated = await runCli(['migrate'], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/Database migrations: (\d+) of \1 applied\. Job tables: version \d+\./);
    const doctor = await runCli(['doctor'], env);
    expect(doctor.stdout).toMatch(/ok\s+migrations\s+all \d+ applied/);
    expect(doctor.stdout).toMatch(/ok\s+jobs\s+job tables installed/);
    expect(doctor.code).toBe(0);
  });

  it('serves, refuses a second process on the same data, answers doctor over HTTP, and stops cleanly on SIGTERM', async () => {
    const dataDir = freshDataDir();
    const { running, url } = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'info' });

    const second = await runCli(['start'], { DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('is in use by another Switchboard process');
    expect(second.stderr).toContain(`Its API is at ${url}`);
    noStackTrace(second.stderr);

    const migrate = await runCli(['migrate'], { DATA_DIR: dataDir });
    expect(migrate.code).toBe(1);
    expect(migrate.stderr).toContain('applied every migration when it started');

    const doctor = await runCli(['doctor'], { DATA_DIR: dataDir });
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toContain(`database (via ${url})`);

    running.child.kill('SIGTERM');
    const finished = await running.exited;
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain('switchboard stopped');
    expect(existsSync(lockFilePath(dataDir))).toBe(false);
  });

  it('says plainly when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const result = await runCli(['start'], { DATA_DIR: freshDataDir(), PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      noStackTrace(result.stderr);
    } finally {
      blocker.close();
    }
  });

  it('doctor names an unreachable PostgreSQL server and exits 1', async () => {
    const port = await freePort();
    const result = await runCli(['doctor'], { DATABASE_URL: `postgres://postgres:pw@127.0.0.1:${port}/x` });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /FAIL\s+database\s+cannot connect with DATABASE_URL: nothing listens at that host and port/,
    );
    expect(result.stdout + result.stderr).not.toContain(':pw@');
  });
});
