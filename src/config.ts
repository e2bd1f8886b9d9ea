// Every environment variable Switchboard reads is declared here, once, with its default and the
// reason it exists. Nothing else reads process.env: callers get a typed, validated Config.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';

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
  REDIS_URL: optional(redisUrl).describe('optional Redis, checked by /health/ready when set'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z
    .enum(['auto', 'json', 'pretty'])
    .default('auto')
    .describe('auto: pretty in a terminal, JSON otherwise'),
  HTTP_BODY_LIMIT_BYTES: positiveInt.max(50 * 1024 * 1024).default(1024 * 1024),
  TRUST_PROXY: optional(flag).describe('trust X-Forwarded-* headers from a reverse proxy'),
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
});

export type Env = z.input<typeof envSchema>;
export type ParsedEnv = z.output<typeof envSchema>;

export interface Config {
  http: { port: number; host: string; bodyLimitBytes: number; trustProxy: boolean };
  database: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string; poolMax: number };
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
  };
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
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
      trustProxy: e.TRUST_PROXY ?? false,
    },
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX }
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
    },
  };
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
