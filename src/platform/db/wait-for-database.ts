// A service started while its PostgreSQL server is down (a failover, a restart of both, the usual
// order-of-start race in compose or Kubernetes) waits for it with backoff instead of exiting, up to
// DATABASE_CONNECT_RETRY_SECONDS; every failed try says so in the log.
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Database } from './database.ts';

export async function waitForDatabase(
  db: Pick<Database, 'ping'>,
  options: { limitMs: number; log: Logger; sleep?: (ms: number) => Promise<void> },
): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + options.limitMs;
  let delayMs = 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await db.ping();
      if (attempt > 1) options.log.info({ attempt }, 'database reachable; starting');
      return;
    } catch (error) {
      const left = deadline - Date.now();
      if (left <= 0) throw error;
      const wait = Math.min(delayMs, left);
      options.log.warn(
        { attempt, retryInMs: wait, reason: errorMessage(error) },
        'database unreachable; retrying (DATABASE_CONNECT_RETRY_SECONDS bounds the wait)',
      );
      await sleep(wait);
      delayMs = Math.min(delayMs * 2, 15_000);
    }
  }
}
