// What a person sees from `switchboard` when a command cannot do its work: the message, the exit
// code (0 done, 1 failed, 2 usage or configuration), no stack trace. The CLI's own function runs
// in this process (test/cli.test.ts runs the real process for what needs one: signals, ports,
// a second process on the same data).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli.ts';
import { acquireDataDirLock } from '../src/platform/db/lockfile.ts';
import { freePort, freshDataDir } from './helpers/processes.ts';

interface Result {
  code: number;
  out: string;
  err: string;
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Result> {
  vi.stubEnv('LOG_LEVEL', 'silent');
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts) => void out.push(parts.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...parts) => void err.push(parts.join(' ')));
  const code = await runCli(args);
  vi.restoreAllMocks();
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('switchboard <app> usage', () => {
  it.each(['invoices', 'daily', 'credits', 'payments'])(
    '`%s help` prints the usage (exit 0); an unknown subcommand prints it as an error (exit 2)',
    async (app) => {
      const help = await run([app, 'help']);
      expect(help.code).toBe(0);
      expect(help.out).toContain(`switchboard ${app} `);
      const wrong = await run([app, 'frobnicate', 'now']);
      expect(wrong.code).toBe(2);
      expect(wrong.out).toBe('');
      expect(wrong.err).toContain(`Usage:\n  switchboard ${app} `);
    },
  );

  it('--version and --help work as flags too', async () => {
    expect((await run(['--version'])).out).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await run(['-h']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: switchboard <command>');
  });
});

describe('switchboard commands that cannot reach what they need', () => {
  it('migrate names a PostgreSQL server that refuses connections (exit 1), without the password', async () => {
    const port = await freePort();
    const result = await run(['migrate'], {
      DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/switchboard`,
      DATABASE_CONNECT_RETRY_SECONDS: '0',
    });
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      'Cannot reach the PostgreSQL server in DATABASE_URL (connection refused). Is it running?',
    );
    expect(result.out + result.err).not.toContain('hunter2');
  });

  it('doctor reports Redis answering, and an unreachable REDIS_URL as a failure (exit 1)', async () => {
    const dataDir = freshDataDir();
    expect((await run(['migrate'], { DATA_DIR: dataDir })).code).toBe(0);
    const up = await run(['doctor'], { DATA_DIR: dataDir, REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(up.out).toMatch(/^ok\s+redis\s+answers PING$/m);
    expect(up.code).toBe(0);

    const port = await freePort();
    const down = await run(['doctor'], { DATA_DIR: dataDir, REDIS_URL: `redis://:s3cret@127.0.0.1:${port}` });
    expect(down.out).toMatch(/^FAIL\s+redis\s+cannot reach REDIS_URL: /m);
    expect(down.out).toContain('1 problem(s) found.');
    expect(down.out).not.toContain('s3cret');
    expect(down.code).toBe(1);
    noStackTrace(down.out + down.err);
  });

  it('doctor on an embedded database another process holds: says it cannot ask that process, and why', async () => {
    const dataDir = freshDataDir();
    // What a running `switchboard worker` leaves in the lock file before it serves HTTP.
    const lock = acquireDataDirLock(dataDir, 'worker');
    try {
      const silent = await run(['doctor'], { DATA_DIR: dataDir });
      expect(silent.code).toBe(1);
      expect(silent.out).toMatch(
        new RegExp(
          `^FAIL\\s+database\\s+embedded database in use by pid ${process.pid} \\("worker"\\), which serves no HTTP API to ask; stop it to check the files directly$`,
          'm',
        ),
      );
      const port = await freePort();
      lock.update({ httpUrl: `http://127.0.0.1:${port}` });
      const gone = await run(['doctor'], { DATA_DIR: dataDir });
      expect(gone.code).toBe(1);
      expect(gone.out).toMatch(
        new RegExp(
          `^FAIL\\s+database\\s+embedded database in use by pid ${process.pid}, but its API at http://127\\.0\\.0\\.1:${port} did not answer: .+$`,
          'm',
        ),
      );
    } finally {
      lock.release();
    }
  });

  it('worker --queues names a queue that does not exist (exit 1), in either spelling of the option', async () => {
    const dataDir = freshDataDir();
    for (const args of [
      ['worker', '--queues', 'outbox.deliver,credits.notbook'],
      ['worker', '--queues=credits.notbook'],
    ]) {
      const result = await run(args, { DATA_DIR: dataDir, PORT: String(await freePort()) });
      expect(result.code).toBe(1);
      expect(result.err).toBe('Switchboard failed: No such queue: credits.notbook');
      noStackTrace(result.err);
    }
  });

  it('refuses bad configuration before touching anything (exit 2), listing the variable', async () => {
    const result = await run(['invoices', 'scan', '--once'], {
      TWILIO_AUTH_TOKEN: 'twilio-token-0123456789',
    });
    expect(result.code).toBe(2);
    expect(result.err).toContain('Switchboard cannot start: Invalid configuration');
    expect(result.err).toContain('- TWILIO_ACCOUNT_SID: required with TWILIO_AUTH_TOKEN');
    expect(result.err).not.toContain('twilio-token-0123456789');
  });
});
