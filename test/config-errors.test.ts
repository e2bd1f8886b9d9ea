// What an operator sees for a configuration the service cannot run with: the variable to fix and
// what it needs, for each rule that ties variables together (beyond a single value's format, which
// test/config.test.ts covers). A mistake here starts a service that fails later, at the first
// message, instead of refusing at once with a line saying what to set.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

const CWD = '/srv/switchboard';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, { cwd: CWD });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.variable}: ${p.message}`);
  }
  throw new Error(`the configuration was accepted: ${JSON.stringify(env)}`);
}

const SID = `AC${'0'.repeat(32)}`;
const TOKEN = 'twilio-token-0123456789';

describe('configuration the service refuses, naming what to set', () => {
  it.each([
    // Pairs that only work together.
    [{ TWILIO_AUTH_TOKEN: TOKEN }, 'TWILIO_ACCOUNT_SID: required with TWILIO_AUTH_TOKEN'],
    [{ TWILIO_ACCOUNT_SID: SID }, 'TWILIO_AUTH_TOKEN: required with TWILIO_ACCOUNT_SID'],
    [{ LOOKER_CLIENT_SECRET: 'secret' }, 'LOOKER_CLIENT_ID: required with LOOKER_CLIENT_SECRET'],
    [{ LOOKER_CLIENT_ID: 'id' }, 'LOOKER_CLIENT_SECRET: required with LOOKER_CLIENT_ID'],
    [
      { INVOICE_SOURCE_URL: 'postgres://u@db/erp' },
      'INVOICE_SOURCE_QUERY: INVOICE_SOURCE_URL and INVOICE_SOURCE_QUERY go together',
    ],
    [
      { INVOICE_SOURCE_QUERY: 'select * from invoices' },
      'INVOICE_SOURCE_URL: INVOICE_SOURCE_URL and INVOICE_SOURCE_QUERY go together',
    ],
    [
      { SENDGRID_API_KEY: 'SG.0123456789', SMTP_URL: 'smtp://mail:25', EMAIL_FROM: 'a@example.com' },
      'SMTP_URL: set SENDGRID_API_KEY or SMTP_URL, not both',
    ],
    [{ SMTP_URL: 'smtp://mail:25' }, 'EMAIL_FROM: required to send real email'],
    // A provider chosen without what it needs.
    [{ AI_PROVIDER: 'anthropic' }, 'ANTHROPIC_API_KEY: required with AI_PROVIDER=anthropic'],
    [{ AI_PROVIDER: 'bedrock' }, 'AWS_REGION: required with AI_PROVIDER=bedrock'],
    [
      { AI_PROVIDER: 'bedrock', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE' },
      'AWS_SECRET_ACCESS_KEY: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together',
    ],
    [
      { AI_PROVIDER: 'openai-compatible', AI_MODEL: 'llama' },
      'AI_BASE_URL: required with AI_PROVIDER=openai-compatible',
    ],
    [
      { AI_PROVIDER: 'openai-compatible', AI_BASE_URL: 'http://127.0.0.1:11434/v1' },
      'AI_MODEL: required with AI_PROVIDER=openai-compatible (the served model name)',
    ],
    [{ CREDITS_QUERY_RUNNER: 'trino' }, 'CREDITS_TRINO_URL: required when CREDITS_QUERY_RUNNER=trino'],
    [
      { CREDITS_QUERY_RUNNER: 'postgres' },
      'CREDITS_QUERY_DATABASE_URL: required when CREDITS_QUERY_RUNNER=postgres',
    ],
    [
      { PAYMENTS_CARD_MODE: 'embedded', STRIPE_SECRET_KEY: 'sk_test_123' },
      'STRIPE_PUBLISHABLE_KEY: required with PAYMENTS_CARD_MODE=embedded (the Payment Element needs it)',
    ],
    // Values whose format only the service's own rules can check.
    [{ PAYMENTS_DEFAULT_CURRENCY: 'XYZW' }, 'PAYMENTS_DEFAULT_CURRENCY: expected an ISO 4217 currency code'],
    [
      { CREDITS_VERIFY_PATTERNS: 'authy,(unclosed' },
      'CREDITS_VERIFY_PATTERNS: not a regular expression: (unclosed',
    ],
    [{ CREDITS_VERIFY_PATTERNS: ' , ' }, 'CREDITS_VERIFY_PATTERNS: at least one pattern'],
    [
      { CREDITS_BLOCK_RATES: 'basic=1.5' },
      'CREDITS_BLOCK_RATES: "basic=1.5" is not mode=rate with a rate from 0 to 1 (up to 4 decimals)',
    ],
    [{ DAILY_WINDOW: '17:00' }, 'DAILY_WINDOW: "17:00" is not a window like 08:00-21:00'],
    // Files named but missing, and a notebook calculator without its notebook.
    [
      { INVOICE_SMS_TEMPLATE: 'templates/missing.txt' },
      `INVOICE_SMS_TEMPLATE: no such file: ${CWD}/templates/missing.txt`,
    ],
    [
      { INVOICE_EMAIL_HTML_TEMPLATE: '/nowhere/alert.html' },
      'INVOICE_EMAIL_HTML_TEMPLATE: no such file: /nowhere/alert.html',
    ],
    [
      { CREDITS_VERIFY_CALCULATOR: 'notebook' },
      'NOTEBOOK_PATH: required when CREDITS_VERIFY_CALCULATOR=notebook',
    ],
    [{ NOTEBOOK_PATH: 'credit.ipynb' }, `NOTEBOOK_PATH: no such file: ${CWD}/credit.ipynb`],
    [
      { CREDITS_PSMS_CALCULATOR: 'notebook' },
      'CREDITS_PSMS_NOTEBOOK_PATH: required when CREDITS_PSMS_CALCULATOR=notebook',
    ],
  ])('%o is refused: %s', (env, expected) => {
    const listed = problems(env);
    expect(listed.some((line) => line.startsWith(expected))).toBe(true);
    // A secret given is never repeated back (the message goes to a terminal or a log).
    for (const [name, value] of Object.entries(env)) {
      if (!/(KEY|SECRET|TOKEN|_SID)$/.test(name)) continue;
      for (const line of listed) expect(line).not.toContain(value);
    }
  });

  it('lists every problem at once, so one restart fixes them all', () => {
    const listed = problems({
      TWILIO_AUTH_TOKEN: TOKEN,
      AI_PROVIDER: 'bedrock',
      CREDITS_QUERY_RUNNER: 'trino',
    });
    expect(listed.map((line) => line.split(':')[0])).toEqual(
      expect.arrayContaining(['TWILIO_ACCOUNT_SID', 'AWS_REGION', 'CREDITS_TRINO_URL']),
    );
  });
});
