// The secret scrubber: every secret a config can hold is registered, in the forms it travels in
// (raw, Basic-auth base64, URL and form encoding), short values are left alone, well-known key
// shapes are removed even unconfigured, and the logger and stored error texts use it.
import { describe, expect, it } from 'vitest';
import { envSchema, loadConfig } from '../src/config.ts';
import { errorText, scrubText } from '../src/platform/redact.ts';
import {
  configSecrets,
  MIN_SECRET_LENGTH,
  registerConfigSecrets,
  registerSecrets,
  SECRET_MASK,
  scrubSecrets,
} from '../src/platform/secrets.ts';
import { captureLogs } from './helpers/logs.ts';

/** A value for every secret variable of the env schema, recognisable and valid for its format. */
const SECRET_ENV: Record<string, string> = {
  ADMIN_API_TOKEN: 'admin-token-UNITSECRET-01',
  TWILIO_ACCOUNT_SID: `AC${'0123456789abcdef'.repeat(2)}`,
  TWILIO_AUTH_TOKEN: 'twilio-token-UNITSECRET-02',
  TWILIO_FROM_NUMBER: '+15005550006',
  SENDGRID_API_KEY: 'SG.UNITSECRET-03.abcdefgh',
  EMAIL_FROM: 'a@example.com',
  SLACK_BOT_TOKEN: 'xoxb-UNITSECRET-04',
  OPENAI_API_KEY: 'sk-openai-UNITSECRET-05',
  AWS_ACCESS_KEY_ID: 'AKIAUNITSECRET06XX',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-UNITSECRET-07',
  AWS_SESSION_TOKEN: 'aws-session-UNITSECRET-08',
  ANTHROPIC_API_KEY: 'sk-ant-UNITSECRET-09',
  AI_API_KEY: 'ai-key-UNITSECRET-10',
  SLACK_SIGNING_SECRET: 'slack-signing-UNITSECRET-11',
  SLACK_APP_TOKEN: 'xapp-UNITSECRET-12',
  LOOKER_CLIENT_ID: 'looker-id-UNITSECRET-13',
  LOOKER_CLIENT_SECRET: 'looker-secret-UNITSECRET-14',
  LOOKER_BASE_URL: 'https://looker.example.com',
  STRIPE_SECRET_KEY: 'sk_test_UNITSECRET15',
  // Two during a rotation: both are secrets.
  STRIPE_WEBHOOK_SECRET: 'whsec_UNITSECRET16,whsec_UNITSECRET16b',
  CHAT_API_KEYS: 'chat-key-UNITSECRET-17,chat-key-UNITSECRET-18',
  DATABASE_URL: 'postgres://app:db-pass-UNITSECRET-19@db:5432/sb',
  REDIS_URL: 'redis://default:redis-pass-UNITSECRET-20@cache:6379',
  INVOICE_SOURCE_URL: 'postgres://ro:source-pass-UNITSECRET-21@erp:5432/ap',
  INVOICE_SOURCE_QUERY: 'select * from invoices',
  CREDITS_QUERY_DATABASE_URL: 'postgres://q:query-pass-UNITSECRET-22@dwh:5432/x',
  CREDITS_QUERY_RUNNER: 'postgres',
};
const SMTP_URL_VALUE = 'smtps://mailer:smtp-pass-UNITSECRET-23@mail.example.com:465';

describe('secret scrubber', () => {
  it('knows every secret the config can hold', () => {
    /** What must be registered for each variable (a URL's password, each key of a list). */
    const expected = (name: string, value: string): string[] => {
      if (name.endsWith('_URL')) return [decodeURIComponent(new URL(value).password)];
      if (name === 'CHAT_API_KEYS' || name === 'STRIPE_WEBHOOK_SECRET') return value.split(',');
      return [value];
    };
    const aiKeys: Record<string, string[]> = {
      openai: ['OPENAI_API_KEY'],
      anthropic: ['ANTHROPIC_API_KEY'],
      bedrock: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'],
      'openai-compatible': ['AI_API_KEY'],
    };
    const allAiKeys = Object.values(aiKeys).flat();
    // One language-model provider at a time: the keys of the chosen one are secrets.
    for (const provider of Object.keys(aiKeys)) {
      const env = {
        ...SECRET_ENV,
        AI_PROVIDER: provider,
        AWS_REGION: 'us-east-1',
        AI_BASE_URL: 'http://127.0.0.1:11434/v1',
        AI_MODEL: 'm',
      };
      const secrets = configSecrets(loadConfig(env));
      for (const [name, value] of Object.entries(SECRET_ENV)) {
        if (!value.includes('UNITSECRET') || (allAiKeys.includes(name) && !aiKeys[provider]?.includes(name)))
          continue;
        for (const secret of expected(name, value)) expect(secrets, `${provider}: ${name}`).toContain(secret);
      }
    }
    // SMTP instead of SendGrid (they exclude each other).
    const { SENDGRID_API_KEY: _key, ...rest } = SECRET_ENV;
    const smtp = configSecrets(loadConfig({ ...rest, SMTP_URL: SMTP_URL_VALUE }));
    expect(smtp).toContain('smtp-pass-UNITSECRET-23');
  });

  it('has a test value for every secret-looking variable of the env schema (a new secret must be registered)', () => {
    const secretLooking = Object.keys(envSchema.shape).filter(
      (name) =>
        /(TOKEN|SECRET|_KEY|KEYS|PASSWORD|_URL)$/.test(name) &&
        !/PUBLISHABLE|PUBLIC_KEY|BASE_URL|JS_URL|PUBLIC_URL|TRINO_URL|SLACK_API_URL|RATE_LIMIT/.test(name),
    );
    for (const name of secretLooking) expect([...Object.keys(SECRET_ENV), 'SMTP_URL'], name).toContain(name);
  });

  it('removes registered values in the forms they travel in, and leaves short values alone', () => {
    registerConfigSecrets(loadConfig(SECRET_ENV));
    const token = SECRET_ENV.TWILIO_AUTH_TOKEN as string;
    const basic = Buffer.from(`${SECRET_ENV.TWILIO_ACCOUNT_SID}:${token}`).toString('base64');
    const looker = `client_id=${encodeURIComponent(SECRET_ENV.LOOKER_CLIENT_ID as string)}&client_secret=${encodeURIComponent(SECRET_ENV.LOOKER_CLIENT_SECRET as string)}`;
    for (const text of [
      `Authorization: Basic ${basic}`,
      `decoded ${SECRET_ENV.TWILIO_ACCOUNT_SID}:${token}`,
      `body: ${looker}`,
      `json: ${JSON.stringify({ key: SECRET_ENV.SENDGRID_API_KEY })}`,
      'db-pass-UNITSECRET-19 in a message',
    ]) {
      const scrubbed = scrubSecrets(text);
      expect(scrubbed, text).toContain(SECRET_MASK);
      expect(scrubbed).not.toMatch(/UNITSECRET/);
      expect(scrubbed).not.toContain(basic);
    }
    registerSecrets(['short']);
    expect('short'.length).toBeLessThan(MIN_SECRET_LENGTH);
    expect(scrubSecrets('a short answer')).toBe('a short answer');
  });

  it('removes well-known key shapes and credentials even when they are not configured', () => {
    for (const text of [
      'Bearer sk_live_abcdefghijklmnop',
      'key rk_test_abcdefghijkl',
      'whsec_abcdefghijklmnop',
      'xoxb-1234-5678-abcdefgh',
      'xapp-1-A0-123456789',
      'SG.abcdefghij.klmnopqrstuv',
      'Authorization: Basic dXNlcjpwYXNzd29yZA==',
    ])
      expect(scrubSecrets(text), text).toContain(SECRET_MASK);
    expect(scrubSecrets('Basic plan, Bearer of news')).toBe('Basic plan, Bearer of news');
  });

  it('scrubs connection URL passwords, secrets and cards from error texts stored in rows, bounded', () => {
    const text = errorText(new Error('connect postgres://u:pw-xyz@db/x failed for 4242 4242 4242 4242'));
    expect(text).toBe('connect postgres://u:[REDACTED]@db/x failed for [REDACTED CARD]');
    expect(errorText(new Error('x'.repeat(5000))).length).toBe(1000);
    expect(scrubText('GET /pay?x=%204242424242424242%20')).not.toMatch(/4242424242424242/);
  });

  it('keeps secrets out of log lines: messages, objects and errors', () => {
    registerConfigSecrets(loadConfig(SECRET_ENV));
    const { log, text } = captureLogs();
    log.error(
      {
        err: Object.assign(new Error(`Twilio said ${SECRET_ENV.TWILIO_AUTH_TOKEN}`), {
          body: { quoted: SECRET_ENV.STRIPE_SECRET_KEY },
        }),
      },
      `failed with ${SECRET_ENV.SLACK_BOT_TOKEN}`,
    );
    expect(text()).not.toMatch(/UNITSECRET/);
    expect(text()).toContain(SECRET_MASK);
  });
});
