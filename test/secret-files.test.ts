import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envSchema, loadConfig } from '../src/config.ts';
import { SECRET_VARIABLES } from '../src/platform/config/secret-files.ts';
import { configSecrets } from '../src/platform/secrets.ts';
import { runCli } from './helpers/processes.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'secret-files-'));
let files = 0;
/** A file holding `content`, as a mounted Kubernetes Secret or compose secret would. */
function secretFile(content: string): string {
  files += 1;
  const file = path.join(dir, `secret-${files}`);
  writeFileSync(file, content);
  return file;
}

function problemsOf(env: Record<string, string>): Array<{ variable: string; message: string }> {
  try {
    loadConfig(env, { cwd: '/x' });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

/** The config, or the problems, the environment produces: what a user of either form gets. */
function outcome(env: Record<string, string>) {
  const problems = problemsOf(env);
  return problems.length ? { problems } : { config: loadConfig(env, { cwd: '/x' }) };
}

const TOKEN = 'admin-token-0123456789abcdef';

describe('secrets from <NAME>_FILE', () => {
  it('lists only variables the config reads', () => {
    const declared = Object.keys(envSchema.shape);
    for (const name of SECRET_VARIABLES) expect(declared, name).toContain(name);
  });

  it('reads the value from the file, without its trailing line break, into the same config', () => {
    const direct = loadConfig({ HOST: '0.0.0.0', ADMIN_API_TOKEN: TOKEN }, { cwd: '/x' });
    const fromFile = loadConfig(
      { HOST: '0.0.0.0', ADMIN_API_TOKEN_FILE: secretFile(`${TOKEN}\n`) },
      { cwd: '/x' },
    );
    expect(fromFile).toEqual(direct);
    expect(fromFile.adminToken).toBe(TOKEN);
    // The value read from the file is a secret like any other: the scrubber is built from it.
    expect(configSecrets(fromFile)).toContain(TOKEN);
  });

  it('gives every secret variable the same outcome from a file as from the environment', () => {
    // Values that pass each variable's own check where it has one, and one that does not.
    const values: Record<string, string> = {
      DATABASE_URL: 'postgres://app:pw-0123456789@db.internal:5432/switchboard',
      REDIS_URL: 'redis://:pw-0123456789@redis.internal:6379',
      SMTP_URL: 'smtps://user:pw-0123456789@smtp.example.com:465',
      SLACK_BOT_TOKEN: 'xoxb-1234-5678-abcdefabcdef',
      INVOICE_SOURCE_URL: 'postgres://ro:pw-0123456789@erp.internal/erp',
      CREDITS_QUERY_DATABASE_URL: 'postgres://ro:pw-0123456789@dw.internal/dw',
      CREDITS_TRINO_URL: 'https://user:pw@trino.internal:8443',
      STRIPE_SECRET_KEY: 'sk_test_0123456789abcdefABCDEF',
      STRIPE_WEBHOOK_SECRET: 'whsec_0123456789abcdefABCDEF',
    };
    for (const name of SECRET_VARIABLES) {
      for (const value of [values[name] ?? 'secret-value-0123456789abcdef', 'x']) {
        const direct = outcome({ [name]: value });
        expect(outcome({ [`${name}_FILE`]: secretFile(`${value}\r\n`) }), name).toEqual(direct);
      }
    }
  });

  it('refuses both forms at once, naming the variable', () => {
    const problems = problemsOf({
      STRIPE_SECRET_KEY: 'sk_test_0123456789abcdefABCDEF',
      STRIPE_SECRET_KEY_FILE: secretFile('sk_test_0123456789abcdefABCDEF'),
    });
    expect(problems).toEqual([
      { variable: 'STRIPE_SECRET_KEY', message: expect.stringContaining('STRIPE_SECRET_KEY_FILE') },
    ]);
  });

  it('names a missing or empty file and never shows a value read from one', () => {
    const missing = path.join(dir, 'no-such-file');
    expect(problemsOf({ SENDGRID_API_KEY_FILE: missing })).toEqual([
      { variable: 'SENDGRID_API_KEY_FILE', message: `cannot read the file ${missing} (ENOENT)` },
    ]);
    const empty = secretFile('\n');
    expect(problemsOf({ SENDGRID_API_KEY_FILE: empty })).toEqual([
      { variable: 'SENDGRID_API_KEY_FILE', message: `the file ${empty} is empty` },
    ]);
    // A bad value from a file is reported against the variable it stands for, without the value.
    const problems = problemsOf({ SLACK_BOT_TOKEN_FILE: secretFile('not-a-slack-token-value') });
    expect(problems.map((p) => p.variable)).toEqual(['SLACK_BOT_TOKEN']);
    expect(JSON.stringify(problems)).not.toContain('not-a-slack-token-value');
  });

  it('treats an empty variable as unset, as .env files write it, and leaves other _FILE names alone', () => {
    const config = loadConfig({ REDIS_URL: '', REDIS_URL_FILE: secretFile('redis://127.0.0.1:6379\n') });
    expect(config.redis?.url).toBe('redis://127.0.0.1:6379');
    // PORT is not a secret: PORT_FILE is not read (and is not a variable the config knows).
    expect(loadConfig({ PORT_FILE: path.join(dir, 'nothing') }).http.port).toBe(3000);
  });

  it('stops the CLI with exit 2 and the variable named when both are set', async () => {
    const result = await runCli(['doctor'], {
      ADMIN_API_TOKEN: TOKEN,
      ADMIN_API_TOKEN_FILE: secretFile(TOKEN),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ADMIN_API_TOKEN: set both ADMIN_API_TOKEN and ADMIN_API_TOKEN_FILE');
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });
});
