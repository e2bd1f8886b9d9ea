// `switchboard payments create-key` / `revoke-key` as a user runs them: a real process, exit codes.
import { describe, expect, it } from 'vitest';
import { paymentsCommand } from '../src/apps/payments/cli.ts';
import { freshDataDir, runCli } from './helpers/processes.ts';

describe('switchboard payments', () => {
  it('creates a key (printed once), revokes it, and refuses bad usage with exit 2', async () => {
    const env = { DATA_DIR: freshDataDir() };
    const created = await runCli(['payments', 'create-key', 'web-widget'], env);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1) as string;
    expect(key).toMatch(/^sbk_[\w-]{32}$/);
    const id = created.stdout.match(/Created API key ([0-9a-f-]{36})/)?.[1] as string;
    expect(id).toBeTruthy();

    const revoked = await runCli(['payments', 'revoke-key', id], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    const again = await runCli(['payments', 'revoke-key', id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not found');

    const usage = await runCli(['payments', 'create-key'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('switchboard payments create-key <name>');
  });

  it('erase: a person by email or session, refusing bad usage (2) and a bad address (1)', async () => {
    const env = { DATA_DIR: freshDataDir() };
    const none = await runCli(['payments', 'erase', '--email', 'nobody@example.com'], env);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain('No PayBot session matches nobody@example.com');
    const session = await runCli(['payments', 'erase', '--session=web-123'], env);
    expect(session.code, session.stderr).toBe(0);
    expect(session.stdout).toContain('No PayBot session matches session web-123');
    const bad = await runCli(['payments', 'erase', '--email', 'not-an-address'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Could not erase');
    for (const args of [[], ['--session', 'a', '--email', 'b@example.com']]) {
      const usage = await runCli(['payments', 'erase', ...args], env);
      expect(usage.code, args.join(' ')).toBe(2);
      expect(usage.stderr).toContain('erase needs exactly one of --session <id> or --email <address>');
    }
  });

  it('erase: reads its flags before touching the service', async () => {
    const sent: unknown[] = [];
    const connect = async () => ({
      where: 'test',
      api: async (_method: string, _url: string, body?: unknown) => {
        sent.push(body);
        return { status: 200, body: { erased: 1, deleted: 0 } };
      },
    });
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), progress: () => {} };
    for (const args of [
      ['--session'],
      ['--name', 'x'],
      ['--email', 'a@b.co', '--email', 'c@d.co'],
      ['--session', '--email'],
    ])
      expect(await paymentsCommand(['erase', ...args], connect, io), args.join(' ')).toBe(2);
    expect(sent).toEqual([]);
    expect(await paymentsCommand(['erase', '--session=web-1'], connect, io)).toBe(0);
    expect(await paymentsCommand(['erase', '--email', 'a@b.co'], connect, io)).toBe(0);
    expect(sent).toEqual([{ sessionId: 'web-1' }, { email: 'a@b.co' }]);
    expect(lines.at(-1)).toBe(
      'Erased 1 session: 0 deleted, 1 kept without personal data for the payments they made.',
    );
  });
});
