// Every environment variable Switchboard reads is declared here, once, with its default and the
// reason it exists. Nothing else reads process.env: callers get a typed, validated Config.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { isValidZone, parseWindow, type SendingWindow } from './platform/channels/sms/quiet-hours.ts';
import { resolveSecretFiles } from './platform/config/secret-files.ts';
import { isLoopbackHost, type TrustProxy, trustProxySchema } from './platform/http/addresses.ts';
import { isCurrency } from './platform/money.ts';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const seconds = z.coerce.number().positive();

/** `true/false/1/0/yes/no/on/off`, any case; anything else is a config error, not silently false. */
const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\/.+/.test(value), 'a postgres:// or postgresql:// connection URL');

const httpUrl = z
  .string()
  .trim()
  .refine((value) => /^https?:\/\/\S+$/.test(value), 'an http:// or https:// URL')
  .transform((value) => value.replace(/\/+$/, ''));

const redisUrl = z
  .string()
  .trim()
  .refine((value) => /^rediss?:\/\/.+/.test(value), 'a redis:// or rediss:// URL');

/** Empty strings in .env files mean "not set", which is what people who write `REDIS_URL=` intend. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

export const envSchema = z.object({
  PORT: port.default(3000).describe('HTTP port'),
  HOST: z
    .string()
    .trim()
    .min(1)
    .default('127.0.0.1')
    .describe('interface to listen on; 0.0.0.0 in containers'),
  DATA_DIR: z
    .string()
    .trim()
    .min(1)
    .default('./data')
    .describe('where embedded PostgreSQL (PGlite) keeps its files'),
  DATABASE_URL: optional(postgresUrl).describe(
    'a PostgreSQL server; unset means embedded PGlite in DATA_DIR',
  ),
  DATABASE_POOL_MAX: positiveInt
    .max(500)
    .default(10)
    .describe('connections per process when DATABASE_URL is set'),
  DATABASE_CONNECT_RETRY_SECONDS: z.coerce
    .number()
    .min(0)
    .max(86400)
    .default(300)
    .describe('how long a starting process retries an unreachable database (0: fail at once)'),
  REDIS_URL: optional(redisUrl).describe('optional Redis, checked by /health/ready when set'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z
    .enum(['auto', 'json', 'pretty'])
    .default('auto')
    .describe('auto: pretty in a terminal, JSON otherwise'),
  HTTP_BODY_LIMIT_BYTES: positiveInt.max(50 * 1024 * 1024).default(1024 * 1024),
  TRUST_PROXY: optional(trustProxySchema).describe(
    'proxies trusted for X-Forwarded-*: false, a hop count (true: 1), or their addresses/CIDRs',
  ),
  AUTH_FAILURE_RATE_LIMIT: positiveInt
    .max(10_000)
    .default(10)
    .describe('failed credentials (API keys, admin token) per minute per address before 429'),
  SHUTDOWN_TIMEOUT_SECONDS: seconds
    .max(3600)
    .default(30)
    .describe('how long running jobs get to finish on SIGTERM'),
  JOBS_POLL_INTERVAL_SECONDS: seconds.min(0.5).max(60).default(2),
  JOBS_BATCH_SIZE: positiveInt
    .max(1000)
    .default(50)
    .describe('jobs a worker fetches and runs at once per queue'),
  JOBS_RETRY_LIMIT: z.coerce.number().int().min(0).max(100).default(5),
  JOBS_RETRY_DELAY_SECONDS: seconds.max(3600).default(5).describe('first retry delay; doubles with jitter'),
  JOBS_RETRY_DELAY_MAX_SECONDS: seconds.max(86400).default(900),
  JOBS_EXPIRE_SECONDS: positiveInt
    .max(86400)
    .default(900)
    .describe('a job running longer is failed and retried'),
  JOBS_MAINTENANCE_INTERVAL_SECONDS: positiveInt
    .max(3600)
    .default(60)
    .describe('how often expired jobs are swept'),
  JOBS_QUEUES: z
    .string()
    .default('')
    .describe(
      'the queues whose workers this process runs (comma-separated, -name for all but; all when empty)',
    ),

  PUBLIC_URL: optional(httpUrl).describe('the URL providers call back (webhooks, status callbacks)'),
  ADMIN_API_TOKEN: optional(z.string().min(16, 'at least 16 characters')).describe(
    'bearer token for /outbox and /sandbox',
  ),

  TWILIO_ACCOUNT_SID: optional(
    z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'an Account SID: AC and 32 hex digits'),
  ),
  TWILIO_AUTH_TOKEN: optional(z.string().min(16, 'at least 16 characters')),
  TWILIO_FROM_NUMBER: optional(
    z.string().regex(/^\+[1-9]\d{6,14}$/, 'a number in E.164 form, e.g. +14155550100'),
  ),
  TWILIO_MESSAGING_SERVICE_SID: optional(
    z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID: MG and 32 hex digits'),
  ),
  TWILIO_API_BASE_URL: httpUrl.default('https://api.twilio.com'),

  SENDGRID_API_KEY: optional(z.string().min(10, 'at least 10 characters')),
  SENDGRID_API_BASE_URL: httpUrl.default('https://api.sendgrid.com'),
  SENDGRID_WEBHOOK_PUBLIC_KEY: optional(
    z.string().min(40, "the base64 public key from SendGrid's Event Webhook settings"),
  ),
  SMTP_URL: optional(z.string().regex(/^smtps?:\/\/\S+$/, 'an smtp:// or smtps:// URL')),
  EMAIL_FROM: optional(z.email('an email address')),
  EMAIL_FROM_NAME: optional(z.string().max(100)),

  SLACK_BOT_TOKEN: optional(z.string().regex(/^xox[bp]-\S+$/, 'a Slack bot token (xoxb-...)')),
  SLACK_API_URL: httpUrl.default('https://slack.com/api'),

  PROVIDER_TIMEOUT_SECONDS: seconds.max(300).default(15),
  OUTBOX_MAX_ATTEMPTS: positiveInt.max(50).default(8),
  OUTBOX_RETRY_BASE_SECONDS: seconds.max(3600).default(5),
  OUTBOX_RETRY_MAX_SECONDS: seconds.max(86400).default(3600),
  OUTBOX_BATCH_SIZE: positiveInt.max(1000).default(200),
  OUTBOX_CONCURRENCY: positiveInt.max(32).default(4),
  OUTBOX_LEASE_SECONDS: positiveInt
    .min(5)
    .max(3600)
    .default(30)
    .describe('how long a send attempt owns its row without renewing; at most half of JOBS_EXPIRE_SECONDS'),
  OUTBOX_READBACK_MAX_MESSAGES: positiveInt
    .max(1_000_000)
    .default(10_000)
    .describe('most provider messages one read-back lists before it gives up for now (and retries later)'),

  SMS_MAX_SEGMENTS: positiveInt.max(10).default(4),
  SMS_SEGMENTS_PER_SECOND: z.coerce.number().positive().max(10000).default(1),
  SMS_HELP_TEXT: z
    .string()
    .min(1)
    .max(320)
    .default('Switchboard alerts. Reply STOP to unsubscribe, START to resubscribe.'),
  SMS_DEFAULT_REGION: optional(z.string().regex(/^[A-Z]{2}$/, 'a two-letter country code such as US')),
  QUIET_HOURS_ENABLED: optional(flag),
  QUIET_HOURS: z.string().default('08:00-21:00'),
  QUIET_HOURS_DEFAULT_TIME_ZONE: z.string().default('UTC'),
  WEBHOOK_INBOUND_RATE_LIMIT: positiveInt.max(100000).default(60),
  WEBHOOK_STATUS_RATE_LIMIT: positiveInt.max(100000).default(120),

  REVIEW_NOTIFICATION_INTERVAL: z.coerce.number().int().min(5).max(1440).default(30),
  NOTIFICATION_RECIPIENTS: z.string().default(''),
  INVOICE_SOURCE_URL: optional(postgresUrl),
  INVOICE_SOURCE_QUERY: optional(z.string().min(10)),
  INVOICE_SMS_MAX_SEGMENTS: positiveInt.max(10).default(1),
  INVOICE_EMAIL_HTML_TEMPLATE: optional(z.string()),
  INVOICE_EMAIL_TEXT_TEMPLATE: optional(z.string()),
  INVOICE_EMAIL_SUBJECT_TEMPLATE: optional(z.string()),
  INVOICE_SMS_TEMPLATE: optional(z.string()),

  // --- Language models (platform/ai) and the daily messages app ---
  AI_PROVIDER: optional(z.enum(['openai', 'anthropic', 'bedrock', 'openai-compatible', 'offline'])).describe(
    'unset: openai when OPENAI_API_KEY is set, anthropic when ANTHROPIC_API_KEY is, else offline',
  ),
  AI_MODEL: optional(z.string().trim().min(1).max(200)),
  OPENAI_API_KEY: optional(z.string().min(10, 'at least 10 characters')),
  OPENAI_BASE_URL: httpUrl.default('https://api.openai.com/v1'),
  ANTHROPIC_API_KEY: optional(z.string().min(10, 'at least 10 characters')),
  ANTHROPIC_BASE_URL: httpUrl.default('https://api.anthropic.com/v1'),
  AWS_REGION: optional(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1')),
  AWS_ACCESS_KEY_ID: optional(z.string().min(16)),
  AWS_SECRET_ACCESS_KEY: optional(z.string().min(16)),
  AWS_SESSION_TOKEN: optional(z.string().min(16)),
  BEDROCK_BASE_URL: optional(httpUrl),
  AI_BASE_URL: optional(httpUrl).describe(
    'an OpenAI-compatible server (Ollama, llama.cpp, vLLM), e.g. .../v1',
  ),
  AI_API_KEY: optional(z.string().min(1)),
  AI_TIMEOUT_SECONDS: seconds.max(300).default(20),
  AI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  AI_MAX_OUTPUT_TOKENS: positiveInt.max(100000).default(200),
  AI_MAX_TOKENS_PER_CALL: positiveInt.max(1000000).default(4000),
  AI_DAILY_TOKEN_BUDGET: positiveInt.max(1_000_000_000).default(200000),
  AI_INPUT_COST_PER_MILLION_TOKENS_CENTS: z.coerce.number().int().min(0).max(1_000_000).default(15),
  AI_OUTPUT_COST_PER_MILLION_TOKENS_CENTS: z.coerce.number().int().min(0).max(1_000_000).default(60),

  DAILY_WINDOW: z.string().default('12:00-17:00'),
  DAILY_CONTENT_MODE: z.enum(['audience', 'subscriber']).default('audience'),
  DAILY_REPEAT_HORIZON_DAYS: positiveInt.max(3650).default(365),
  DAILY_MAX_SEGMENTS: positiveInt.max(10).default(1),
  DAILY_QUOTA: z.coerce.number().int().min(0).max(100_000_000).default(10000),
  DAILY_PLAN_CRON: z.string().default('7 * * * *'),
  DAILY_CLEANUP_CRON: z.string().default('30 3 * * *'),
  DAILY_OUTBOX_RETENTION_DAYS: positiveInt.max(3650).default(90),
  DAILY_CONFIG_RATE_LIMIT: positiveInt.max(100000).default(30),
  DAILY_PROMPT: optional(z.string().min(10).max(2000)),
  DAILY_HELP_TEXT: z
    .string()
    .min(1)
    .max(160)
    .default('Daily messages: reply TIME 9-11 to change the hour, PAUSE 7 to pause a week, STOP to end.'),
  // --- credits (CreditBot) ---
  SLACK_SIGNING_SECRET: optional(z.string().min(8, 'the Signing Secret from the Slack app settings')),
  SLACK_APP_TOKEN: optional(z.string().regex(/^xapp-\S+$/, 'an app-level token (xapp-...) for Socket Mode')),
  SLACK_TEST_CHANNEL: optional(z.string().trim().min(1)),
  SLACK_USER_ID: optional(z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id such as W014QM1DAPN')),
  CREDITS_CHANNELS: z.string().default(''),
  CREDITS_POLL_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(1440).default(0),
  CREDITS_ACCEPT_BOT_MESSAGES: optional(flag),
  CREDITS_ACCEPT_THREAD_REPLIES: optional(flag),
  CREDITS_ACCEPT_EDITS: optional(flag),
  LOOKER_CLIENT_ID: optional(z.string().min(1)),
  LOOKER_CLIENT_SECRET: optional(z.string().min(1)),
  LOOKER_BASE_URL: optional(httpUrl),
  CREDITS_LOOKER_HOST: optional(
    z
      .string()
      .trim()
      .regex(/^[a-z0-9.-]+(:\d+)?$/i, 'a host name, e.g. example.cloud.looker.com'),
  ),
  CREDITS_QUERY_RUNNER: z.enum(['looker', 'trino', 'postgres']).default('looker'),
  CREDITS_TRINO_URL: optional(httpUrl),
  CREDITS_TRINO_USER: z.string().min(1).default('switchboard'),
  CREDITS_TRINO_CATALOG: optional(z.string().min(1)),
  CREDITS_TRINO_SCHEMA: optional(z.string().min(1)),
  CREDITS_QUERY_DATABASE_URL: optional(postgresUrl),
  CREDITS_VERIFY_PATTERNS: z.string().default('authy'),
  CREDITS_VERIFY_CALCULATOR: optional(z.enum(['notebook', 'builtin', 'none'])),
  CREDITS_PSMS_CALCULATOR: z.enum(['notebook', 'builtin', 'none']).default('none'),
  NOTEBOOK_PATH: optional(z.string().min(1)),
  CREDITS_PSMS_NOTEBOOK_PATH: optional(z.string().min(1)),
  CREDITS_NOTEBOOK_PARAMETER: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Python identifier')
    .default('looker'),
  CREDITS_NOTEBOOK_SUMMARY_HEADING: z.string().min(1).default('Summary Info'),
  CREDITS_NOTEBOOK_TIMEOUT_SECONDS: seconds.max(3600).default(300),
  CREDITS_JUPYTER_COMMAND: z.string().min(1).default('jupyter'),
  CREDITS_NOTEBOOK_KERNEL: z.string().min(1).default('python3'),
  CREDITS_NOTEBOOK_CONCURRENCY: positiveInt.max(64).default(2).describe('notebook runs at once per worker'),
  CREDITS_NOTEBOOK_ENV: z
    .string()
    .regex(/^[A-Za-z0-9_*,\s]*$/, 'comma-separated variable names (a trailing * matches a prefix)')
    .default('')
    .describe("variables the notebook's kernel sees, beyond PATH/HOME/LANG-like basics"),
  CREDITS_BLOCK_RATES: z.string().default('off=0,basic=0.416,standard=0.65,maximum=0.85'),
  CREDITS_KEEP_SQL: optional(flag),
  CREDITS_REPLY_TEMPLATE: z.string().min(1).max(2000).default('Approved, {amount}, exceptions'),
  CREDITS_REACTION_PROCESSING: z
    .string()
    .regex(/^[a-z0-9_+'-]+$/)
    .default('eyes'),
  CREDITS_REACTION_DONE: z
    .string()
    .regex(/^[a-z0-9_+'-]+$/)
    .default('white_check_mark'),
  CREDITS_REACTION_FAILED: z
    .string()
    .regex(/^[a-z0-9_+'-]+$/)
    .default('x'),
  // --- payments (PayBot) ---
  STRIPE_SECRET_KEY: optional(z.string().regex(/^(sk|rk)_\S+$/, 'a Stripe secret key (sk_... or rk_...)')),
  STRIPE_PUBLISHABLE_KEY: optional(z.string().regex(/^pk_\S+$/, 'a Stripe publishable key (pk_...)')),
  STRIPE_WEBHOOK_SECRET: optional(z.string().regex(/^whsec_\S+$/, 'a webhook signing secret (whsec_...)')),
  STRIPE_API_BASE_URL: httpUrl.default('https://api.stripe.com'),
  STRIPE_JS_URL: httpUrl.default('https://js.stripe.com/v3'),
  STRIPE_MAX_NETWORK_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  PAYMENTS_CARD_MODE: z.enum(['hosted', 'embedded']).default('hosted'),
  PAYMENTS_DEFAULT_CURRENCY: z.string().trim().toUpperCase().default('USD'),
  PAYMENTS_MAX_RETRIES: positiveInt.max(20).default(3),
  PAYMENTS_HANDOFF_MESSAGE: z
    .string()
    .min(1)
    .max(500)
    .default(
      'I could not complete this with you here. A member of our team will help: reply "restart" to try again.',
    ),
  PAYMENTS_INTERPRETER_TIMEOUT_SECONDS: seconds.max(30).default(2),
  CHAT_API_KEYS: z.string().default(''),
  CHAT_SESSION_TTL_MINUTES: positiveInt.max(7 * 24 * 60).default(60),
  CHAT_RATE_LIMIT_PER_KEY: positiveInt.max(1_000_000).default(600),
  CHAT_RATE_LIMIT_PER_SESSION: positiveInt.max(10_000).default(30),
  CHAT_BODY_LIMIT_BYTES: positiveInt.max(1024 * 1024).default(8192),
  CHAT_MESSAGE_MAX_CHARS: positiveInt.max(10_000).default(1000),
});

export type Env = z.input<typeof envSchema>;
export type ParsedEnv = z.output<typeof envSchema>;

export interface Config {
  http: {
    port: number;
    host: string;
    bodyLimitBytes: number;
    trustProxy: TrustProxy;
    authFailuresPerMinute: number;
  };
  database:
    | { kind: 'pglite'; dataDir: string }
    | { kind: 'postgres'; url: string; poolMax: number; connectRetryMs: number };
  redis: { url: string } | null;
  log: { level: ParsedEnv['LOG_LEVEL']; format: ParsedEnv['LOG_FORMAT'] };
  shutdownTimeoutMs: number;
  jobs: {
    pollIntervalSeconds: number;
    batchSize: number;
    retryLimit: number;
    retryDelaySeconds: number;
    retryDelayMaxSeconds: number;
    expireSeconds: number;
    maintenanceIntervalSeconds: number;
    /** Run only these queues' workers (`switchboard worker --queues`); all when empty. */
    queues: string[];
  };
  channels: ChannelsConfig;
  outbox: {
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    batchSize: number;
    /** Batches a worker sends at once. */
    concurrency: number;
    /** How long a send attempt owns its row between renewals (shorter than a job's expiry). */
    leaseMs: number;
    /** The most messages a read-back lists from the provider before giving up for now. */
    readBackMaxMessages: number;
  };
  sms: {
    maxSegments: number;
    segmentsPerSecond: number;
    helpText: string;
    defaultRegion: string | undefined;
    /** null: quiet hours are off. */
    quietHours: { window: SendingWindow; defaultTimeZone: string } | null;
  };
  webhooks: { publicUrl: string | null; inboundPerMinute: number; statusPerMinute: number };
  /** When set, /outbox and /sandbox require `Authorization: Bearer <token>`. */
  adminToken: string | null;
  invoices: {
    intervalMinutes: number;
    /** NOTIFICATION_RECIPIENTS as written: entries are validated (and bad ones logged) by the app. */
    recipients: string[];
    /** A team's own PostgreSQL to scan instead of Switchboard's invoices table. */
    source: { url: string; query: string } | null;
    smsMaxSegments: number;
    /** Files that override the built-in templates. */
    templateFiles: { emailHtml?: string; emailText?: string; emailSubject?: string; sms?: string };
  };
  ai: AiConfig;
  daily: DailyConfig;
  credits: CreditsConfig;
  payments: PaymentsConfig;
}

/** PayBot: the chat API, its callers' keys and limits, and Stripe. */
export interface PaymentsConfig {
  stripe: {
    /** null: the bot still talks, but says card payments are not set up instead of opening the card step. */
    secretKey: string | null;
    publishableKey: string | null;
    webhookSecret: string | null;
    /** STRIPE_API_BASE_URL split the way the stripe SDK takes it. */
    api: { protocol: 'http' | 'https'; host: string; port: number };
    jsUrl: string;
    maxNetworkRetries: number;
  };
  cardMode: 'hosted' | 'embedded';
  defaultCurrency: string;
  maxRetries: number;
  handoffMessage: string;
  interpreterTimeoutMs: number;
  /** Plain keys from CHAT_API_KEYS (simple installs); hashed keys live in the database. */
  apiKeys: string[];
  sessionTtlMs: number;
  ratePerKeyPerMinute: number;
  ratePerSessionPerMinute: number;
  bodyLimitBytes: number;
  messageMaxChars: number;
}

/** Which language model platform/ai calls, and the limits every call runs under. */
export interface AiConfig {
  provider:
    | { kind: 'openai'; apiKey: string; baseUrl: string; model: string }
    | { kind: 'anthropic'; apiKey: string; baseUrl: string; model: string }
    | {
        kind: 'bedrock';
        region: string;
        model: string;
        baseUrl: string | null;
        credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string | null } | null;
      }
    | { kind: 'openai-compatible'; baseUrl: string; apiKey: string | null; model: string }
    | { kind: 'offline' };
  timeoutMs: number;
  maxRetries: number;
  maxOutputTokens: number;
  maxTokensPerCall: number;
  dailyTokenBudget: number;
  /** Estimated cost, in US cents per million tokens. */
  costPerMillion: { inputCents: number; outputCents: number };
}

export interface DailyConfig {
  window: SendingWindow;
  contentMode: 'audience' | 'subscriber';
  repeatHorizonDays: number;
  maxSegments: number;
  quota: number;
  planCron: string;
  cleanupCron: string;
  outboxRetentionDays: number;
  configPerMinute: number;
  prompt: string | null;
  helpText: string;
}

/** CreditBot: where requests come from, how queries are resolved and run, how credits are computed. */
export interface CreditsConfig {
  /** Watched Slack channels (ids, or names in the sandbox). */
  channels: string[];
  signingSecret: string | null;
  /** Socket Mode app token: set, requests also arrive over Socket Mode. */
  socketToken: string | null;
  pollIntervalMinutes: number;
  accept: { botMessages: boolean; threadReplies: boolean; edits: boolean };
  /** Operator who gets a DM when a request fails. */
  operator: string | null;
  /** null: the sandbox Looker over the sample table. */
  looker: { clientId: string; clientSecret: string; baseUrl: string } | null;
  /** The host whose links are requests (LOOKER_BASE_URL's host unless set). */
  lookerHost: string;
  runner:
    | { kind: 'looker' }
    | { kind: 'trino'; url: string; user: string; catalog: string | undefined; schema: string | undefined }
    | { kind: 'postgres'; url: string };
  verifyPatterns: RegExp[];
  calculators: { verify: CalculatorSetting; psms: CalculatorSetting };
  notebook: {
    parameter: string;
    summaryHeading: string;
    timeoutMs: number;
    jupyter: string;
    kernel: string;
    /** The kernel's whole environment: the basics and what CREDITS_NOTEBOOK_ENV names. */
    env: Record<string, string>;
    concurrency: number;
  };
  /** Expected block rate per Fraud Guard mode, in basis points (0.416 -> 4160). */
  blockRates: Record<string, number>;
  replyTemplate: string;
  reactions: { processing: string; done: string; failed: string };
  /** Keep each query's SQL in the stored summary (its sha256 is always kept). */
  keepSql: boolean;
}

export type CalculatorSetting = { kind: 'builtin' } | { kind: 'notebook'; path: string } | { kind: 'none' };

/** Which driver each channel uses: the real provider when its credentials are set, else the sandbox. */
export interface ChannelsConfig {
  providerTimeoutMs: number;
  sms:
    | {
        driver: 'twilio';
        accountSid: string;
        authToken: string;
        from: string | null;
        messagingServiceSid: string | null;
        baseUrl: string;
      }
    | { driver: 'sandbox'; from: string };
  email:
    | {
        driver: 'sendgrid';
        apiKey: string;
        baseUrl: string;
        webhookPublicKey: string | null;
        from: EmailSender;
      }
    | { driver: 'smtp'; url: string; from: EmailSender }
    | { driver: 'sandbox'; from: EmailSender };
  slack: { driver: 'slack'; token: string; apiUrl: string } | { driver: 'sandbox' };
}

export interface EmailSender {
  email: string;
  name: string | undefined;
}

/** One problem with one variable, phrased for the person editing the .env file. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Validates the environment and returns the typed config, or throws a ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>, options: { cwd?: string } = {}): Config {
  env = resolveSecretFiles(env); // <NAME>_FILE: secrets read from mounted files
  const result = envSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        message: describeIssue(issue, env[String(issue.path[0])]),
      })),
    );
  }
  const e = result.data;
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const problem = (variable: string, message: string) => problems.push({ variable, message });

  let quietWindow: SendingWindow | null = null;
  try {
    quietWindow = parseWindow(e.QUIET_HOURS);
  } catch (error) {
    problem('QUIET_HOURS', (error as Error).message);
  }
  if (!isValidZone(e.QUIET_HOURS_DEFAULT_TIME_ZONE)) {
    problem('QUIET_HOURS_DEFAULT_TIME_ZONE', 'expected an IANA time zone such as America/New_York');
  }
  if (!isLoopbackHost(e.HOST) && !e.ADMIN_API_TOKEN) {
    problem(
      'ADMIN_API_TOKEN',
      `required when HOST (${e.HOST}) is reachable from other machines: it protects /outbox and /sandbox`,
    );
  }
  const channels = channelsConfig(e, problem);
  const payments = paymentsConfig(e, problem);
  if (Boolean(e.INVOICE_SOURCE_URL) !== Boolean(e.INVOICE_SOURCE_QUERY)) {
    problem(
      e.INVOICE_SOURCE_URL ? 'INVOICE_SOURCE_QUERY' : 'INVOICE_SOURCE_URL',
      'INVOICE_SOURCE_URL and INVOICE_SOURCE_QUERY go together',
    );
  }
  const templateFiles = {
    ...(e.INVOICE_EMAIL_HTML_TEMPLATE ? { emailHtml: path.resolve(cwd, e.INVOICE_EMAIL_HTML_TEMPLATE) } : {}),
    ...(e.INVOICE_EMAIL_TEXT_TEMPLATE ? { emailText: path.resolve(cwd, e.INVOICE_EMAIL_TEXT_TEMPLATE) } : {}),
    ...(e.INVOICE_EMAIL_SUBJECT_TEMPLATE
      ? { emailSubject: path.resolve(cwd, e.INVOICE_EMAIL_SUBJECT_TEMPLATE) }
      : {}),
    ...(e.INVOICE_SMS_TEMPLATE ? { sms: path.resolve(cwd, e.INVOICE_SMS_TEMPLATE) } : {}),
  };
  for (const [variable, file] of [
    ['INVOICE_EMAIL_HTML_TEMPLATE', templateFiles.emailHtml],
    ['INVOICE_EMAIL_TEXT_TEMPLATE', templateFiles.emailText],
    ['INVOICE_EMAIL_SUBJECT_TEMPLATE', templateFiles.emailSubject],
    ['INVOICE_SMS_TEMPLATE', templateFiles.sms],
  ] as const) {
    if (file && !existsSync(file)) problem(variable, `no such file: ${file}`);
  }
  const ai = aiConfig(e, problem);
  let dailyWindow: SendingWindow = { startMinute: 12 * 60, endMinute: 17 * 60 };
  try {
    dailyWindow = parseWindow(e.DAILY_WINDOW);
  } catch (error) {
    problem('DAILY_WINDOW', (error as Error).message);
  }
  const credits = creditsConfig(e, cwd, channels, problem, env);
  if (problems.length) throw new ConfigError(problems);

  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
      trustProxy: e.TRUST_PROXY ?? false,
      authFailuresPerMinute: e.AUTH_FAILURE_RATE_LIMIT,
    },
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          poolMax: e.DATABASE_POOL_MAX,
          connectRetryMs: Math.round(e.DATABASE_CONNECT_RETRY_SECONDS * 1000),
        }
      : { kind: 'pglite', dataDir: path.resolve(cwd, e.DATA_DIR) },
    redis: e.REDIS_URL ? { url: e.REDIS_URL } : null,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    shutdownTimeoutMs: Math.round(e.SHUTDOWN_TIMEOUT_SECONDS * 1000),
    jobs: {
      pollIntervalSeconds: e.JOBS_POLL_INTERVAL_SECONDS,
      batchSize: e.JOBS_BATCH_SIZE,
      retryLimit: e.JOBS_RETRY_LIMIT,
      retryDelaySeconds: e.JOBS_RETRY_DELAY_SECONDS,
      retryDelayMaxSeconds: e.JOBS_RETRY_DELAY_MAX_SECONDS,
      expireSeconds: e.JOBS_EXPIRE_SECONDS,
      maintenanceIntervalSeconds: e.JOBS_MAINTENANCE_INTERVAL_SECONDS,
      queues: e.JOBS_QUEUES.split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    },
    channels,
    outbox: {
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      retryBaseMs: Math.round(e.OUTBOX_RETRY_BASE_SECONDS * 1000),
      retryMaxMs: Math.round(e.OUTBOX_RETRY_MAX_SECONDS * 1000),
      batchSize: e.OUTBOX_BATCH_SIZE,
      concurrency: e.OUTBOX_CONCURRENCY,
      // A lease must run out well before pg-boss expires the job holding it, or an expired job's
      // retry would find the row still owned by the attempt pg-boss has just given up on.
      leaseMs: Math.max(1, Math.min(e.OUTBOX_LEASE_SECONDS, Math.floor(e.JOBS_EXPIRE_SECONDS / 2))) * 1000,
      readBackMaxMessages: e.OUTBOX_READBACK_MAX_MESSAGES,
    },
    sms: {
      maxSegments: e.SMS_MAX_SEGMENTS,
      segmentsPerSecond: e.SMS_SEGMENTS_PER_SECOND,
      helpText: e.SMS_HELP_TEXT,
      defaultRegion: e.SMS_DEFAULT_REGION,
      quietHours:
        e.QUIET_HOURS_ENABLED && quietWindow
          ? { window: quietWindow, defaultTimeZone: e.QUIET_HOURS_DEFAULT_TIME_ZONE }
          : null,
    },
    webhooks: {
      publicUrl: e.PUBLIC_URL ?? null,
      inboundPerMinute: e.WEBHOOK_INBOUND_RATE_LIMIT,
      statusPerMinute: e.WEBHOOK_STATUS_RATE_LIMIT,
    },
    adminToken: e.ADMIN_API_TOKEN ?? null,
    invoices: {
      intervalMinutes: e.REVIEW_NOTIFICATION_INTERVAL,
      recipients: e.NOTIFICATION_RECIPIENTS.split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
      source:
        e.INVOICE_SOURCE_URL && e.INVOICE_SOURCE_QUERY
          ? { url: e.INVOICE_SOURCE_URL, query: e.INVOICE_SOURCE_QUERY }
          : null,
      smsMaxSegments: e.INVOICE_SMS_MAX_SEGMENTS,
      templateFiles,
    },
    ai,
    daily: {
      window: dailyWindow,
      contentMode: e.DAILY_CONTENT_MODE,
      repeatHorizonDays: e.DAILY_REPEAT_HORIZON_DAYS,
      maxSegments: e.DAILY_MAX_SEGMENTS,
      quota: e.DAILY_QUOTA,
      planCron: e.DAILY_PLAN_CRON,
      cleanupCron: e.DAILY_CLEANUP_CRON,
      outboxRetentionDays: e.DAILY_OUTBOX_RETENTION_DAYS,
      configPerMinute: e.DAILY_CONFIG_RATE_LIMIT,
      prompt: e.DAILY_PROMPT ?? null,
      helpText: e.DAILY_HELP_TEXT,
    },
    credits,
    payments,
  };
}

const DEFAULT_MODELS = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-5-haiku-latest',
  bedrock: 'us.meta.llama3-2-1b-instruct-v1:0',
} as const;

/**
 * The language model: the provider named by AI_PROVIDER (or inferred from which key is set), with
 * what it needs checked here, so a half-configured provider fails at boot instead of at 3 p.m.
 */
function aiConfig(e: ParsedEnv, problem: (variable: string, message: string) => void): AiConfig {
  const kind = e.AI_PROVIDER ?? (e.OPENAI_API_KEY ? 'openai' : e.ANTHROPIC_API_KEY ? 'anthropic' : 'offline');
  let provider: AiConfig['provider'] = { kind: 'offline' };
  if (kind === 'openai') {
    if (!e.OPENAI_API_KEY) problem('OPENAI_API_KEY', 'required with AI_PROVIDER=openai');
    provider = {
      kind,
      apiKey: e.OPENAI_API_KEY ?? '',
      baseUrl: e.OPENAI_BASE_URL,
      model: e.AI_MODEL ?? DEFAULT_MODELS.openai,
    };
  } else if (kind === 'anthropic') {
    if (!e.ANTHROPIC_API_KEY) problem('ANTHROPIC_API_KEY', 'required with AI_PROVIDER=anthropic');
    provider = {
      kind,
      apiKey: e.ANTHROPIC_API_KEY ?? '',
      baseUrl: e.ANTHROPIC_BASE_URL,
      model: e.AI_MODEL ?? DEFAULT_MODELS.anthropic,
    };
  } else if (kind === 'bedrock') {
    if (!e.AWS_REGION) problem('AWS_REGION', 'required with AI_PROVIDER=bedrock');
    if (Boolean(e.AWS_ACCESS_KEY_ID) !== Boolean(e.AWS_SECRET_ACCESS_KEY))
      problem('AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together');
    provider = {
      kind,
      region: e.AWS_REGION ?? '',
      model: e.AI_MODEL ?? DEFAULT_MODELS.bedrock,
      baseUrl: e.BEDROCK_BASE_URL ?? null,
      credentials:
        e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
          ? {
              accessKeyId: e.AWS_ACCESS_KEY_ID,
              secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
              sessionToken: e.AWS_SESSION_TOKEN ?? null,
            }
          : null,
    };
  } else if (kind === 'openai-compatible') {
    if (!e.AI_BASE_URL) problem('AI_BASE_URL', 'required with AI_PROVIDER=openai-compatible');
    if (!e.AI_MODEL)
      problem('AI_MODEL', 'required with AI_PROVIDER=openai-compatible (the served model name)');
    provider = { kind, baseUrl: e.AI_BASE_URL ?? '', apiKey: e.AI_API_KEY ?? null, model: e.AI_MODEL ?? '' };
  }
  return {
    provider,
    timeoutMs: Math.round(e.AI_TIMEOUT_SECONDS * 1000),
    maxRetries: e.AI_MAX_RETRIES,
    maxOutputTokens: e.AI_MAX_OUTPUT_TOKENS,
    maxTokensPerCall: e.AI_MAX_TOKENS_PER_CALL,
    dailyTokenBudget: e.AI_DAILY_TOKEN_BUDGET,
    costPerMillion: {
      inputCents: e.AI_INPUT_COST_PER_MILLION_TOKENS_CENTS,
      outputCents: e.AI_OUTPUT_COST_PER_MILLION_TOKENS_CENTS,
    },
  };
}

/** The sandbox Looker's host: links to it are requests when no Looker credentials are set. */
export const SANDBOX_LOOKER_HOST = 'looker.sandbox.localhost';
/** The sandbox Slack channel CreditBot watches when no channel is configured (ids are what Slack sends). */
export const SANDBOX_CREDITS_CHANNEL = { id: 'C0CREDITMEMO', name: 'credit_memo_testing' };
export const SANDBOX_CREDITS_OPERATOR = 'U0SANDBOXOP';

function creditsConfig(
  e: ParsedEnv,
  cwd: string,
  channels: ChannelsConfig,
  problem: (variable: string, message: string) => void,
  raw: Record<string, string | undefined>,
): CreditsConfig {
  const list = (value: string) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
  const watched = [
    ...new Set([...list(e.CREDITS_CHANNELS), ...(e.SLACK_TEST_CHANNEL ? [e.SLACK_TEST_CHANNEL] : [])]),
  ];
  if (watched.length === 0 && channels.slack.driver === 'sandbox') watched.push(SANDBOX_CREDITS_CHANNEL.id);

  let looker: CreditsConfig['looker'] = null;
  if (e.LOOKER_CLIENT_ID || e.LOOKER_CLIENT_SECRET) {
    if (!e.LOOKER_CLIENT_ID) problem('LOOKER_CLIENT_ID', 'required with LOOKER_CLIENT_SECRET');
    if (!e.LOOKER_CLIENT_SECRET) problem('LOOKER_CLIENT_SECRET', 'required with LOOKER_CLIENT_ID');
    if (!e.LOOKER_BASE_URL)
      problem('LOOKER_BASE_URL', 'required with Looker credentials, e.g. https://example.cloud.looker.com');
    looker = {
      clientId: e.LOOKER_CLIENT_ID ?? '',
      clientSecret: e.LOOKER_CLIENT_SECRET ?? '',
      baseUrl: e.LOOKER_BASE_URL ?? '',
    };
  }
  const lookerHost =
    e.CREDITS_LOOKER_HOST?.toLowerCase() ??
    (looker && e.LOOKER_BASE_URL ? new URL(e.LOOKER_BASE_URL).host.toLowerCase() : SANDBOX_LOOKER_HOST);

  let runner: CreditsConfig['runner'] = { kind: 'looker' };
  if (e.CREDITS_QUERY_RUNNER === 'trino') {
    if (!e.CREDITS_TRINO_URL) problem('CREDITS_TRINO_URL', 'required when CREDITS_QUERY_RUNNER=trino');
    runner = {
      kind: 'trino',
      url: e.CREDITS_TRINO_URL ?? '',
      user: e.CREDITS_TRINO_USER,
      catalog: e.CREDITS_TRINO_CATALOG,
      schema: e.CREDITS_TRINO_SCHEMA,
    };
  } else if (e.CREDITS_QUERY_RUNNER === 'postgres') {
    if (!e.CREDITS_QUERY_DATABASE_URL)
      problem('CREDITS_QUERY_DATABASE_URL', 'required when CREDITS_QUERY_RUNNER=postgres');
    runner = { kind: 'postgres', url: e.CREDITS_QUERY_DATABASE_URL ?? '' };
  }

  const verifyPatterns: RegExp[] = [];
  for (const pattern of list(e.CREDITS_VERIFY_PATTERNS)) {
    try {
      verifyPatterns.push(new RegExp(pattern, 'i'));
    } catch {
      problem('CREDITS_VERIFY_PATTERNS', `not a regular expression: ${pattern}`);
    }
  }
  if (verifyPatterns.length === 0) problem('CREDITS_VERIFY_PATTERNS', 'at least one pattern');

  const calculator = (
    variable: string,
    kind: 'notebook' | 'builtin' | 'none',
    file: string | undefined,
    fileVariable: string,
  ): CalculatorSetting => {
    if (kind !== 'notebook') return { kind };
    if (!file) {
      problem(fileVariable, `required when ${variable}=notebook`);
      return { kind: 'none' };
    }
    const resolved = path.resolve(cwd, file);
    if (!existsSync(resolved)) problem(fileVariable, `no such file: ${resolved}`);
    return { kind: 'notebook', path: resolved };
  };

  const blockRates: Record<string, number> = {};
  for (const entry of list(e.CREDITS_BLOCK_RATES)) {
    const match = /^([A-Za-z0-9_ -]+)=(0(?:\.\d{1,4})?|1(?:\.0{1,4})?)$/.exec(entry);
    if (!match) {
      problem(
        'CREDITS_BLOCK_RATES',
        `"${entry}" is not mode=rate with a rate from 0 to 1 (up to 4 decimals)`,
      );
      continue;
    }
    const [whole, fraction = ''] = (match[2] as string).split('.');
    blockRates[(match[1] as string).trim().toLowerCase()] =
      Number(whole) * 10000 + Number(fraction.padEnd(4, '0'));
  }

  return {
    channels: watched,
    signingSecret: e.SLACK_SIGNING_SECRET ?? null,
    socketToken: e.SLACK_APP_TOKEN ?? null,
    pollIntervalMinutes: e.CREDITS_POLL_INTERVAL_MINUTES,
    accept: {
      botMessages: e.CREDITS_ACCEPT_BOT_MESSAGES ?? false,
      threadReplies: e.CREDITS_ACCEPT_THREAD_REPLIES ?? false,
      edits: e.CREDITS_ACCEPT_EDITS ?? false,
    },
    // The sandbox has an operator too, so a new user sees the failure DM in GET /sandbox/messages.
    operator: e.SLACK_USER_ID ?? (channels.slack.driver === 'sandbox' ? SANDBOX_CREDITS_OPERATOR : null),
    looker,
    lookerHost,
    runner,
    verifyPatterns,
    calculators: {
      verify: calculator(
        'CREDITS_VERIFY_CALCULATOR',
        e.CREDITS_VERIFY_CALCULATOR ?? (e.NOTEBOOK_PATH ? 'notebook' : 'builtin'),
        e.NOTEBOOK_PATH,
        'NOTEBOOK_PATH',
      ),
      psms: calculator(
        'CREDITS_PSMS_CALCULATOR',
        e.CREDITS_PSMS_CALCULATOR,
        e.CREDITS_PSMS_NOTEBOOK_PATH,
        'CREDITS_PSMS_NOTEBOOK_PATH',
      ),
    },
    notebook: {
      parameter: e.CREDITS_NOTEBOOK_PARAMETER,
      summaryHeading: e.CREDITS_NOTEBOOK_SUMMARY_HEADING,
      timeoutMs: Math.round(e.CREDITS_NOTEBOOK_TIMEOUT_SECONDS * 1000),
      jupyter: e.CREDITS_JUPYTER_COMMAND,
      kernel: e.CREDITS_NOTEBOOK_KERNEL,
      env: kernelEnvironment(raw, list(e.CREDITS_NOTEBOOK_ENV)),
      concurrency: e.CREDITS_NOTEBOOK_CONCURRENCY,
    },
    blockRates,
    replyTemplate: e.CREDITS_REPLY_TEMPLATE,
    keepSql: e.CREDITS_KEEP_SQL ?? false,
    reactions: {
      processing: e.CREDITS_REACTION_PROCESSING,
      done: e.CREDITS_REACTION_DONE,
      failed: e.CREDITS_REACTION_FAILED,
    },
  };
}

function paymentsConfig(e: ParsedEnv, problem: (variable: string, message: string) => void): PaymentsConfig {
  if (!isCurrency(e.PAYMENTS_DEFAULT_CURRENCY))
    problem('PAYMENTS_DEFAULT_CURRENCY', 'expected an ISO 4217 currency code such as USD');
  if (e.PAYMENTS_CARD_MODE === 'embedded' && e.STRIPE_SECRET_KEY && !e.STRIPE_PUBLISHABLE_KEY)
    problem(
      'STRIPE_PUBLISHABLE_KEY',
      'required with PAYMENTS_CARD_MODE=embedded (the Payment Element needs it)',
    );
  const base = new URL(e.STRIPE_API_BASE_URL);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return {
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY ?? null,
      publishableKey: e.STRIPE_PUBLISHABLE_KEY ?? null,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET ?? null,
      api: { protocol, host: base.hostname, port: Number(base.port || (protocol === 'http' ? 80 : 443)) },
      jsUrl: e.STRIPE_JS_URL,
      maxNetworkRetries: e.STRIPE_MAX_NETWORK_RETRIES,
    },
    cardMode: e.PAYMENTS_CARD_MODE,
    defaultCurrency: e.PAYMENTS_DEFAULT_CURRENCY,
    maxRetries: e.PAYMENTS_MAX_RETRIES,
    handoffMessage: e.PAYMENTS_HANDOFF_MESSAGE,
    interpreterTimeoutMs: Math.round(e.PAYMENTS_INTERPRETER_TIMEOUT_SECONDS * 1000),
    apiKeys: e.CHAT_API_KEYS.split(',')
      .map((key) => key.trim())
      .filter(Boolean),
    sessionTtlMs: e.CHAT_SESSION_TTL_MINUTES * 60_000,
    ratePerKeyPerMinute: e.CHAT_RATE_LIMIT_PER_KEY,
    ratePerSessionPerMinute: e.CHAT_RATE_LIMIT_PER_SESSION,
    bodyLimitBytes: e.CHAT_BODY_LIMIT_BYTES,
    messageMaxChars: e.CHAT_MESSAGE_MAX_CHARS,
  };
}

/**
 * Credentials set means the real provider, never the sandbox: a half-configured provider is an
 * error rather than a silent fallback that would swallow real messages.
 */
function channelsConfig(e: ParsedEnv, problem: (variable: string, message: string) => void): ChannelsConfig {
  let sms: ChannelsConfig['sms'] = { driver: 'sandbox', from: e.TWILIO_FROM_NUMBER ?? '+15005550006' };
  if (e.TWILIO_ACCOUNT_SID || e.TWILIO_AUTH_TOKEN) {
    if (!e.TWILIO_ACCOUNT_SID) problem('TWILIO_ACCOUNT_SID', 'required with TWILIO_AUTH_TOKEN');
    if (!e.TWILIO_AUTH_TOKEN) problem('TWILIO_AUTH_TOKEN', 'required with TWILIO_ACCOUNT_SID');
    if (!e.TWILIO_FROM_NUMBER && !e.TWILIO_MESSAGING_SERVICE_SID) {
      problem('TWILIO_FROM_NUMBER', 'set it (or TWILIO_MESSAGING_SERVICE_SID) to send SMS through Twilio');
    }
    sms = {
      driver: 'twilio',
      accountSid: e.TWILIO_ACCOUNT_SID ?? '',
      authToken: e.TWILIO_AUTH_TOKEN ?? '',
      from: e.TWILIO_FROM_NUMBER ?? null,
      messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID ?? null,
      baseUrl: e.TWILIO_API_BASE_URL,
    };
  }

  const from: EmailSender = { email: e.EMAIL_FROM ?? 'switchboard@localhost', name: e.EMAIL_FROM_NAME };
  let email: ChannelsConfig['email'] = { driver: 'sandbox', from };
  if (e.SENDGRID_API_KEY && e.SMTP_URL) problem('SMTP_URL', 'set SENDGRID_API_KEY or SMTP_URL, not both');
  if ((e.SENDGRID_API_KEY || e.SMTP_URL) && !e.EMAIL_FROM)
    problem('EMAIL_FROM', 'required to send real email');
  if (e.SENDGRID_API_KEY) {
    email = {
      driver: 'sendgrid',
      apiKey: e.SENDGRID_API_KEY,
      baseUrl: e.SENDGRID_API_BASE_URL,
      webhookPublicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY ?? null,
      from,
    };
  } else if (e.SMTP_URL) {
    email = { driver: 'smtp', url: e.SMTP_URL, from };
  }

  const slack: ChannelsConfig['slack'] = e.SLACK_BOT_TOKEN
    ? { driver: 'slack', token: e.SLACK_BOT_TOKEN, apiUrl: e.SLACK_API_URL }
    : { driver: 'sandbox' };
  return { providerTimeoutMs: Math.round(e.PROVIDER_TIMEOUT_SECONDS * 1000), sms, email, slack };
}

function describeIssue(issue: z.core.$ZodIssue, received: string | undefined): string {
  // Never echo the value back: it may be a URL with a password in it.
  const got = received === undefined ? '' : ' (the value set is not accepted)';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'number' ? 'a number' : issue.expected}${got}`;
    case 'too_small':
      return `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${issue.minimum}${got}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}${got}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}${got}`;
    default:
      return `expected ${issue.message}${got}`;
  }
}

/** What any program needs to run; nothing of the service's own configuration or secrets. */
export const KERNEL_BASE_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'LC_*',
  'TZ',
  'TMPDIR',
  'PYTHONPATH',
  'VIRTUAL_ENV',
];

/**
 * The notebook kernel's environment: an allowlist (the basics and the names or `PREFIX_*` patterns
 * given), so the kernel never sees DATABASE_URL, LOOKER_CLIENT_SECRET, SLACK_BOT_TOKEN and the rest
 * unless a deploy names them on purpose.
 */
export function kernelEnvironment(
  env: Record<string, string | undefined>,
  allowed: string[],
): Record<string, string> {
  const patterns = [...KERNEL_BASE_ENV, ...allowed];
  const matches = (name: string) =>
    patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && matches(entry[0]),
    ),
  );
}

/**
 * The process environment with a `.env` file underneath it: variables already set in the
 * environment win, so a deploy can override what a checked-out .env says.
 */
export function readEnvironment(
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  const file = path.join(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...env };
}
