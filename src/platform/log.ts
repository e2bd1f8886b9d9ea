// pino JSON lines to stdout, pretty in a terminal. Secrets are removed twice: by key (headers,
// tokens, passwords) where REDACT_PATHS put them (log-censor.ts), and by value in any string a log line carries
// (scrubText: card numbers in any shape, configured secrets, URL passwords), because a card number
// can arrive inside a free-text chat message or a URL, and a provider can quote our key back. The
// scrubbing covers the merged object, the message, the child bindings (a request id) and what the
// serializers make of Fastify's request and reply (the URL of "incoming request").
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import type { Config } from '../config.ts';
import { censorLine, censorValue } from './log-censor.ts';
import { scrubText } from './redact.ts';

export type { Logger };
export { scrubText };

export const SECRET_KEYS = [
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

/**
 * What is censored by key, written as pino redaction paths: the keys at the top level, one and two
 * levels down, and in request headers. log-censor.ts does it (pino's own redactor cost too much),
 * and the tests hold it to what pino's `redact` makes of these paths.
 */
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

const SECRETS: ReadonlySet<string> = new Set(SECRET_KEYS);

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

/** Headers worth a log line; the rest (cookies, signatures, tokens) are left out, not just masked. */
const LOGGED_HEADERS = ['user-agent', 'content-type', 'content-length', 'x-request-id', 'referer'];

interface RequestLike {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remotePort?: number };
}

/** Fastify's request, as "incoming request" lines show it, with its URL and headers scrubbed. */
function requestSerializer(request: RequestLike): unknown {
  // A plain object logged under `req` by our own code is scrubbed as it is.
  if (!request || typeof request !== 'object' || !('raw' in request)) return scrubLogValue(request);
  const headers: Record<string, unknown> = {};
  for (const name of LOGGED_HEADERS) {
    const value = request.headers?.[name];
    if (value !== undefined) headers[name] = value;
  }
  return scrubLogValue({
    method: request.method,
    url: request.url,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
    headers,
  }) as Record<string, unknown>;
}

// pino runs serializers after the log formatter, so what they make is censored here as well.
const serializers = {
  req: (request: RequestLike) => censorValue('req', requestSerializer(request), SECRETS),
  res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
  // The log formatter has usually made the error a scrubbed plain copy already; keep its type then.
  err: (error: unknown) =>
    censorValue(
      'err',
      scrubLogValue(error instanceof Error ? pino.stdSerializers.err(error) : error),
      SECRETS,
    ),
  // Child loggers' bindings skip the log formatter; Fastify binds the request id under this key.
  reqId: (id: unknown) => (typeof id === 'string' ? scrubText(id) : id),
};

/**
 * Fields added to every log line, set once by a module that has them (tracing: the active span's
 * trace_id and span_id, so a line can be found from its trace and back). Nothing until then.
 */
let lineContext: (() => Record<string, string>) | null = null;
export const setLogLineContext = (fields: () => Record<string, string>) => {
  lineContext = fields;
};

/**
 * A line with card numbers and URL credentials scrubbed and secrets censored. The active span's
 * trace_id and span_id (the mixin's) are kept as the tracer wrote them: random hex, in which a run of
 * digits can pass for a card number (span "57104347226476e5" was masked, and its line could no longer
 * be found from its trace). An id a caller logged that is not the active span's is scrubbed as usual.
 */
function cleanLine(object: Record<string, unknown>): Record<string, unknown> {
  const clean = (line: Record<string, unknown>) =>
    censorLine(scrubLogValue(line) as Record<string, unknown>, SECRETS);
  const ids = lineContext?.();
  if (!ids?.trace_id || object.trace_id !== ids.trace_id || object.span_id !== ids.span_id)
    return clean(object);
  const { trace_id, span_id, ...rest } = object;
  return { ...clean(rest), trace_id, span_id };
}

export function loggerOptions(config: Pick<Config, 'log'>): LoggerOptions {
  const pretty =
    config.log.format === 'pretty' || (config.log.format === 'auto' && process.stdout.isTTY === true);
  return {
    level: config.log.level,
    serializers,
    mixin: () => lineContext?.() ?? {},
    formatters: { log: cleanLine },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as typeof args;
        // log.error(err) alone: pino would take err.message as the message, unscrubbed.
        const [first, second] = scrubbed;
        if (first instanceof Error && typeof second !== 'string')
          scrubbed.splice(1, 0, scrubText(first.message) as never);
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
    return censoringChildBindings(pino(rest, destination));
  }
  return censoringChildBindings(pino(options));
}

/**
 * pino runs no formatter over a child logger's bindings (Fastify's request id, a job's fields), so
 * they are censored on the way in. Children inherit `child` from their parent, so one wrapper on the
 * root covers every generation.
 */
function censoringChildBindings(logger: Logger): Logger {
  const child = logger.child;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, options?: object) {
    return child.call(this, censorLine(bindings, SECRETS), options);
  } as Logger['child'];
  return logger;
}
