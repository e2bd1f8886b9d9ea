// `switchboard payments create-key` / `revoke-key` as a user runs them: a real process, exit codes.
import { describe, expect, it } from 'vitest';
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
});
