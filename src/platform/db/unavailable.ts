// Telling "the database is away" (a restart, a failover, a partition, a full pool) from every other
// error, and riding it out: work that has not yet had an effect outside the database can simply be
// tried again once the server answers, instead of failing a job that pg-boss then cannot even
// record as failed while the database is away.
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';

/** Node's socket and DNS failures: the other end is down or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** SQLSTATE classes and codes meaning the database cannot serve now (not that the query is wrong). */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4])/;

/** Messages of component clients that carry no code (ioredis while offline, pg-pool, PGlite). */
const COMPONENT_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'PGlite is closed',
  'Client has encountered a connection error',
  'the database system is starting up',
  'the database system is shutting down',
];

/** One error (not its causes): a component (PostgreSQL, Redis) that cannot answer now. */
export function isUnavailableComponentError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_SQLSTATE.test(code) && code.length === 5) return true;
    if (NETWORK_CODES.has(code)) return true;
  }
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return COMPONENT_MESSAGES.some((message) => error.message.includes(message));
}

/** Whether `error`, or an error it wraps, says the database (or another component) is away. */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (isUnavailableComponentError(current)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Runs `work`, and again with backoff (0.25 s doubling to 5 s) for as long as it fails because the
 * database is unavailable, until `signal` aborts or `limitMs` passes; other errors pass through.
 */
export async function retryWhileDatabaseUnavailable<T>(
  work: () => Promise<T>,
  options: { what: string; log: Pick<Logger, 'warn'>; signal?: AbortSignal; limitMs?: number },
): Promise<T> {
  const deadline = Date.now() + (options.limitMs ?? 10 * 60_000);
  let delayMs = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || options.signal?.aborted || Date.now() + delayMs > deadline)
        throw error;
      if (attempt === 1 || attempt % 10 === 0)
        options.log.warn(
          { attempt, reason: errorMessage(error) },
          `database unavailable; retrying ${options.what}`,
        );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
}
