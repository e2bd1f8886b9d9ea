// Pacing: at most N SMS segments per second per sender number, across every worker process. A long
// code is allowed about one segment a second by carriers; sending faster gets messages filtered.
// The counter lives where all workers can see it: Redis when configured, else the PostgreSQL
// server, else (PGlite: one process by construction) memory.
import type { Redis } from 'ioredis';
import type { Database } from '../db/database.ts';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
} from '../rate-limiters.ts';

export interface SendPacer {
  readonly store: 'redis' | 'postgres' | 'memory';
  /** Resolves once `units` may be sent from `sender`; waits as long as the budget requires. */
  take(sender: string, units: number, signal?: AbortSignal): Promise<void>;
}

export function createPacer(options: { perSecond: number; db: Database; redis: Redis | null }): SendPacer {
  const common = { points: Math.max(1, Math.floor(options.perSecond)), duration: 1, keyPrefix: 'sms-pace' };
  // Fractional rates (0.5/s: one segment every two seconds) become whole points over a longer window.
  if (options.perSecond < 1) Object.assign(common, { points: 1, duration: Math.ceil(1 / options.perSecond) });
  let limiter: RateLimiterAbstract;
  let store: SendPacer['store'];
  if (options.redis) {
    limiter = new RateLimiterRedis({ ...common, storeClient: options.redis });
    store = 'redis';
  } else if (options.db.pool) {
    limiter = new RateLimiterPostgres({
      ...common,
      storeClient: options.db.pool,
      tableName: 'rate_limits',
      tableCreated: true,
    });
    store = 'postgres';
  } else {
    limiter = new RateLimiterMemory(common);
    store = 'memory';
  }
  // The sends of one worker batch ask at the same moment: their segments are paid for together,
  // one counter update per budget-sized chunk (one for the whole batch at high rates) rather than
  // one round trip to Redis or PostgreSQL per message; each message goes once its share is paid.
  // A request whose signal aborts while it waits (its job expired, the worker is stopping) leaves
  // the queue at once and is no longer paid for.
  interface Request {
    units: number;
    settled: boolean;
    resolve: () => void;
    reject: (error: unknown) => void;
  }
  const waiting = new Map<string, Request[]>();
  const flush = async (sender: string) => {
    const batch = waiting.get(sender) ?? [];
    waiting.delete(sender);
    let credit = 0;
    let next = 0;
    const pending = () => batch.filter((r, index) => index >= next && !r.settled);
    try {
      for (;;) {
        while (next < batch.length) {
          const request = batch[next] as Request;
          const need = Math.max(1, request.units);
          if (request.settled) next++;
          else if (credit >= need) {
            credit -= need;
            next++;
            request.settled = true;
            request.resolve();
          } else break;
        }
        const owed = pending().reduce((sum, r) => sum + Math.max(1, r.units), 0) - credit;
        if (owed <= 0) return;
        // A message longer than the per-window budget is paid for over several windows.
        const chunk = Math.min(owed, common.points);
        try {
          await limiter.consume(sender, chunk);
          credit += chunk;
        } catch (rejection) {
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          await sleep(Math.max(rejection.msBeforeNext, 5));
        }
      }
    } catch (error) {
      for (const request of pending()) {
        request.settled = true;
        request.reject(error);
      }
    }
  };
  return {
    store,
    take(sender, units, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const request: Request = { units, settled: false, resolve, reject };
        const onAbort = () => {
          if (request.settled) return;
          request.settled = true;
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        request.resolve = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        request.reject = (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        };
        const queue = waiting.get(sender);
        if (queue) queue.push(request);
        else {
          waiting.set(sender, [request]);
          setImmediate(() => void flush(sender));
        }
      });
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
