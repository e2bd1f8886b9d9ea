import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readEnvironment } from '../src/config.ts';

describe('loadConfig', () => {
  it('runs on embedded defaults with nothing set', () => {
    const config = loadConfig({}, { cwd: '/srv/app' });
    expect(config.http).toEqual({
      port: 3000,
      host: '127.0.0.1',
      bodyLimitBytes: 1048576,
      trustProxy: false,
      authFailuresPerMinute: 10,
      consoleSessionMs: 12 * 3600_000,
    });
    expect(config.database).toEqual({ kind: 'pglite', dataDir: '/srv/app/data' });
    expect(config.redis).toBeNull();
    expect(config.jobs.batchSize).toBe(50);
  });

  it('switches to PostgreSQL with DATABASE_URL', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/sb', DATABASE_POOL_MAX: '25' });
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/sb',
      poolMax: 25,
      connectRetryMs: 300_000,
    });
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', REDIS_URL: '' }).database.kind).toBe('pglite');
  });

  it('lists every problem with the variable and what is expected, and never echoes a value', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://root:hunter2@db/x',
        JOBS_BATCH_SIZE: '0',
        LOG_LEVEL: 'loud',
        TRUST_PROXY: 'maybe',
        JOBS_POLL_INTERVAL_SECONDS: '0.1',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.variable).sort()).toEqual(
      [
        'DATABASE_URL',
        'JOBS_BATCH_SIZE',
        'JOBS_POLL_INTERVAL_SECONDS',
        'LOG_LEVEL',
        'PORT',
        'TRUST_PROXY',
      ].sort(),
    );
    const byName = Object.fromEntries(problems.map((p) => [p.variable, p.message]));
    expect(byName.PORT).toMatch(/expected a number/);
    expect(byName.JOBS_BATCH_SIZE).toMatch(/greater than 0/);
    expect(byName.JOBS_POLL_INTERVAL_SECONDS).toMatch(/at least 0.5/);
    expect(byName.LOG_LEVEL).toMatch(/one of fatal, error, warn, info/);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('readEnvironment', () => {
  it('reads .env underneath the process environment', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-env-'));
    writeFileSync(path.join(dir, '.env'), 'PORT=4000\nHOST=0.0.0.0\n# a comment\nLOG_LEVEL="debug"\n');
    const env = readEnvironment(dir, { PORT: '5000' });
    expect(env.PORT).toBe('5000');
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.LOG_LEVEL).toBe('debug');
  });

  it('works without a .env file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-env-'));
    expect(readEnvironment(dir, { PORT: '1' })).toEqual({ PORT: '1' });
  });
});

describe('channel drivers', () => {
  const sid = `AC${'a'.repeat(32)}`;

  it('uses every sandbox when no credentials are set', () => {
    const { channels } = loadConfig({});
    expect([channels.sms.driver, channels.email.driver, channels.slack.driver]).toEqual([
      'sandbox',
      'sandbox',
      'sandbox',
    ]);
  });

  it('uses the real provider whenever its credentials are set', () => {
    const { channels } = loadConfig({
      TWILIO_ACCOUNT_SID: sid,
      TWILIO_AUTH_TOKEN: 'token-token-token-1',
      TWILIO_FROM_NUMBER: '+14155550100',
      SENDGRID_API_KEY: 'SG.key-key-key',
      EMAIL_FROM: 'ap@example.com',
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
    });
    expect(channels.sms).toMatchObject({ driver: 'twilio', accountSid: sid, from: '+14155550100' });
    expect(channels.email).toMatchObject({ driver: 'sendgrid', from: { email: 'ap@example.com' } });
    expect(channels.slack).toMatchObject({ driver: 'slack', apiUrl: 'https://slack.com/api' });
    expect(
      loadConfig({ SMTP_URL: 'smtp://u:p@mail:587', EMAIL_FROM: 'ap@example.com' }).channels.email.driver,
    ).toBe('smtp');
  });

  it('refuses half-configured providers instead of falling back to the sandbox', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems.map((p) => p.variable);
      }
    };
    expect(problems({ TWILIO_ACCOUNT_SID: sid })).toEqual(['TWILIO_AUTH_TOKEN', 'TWILIO_FROM_NUMBER']);
    expect(problems({ SENDGRID_API_KEY: 'SG.key-key-key' })).toEqual(['EMAIL_FROM']);
    expect(
      problems({ SENDGRID_API_KEY: 'SG.key-key-key', SMTP_URL: 'smtp://h', EMAIL_FROM: 'a@b.co' }),
    ).toEqual(['SMTP_URL']);
    expect(problems({ HOST: '0.0.0.0' })).toEqual(['ADMIN_API_TOKEN']);
    expect(problems({ HOST: '0.0.0.0', ADMIN_API_TOKEN: 'a-long-enough-token' })).toEqual([]);
    expect(problems({ QUIET_HOURS: '21:00-08:00', QUIET_HOURS_DEFAULT_TIME_ZONE: 'Mars/Olympus' })).toEqual([
      'QUIET_HOURS',
      'QUIET_HOURS_DEFAULT_TIME_ZONE',
    ]);
  });
});

describe('SWITCHBOARD_APPS', () => {
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig(env, { cwd: '/srv/app' });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems;
    }
  };

  it('runs every bot by default, and the named ones in their start order otherwise', () => {
    expect(loadConfig({}).apps).toEqual(['invoices', 'daily', 'credits', 'payments']);
    expect(loadConfig({ SWITCHBOARD_APPS: ' payments, invoices ' }).apps).toEqual(['invoices', 'payments']);
  });

  it('refuses a name that is no bot, naming the ones there are', () => {
    expect(problemsOf({ SWITCHBOARD_APPS: 'invoices,credit' })).toEqual([
      {
        variable: 'SWITCHBOARD_APPS',
        message: 'no bot named "credit" (expected invoices, daily, credits, payments)',
      },
    ]);
  });

  it("checks a bot's variables even when it does not run, and its required-when rules only when it does", () => {
    // A malformed value is a typo whichever process reads it.
    expect(problemsOf({ SWITCHBOARD_APPS: 'invoices', STRIPE_SECRET_KEY: 'not-a-key' })).toEqual([
      { variable: 'STRIPE_SECRET_KEY', message: expect.stringContaining('a Stripe secret key') },
    ]);
    // A notebook that is not on this machine matters only to a process that runs CreditBot.
    const credits = { NOTEBOOK_PATH: 'missing/credit.ipynb', CREDITS_QUERY_RUNNER: 'trino' };
    expect(problemsOf({ ...credits, SWITCHBOARD_APPS: 'invoices' })).toEqual([]);
    expect(problemsOf({ ...credits, SWITCHBOARD_APPS: 'credits' }).map((p) => p.variable)).toEqual([
      'CREDITS_TRINO_URL',
      'NOTEBOOK_PATH',
    ]);
  });
});
