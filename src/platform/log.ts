// pino JSON lines to stdout, pretty in a terminal. Secrets are removed twice: by key (headers,
// tokens, passwords) through pino's path redaction, and by shape (card-like numbers) in any string
// a log line carries, because a card number can arrive inside a free-text chat message.
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import type { Config } from '../config.ts';
import { redactCardNumbers } from './redact.ts';

export type { Logger };

const SECRET_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'apiKey',
  'api_key',
  'accessToken',
  'refreshToken',
  'clientSecret',
  'client_secret',
  'authorization',
  'cookie',
  'connectionString',
  'databaseUrl',
  'cvv',
  'cvc',
  'cardNumber',
];

/** pino redaction paths: the keys at the top level, one and two levels down, and in request headers. */
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-twilio-signature"]',
  'req.headers["x-slack-signature"]',
  'req.headers["stripe-signature"]',
  'res.headers["set-cookie"]',
];

const MAX_DEPTH = 6;

/** Deep copy of a log object with every string scrubbed of card numbers and URL credentials. */
export function scrubLogValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => scrubLogValue(item, depth + 1));
  if (value instanceof Error) {
    const copy: Record<string, unknown> = { type: value.name, message: scrubText(value.message) };
    if (value.stack) copy.stack = scrubText(value.stack);
    for (const [key, inner] of Object.entries(value)) copy[key] = scrubLogValue(inner, depth + 1);
    return copy;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) copy[key] = scrubLogValue(inner, depth + 1);
  return copy;
}

/** Card numbers and the password part of URLs (postgres://user:pw@host) never reach a log line. */
export function scrubText(text: string): string {
  return redactCardNumbers(text).replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s/]+@/gi, '$1[REDACTED]@');
}

export function loggerOptions(config: Pick<Config, 'log'>): LoggerOptions {
  const pretty =
    config.log.format === 'pretty' || (config.log.format === 'auto' && process.stdout.isTTY === true);
  return {
    level: config.log.level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    formatters: { log: (object) => scrubLogValue(object) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as typeof args;
        method.apply(this, scrubbed);
      },
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  };
}

export function createLogger(config: Pick<Config, 'log'>, destination?: DestinationStream): Logger {
  const options = loggerOptions(config);
  if (destination) {
    const { transport: _ignored, ...rest } = options;
    return pino(rest, destination);
  }
  return pino(options);
}
