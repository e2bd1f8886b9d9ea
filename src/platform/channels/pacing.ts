// Pacing: at most N SMS segments per second per sender number, across every worker process. A long
// code is allowed about one segment a second by carriers; sending faster gets messages filtered.
// The counter lives where all workers can see it: Redis when configured, else the PostgreSQL
// server, else (PGlite: one process by construction) memory.
import type { Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Database } from '../db/database.ts';

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
  const waiting = new Map<
    string,
    Array<{ units: number; resolve: () => void; reject: (error: unknown) => void }>
  >();
  const flush = async (sender: string) => {
    const batch = waiting.get(sender) ?? [];
    waiting.delete(sender);
    let owed = 0;
    const dues = batch.map((request) => {
      owed += Math.max(1, request.units);
      return owed;
    });
    let paid = 0;
    let released = 0;
    try {
      while (paid < owed) {
        // A message longer than the per-window budget is paid for over several windows.
        const chunk = Math.min(owed - paid, common.points);
        try {
          await limiter.consume(sender, chunk);
          paid += chunk;
        } catch (rejection) {
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          await sleep(Math.max(rejection.msBeforeNext, 5));
        }
        while (released < batch.length && (dues[released] as number) <= paid) batch[released++]?.resolve();
      }
    } catch (error) {
      for (const request of batch.slice(released)) request.reject(error);
    }
  };
  return {
    store,
    take(sender, units, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const queue = waiting.get(sender);
        if (queue) queue.push({ units, resolve, reject });
        else {
          waiting.set(sender, [{ units, resolve, reject }]);
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
