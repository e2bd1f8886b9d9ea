// `switchboard credits ...` as a user runs it, on the embedded defaults (sandbox Slack and Looker).
import { describe, expect, it } from 'vitest';
import { freshDataDir, runCli } from './helpers/processes.ts';

describe('switchboard credits', () => {
  it('runs one request from message text and prints the credit per link', async () => {
    const env = { DATA_DIR: freshDataDir() };
    const text =
      'credit https://looker.sandbox.localhost/looks/1 https://looker.sandbox.localhost/looks/2 https://looker.sandbox.localhost/explore/sms/sms_traffic?qid=SandboxVerifyB3';
    const run = await runCli(['credits', 'run', text], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Credit: \$5,415\.41 \(request [0-9a-f-]{36}\)$/m);
    expect(run.stdout).toContain('  Look 1: $4,395.36 (verify, builtin)');
    expect(run.stdout).toContain('  Look 2: skipped, PSMS query: no calculator is configured for PSMS');
    expect(run.stdout).toContain(
      '  Explore sms/sms_traffic (qid SandboxVerifyB3): $1,020.05 (verify, builtin)',
    );

    const missing = await runCli(['credits', 'run', 'https://looker.sandbox.localhost/looks/77'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/failed: the sandbox Looker has no Look 77 \(404\)/);
    const id = /Request ([0-9a-f-]{36}) failed/.exec(missing.stderr)?.[1] as string;
    // Retried: a new round, which fails the same way while the Look is still missing.
    const retried = await runCli(['credits', 'retry', id], env);
    expect(retried.code).toBe(1);
    expect(retried.stderr).toContain(`Request ${id} failed: the sandbox Looker has no Look 77 (404)`);

    const poll = await runCli(['credits', 'poll', '--once'], env);
    expect(poll.code).toBe(0);
    expect(poll.stdout).toMatch(/^C0CREDITMEMO: 0 new message\(s\), 0 request\(s\) queued/m);
  }, 120_000);

  it('refuses text without a Looker link, and bad usage', async () => {
    const env = { DATA_DIR: freshDataDir() };
    const none = await runCli(['credits', 'run', 'no links here'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'Refused (HTTP 400): The text has no Looker link on looker.sandbox.localhost',
    );
    const usage = await runCli(['credits', 'poll'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('switchboard credits poll --once');
  }, 120_000);

  it('trains and evaluates the second opinion, says why not below the minimum, and demos it', async () => {
    const env = { DATA_DIR: freshDataDir() };
    const train = await runCli(['credits', 'model', 'train'], env);
    expect(train.code).toBe(1);
    expect(train.stderr).toContain('No model: 0 answered request(s) with a per-mode table; a model needs 30');
    const evaluate = await runCli(['credits', 'model', 'evaluate'], env);
    expect(evaluate.code).toBe(1);

    const demo = await runCli(['credits', 'model', 'demo', '--count', '300', '--seed', '7'], env);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('SYNTHETIC history: 300 generated credit requests (seed 7), nothing real.');
    expect(demo.stdout).toMatch(/^all +\d+ +\$[\d,.]+ +\d+\.\d% +\d+$/m);
    expect(demo.stdout).toMatch(/planted anomalies flagged 3 of 3 \(recall 100%\)/);
    const bad = await runCli(['credits', 'model', 'demo', '--count', 'many'], env);
    expect(bad.code).toBe(2);
    const approve = await runCli(
      ['credits', 'approve', '00000000-0000-4000-8000-000000000000', '--by', 'me'],
      env,
    );
    expect(approve.code).toBe(2);
    expect(approve.stderr).toContain('Refused (HTTP 404)');
    // A correction that is not an amount is refused before anything is sent.
    const badAmount = await runCli(
      ['credits', 'approve', '00000000-0000-4000-8000-000000000000', '--by', 'me', '--amount', '12.345'],
      env,
    );
    expect(badAmount.code).toBe(2);
    expect(badAmount.stderr).toContain('--amount: a credit has at most 2 decimals (cents)');
    const noName = await runCli(
      ['credits', 'approve', '00000000-0000-4000-8000-000000000000', '--amount', '5'],
      env,
    );
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('switchboard credits approve <id> --by <name> [--amount <dollars>]');
  }, 120_000);
});
