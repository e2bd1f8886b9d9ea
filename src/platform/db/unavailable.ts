// Telling "the database is away" (a restart, a failover, a partition, a full pool) from every other
// error, and riding it out: work that has not yet had an effect outside the database can simply be
// tried again once the server answers, instead of failing a job that pg-boss then cannot even
// record as failed while the database is away.
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|connection error|connection ended|the database system is (starting up|shutting down)|terminating connection|Connection refused/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code)) return true;
      // SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown, cannot connect now).
      if (/^08...$/.test(code) || /^57P0[1-3]$/.test(code)) return true;
    }
    if (MESSAGES.test(errorMessage(e))) return true;
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
