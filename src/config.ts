// The platform's environment variables are declared here, once, with their defaults and the reason
// they exist; each app declares its own in src/apps/<name>/config.ts. The loader validates all of
// them together, once. Nothing else reads process.env: callers get a typed, validated Config.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import type { CreditsConfig } from './apps/credits/config.ts';
import type { DailyConfig } from './apps/daily/config.ts';
import { APP_NAMES, type AppName, appConfigs, isAppName } from './apps/index.ts';
import type { InvoicesConfig } from './apps/invoices/config.ts';
import type { PaymentsConfig } from './apps/payments/config.ts';
import { isValidZone, parseWindow, type SendingWindow } from './platform/channels/sms/quiet-hours.ts';
import {
  commaList,
  flag,
  httpUrl,
  optional,
  type Problem,
  port,
  positiveInt,
  postgresUrl,
  redisUrl,
  type SettingsContext,
  seconds,
} from './platform/config/env-schema.ts';
import { resolveSecretFiles } from './platform/config/secret-files.ts';
import { isLoopbackHost, type TrustProxy, trustProxySchema } from './platform/http/addresses.ts';

/** The platform's own variables; each app's live in src/apps/<name>/config.ts. */
export const platformEnvSchema = z.object({
  SWITCHBOARD_APPS: z
    .string()
    .default('')
    .describe('the bots this process runs, comma-separated (empty: all of them)'),
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
  // Read by the platform only to decide whether to load the OpenTelemetry SDK; the SDK reads them
  // (and every other OTEL_* variable) itself. See the README's "Tracing".
  OTEL_EXPORTER_OTLP_ENDPOINT: optional(httpUrl).describe(
    'an OpenTelemetry collector (OTLP base URL); set, traces are exported there',
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(httpUrl).describe(
    'the full OTLP traces URL (.../v1/traces), instead of or overriding the base URL',
  ),
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
  CONSOLE_SESSION_HOURS: seconds
    .max(24 * 30)
    .default(12)
    .describe('how long an operator console login lasts'),
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
    'bearer token for the operator API (/outbox, /sandbox, ...) and the console login',
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
  OUTBOX_READBACK_GIVE_UP_AFTER_MINUTES: positiveInt
    .max(10_080)
    .default(60)
    .describe(
      'how long after its earliest unconfirmed attempt a message whose read-back cannot decide is failed as delivery unknown',
    ),

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

  // --- Language models (platform/ai) ---
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
});

/** Every variable Switchboard reads: the platform's and every app's, validated together once. */
export const envSchema = platformEnvSchema.extend({
  ...appConfigs.invoices.schema.shape,
  ...appConfigs.daily.schema.shape,
  ...appConfigs.credits.schema.shape,
  ...appConfigs.payments.schema.shape,
});

export type Env = z.input<typeof envSchema>;
export type ParsedEnv = z.output<typeof envSchema>;
type PlatformEnv = z.output<typeof platformEnvSchema>;

/** Each app's typed settings, under its name. */
export interface AppsConfig {
  invoices: InvoicesConfig;
  daily: DailyConfig;
  credits: CreditsConfig;
  payments: PaymentsConfig;
}

/** The whole configuration: the platform's settings and every app's (see loadConfig on which apply). */
export type Config = PlatformConfig & AppsConfig;

/** The platform's settings: what every process needs whichever bots it runs. */
export interface PlatformConfig {
  /** The bots this process runs (SWITCHBOARD_APPS), in the order they start. */
  apps: AppName[];
  http: {
    port: number;
    host: string;
    bodyLimitBytes: number;
    trustProxy: TrustProxy;
    authFailuresPerMinute: number;
    /** How long a console login lasts. */
    consoleSessionMs: number;
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
    /**
     * How long after a message's earliest unconfirmed attempt a read-back may keep failing before the
     * message is failed as "delivery unknown" (never resent: it may have reached the person).
     */
    readBackGiveUpMs: number;
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
  ai: AiConfig;
  tracing: TracingConfig;
}

/** OpenTelemetry traces (platform/tracing): on when an OTLP endpoint is set. */
export interface TracingConfig {
  enabled: boolean;
  /** Where spans go (the traces URL, or the base URL the SDK appends /v1/traces to); null when off. */
  endpoint: string | null;
  /** Every OTEL_* variable given (environment or .env file), for the SDK, which reads them itself. */
  variables: Record<string, string>;
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
  // Every app's variables are checked whether or not this process runs it, so a typo never hides
  // until the day that bot is switched on; only a running app's cross-checks apply (below).
  // jitless: zod would compile a fast path for this object on its first parse, which pays only for
  // a schema parsed many times; the environment is parsed once per process.
  const result = envSchema.safeParse(env, { jitless: true });
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
  const platform = platformSettings(e, cwd, problem, env);
  const running = new Set<string>(platform.apps);
  const context = (app: AppName): SettingsContext => ({
    cwd,
    platform,
    raw: env,
    // Required-when rules and file checks are about running the app: a process that does not run
    // CreditBot need not have its notebook on disk.
    problem: running.has(app) ? problem : () => {},
  });
  const apps: AppsConfig = {
    invoices: appConfigs.invoices.settings(e, context('invoices')),
    daily: appConfigs.daily.settings(e, context('daily')),
    credits: appConfigs.credits.settings(e, context('credits')),
    payments: appConfigs.payments.settings(e, context('payments')),
  };
  if (problems.length) throw new ConfigError(problems);
  return { ...platform, ...apps };
}

function platformSettings(
  e: PlatformEnv,
  cwd: string,
  problem: Problem,
  raw: Record<string, string | undefined>,
): PlatformConfig {
  const apps: AppName[] = [];
  const named = commaList(e.SWITCHBOARD_APPS);
  for (const name of named) {
    if (!isAppName(name))
      problem('SWITCHBOARD_APPS', `no bot named "${name}" (expected ${APP_NAMES.join(', ')})`);
  }
  // In the registry's order (the order they start), whatever order they were listed in.
  for (const name of APP_NAMES) if (named.length === 0 || named.includes(name)) apps.push(name);

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
  const ai = aiConfig(e, problem);

  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
      trustProxy: e.TRUST_PROXY ?? false,
      authFailuresPerMinute: e.AUTH_FAILURE_RATE_LIMIT,
      consoleSessionMs: Math.round(e.CONSOLE_SESSION_HOURS * 3600_000),
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
      readBackGiveUpMs: e.OUTBOX_READBACK_GIVE_UP_AFTER_MINUTES * 60_000,
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
    ai,
    tracing: tracingConfig(e, raw),
    apps,
  };
}

function tracingConfig(e: PlatformEnv, raw: Record<string, string | undefined>): TracingConfig {
  const variables = Object.fromEntries(
    Object.entries(raw).filter(
      (entry): entry is [string, string] => entry[0].startsWith('OTEL_') && !!entry[1],
    ),
  );
  const endpoint = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT ?? null;
  const disabled = variables.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  return { enabled: endpoint !== null && !disabled, endpoint: disabled ? null : endpoint, variables };
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
function aiConfig(e: PlatformEnv, problem: Problem): AiConfig {
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

/**
 * Credentials set means the real provider, never the sandbox: a half-configured provider is an
 * error rather than a silent fallback that would swallow real messages.
 */
function channelsConfig(e: PlatformEnv, problem: Problem): ChannelsConfig {
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
