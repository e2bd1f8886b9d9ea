// The @fastify/rate-limit store: Redis when configured (limits shared by every replica), and this
// process's memory whenever Redis is down or not connected. A Redis outage must not fail requests
// (the plugin answers a store error with a 500): it degrades the limits to per-replica ones, logs a
// warning (at most every WARN_EVERY_MS), counts `rate_limit_store_fallbacks_total`, and shows in
// /health/ready. The in-memory counts start from zero, so a client gets at most one extra window's
// worth per replica during an outage.
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log.ts';

type Result = { current: number; ttl: number };
type Callback = (error: Error | null, result: Result | null) => void;

interface Store {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  read?(key: string, callback: Callback, timeWindow: number, max: number): void;
  child(routeOptions: RouteOptions): Store;
}

interface RouteOptions {
  continueExceeding?: boolean;
  exponentialBackoff?: boolean;
  routeInfo: { method: string; url: string };
}

// The plugin's own two stores (CommonJS, untyped): the same counting, in Redis or in an LRU.
// (`requireCommonJs`: the name scripts/bundle.mjs bundles, as in platform/db/drizzle.ts.)
const requireCommonJs = createRequire(import.meta.url);
const RedisStore: new (
  continueExceeding: boolean | undefined,
  exponentialBackoff: boolean | undefined,
  redis: Redis,
  key: string,
) => Store = requireCommonJs('@fastify/rate-limit/store/RedisStore.js');
const LocalStore: new (
  continueExceeding: boolean | undefined,
  exponentialBackoff: boolean | undefined,
) => Store = requireCommonJs('@fastify/rate-limit/store/LocalStore.js');

const WARN_EVERY_MS = 30_000;
const METRIC = 'rate_limit_store_fallbacks_total';

export interface FallbackStoreOptions {
  redis: Redis;
  log: Logger;
  registry: Registry;
  nameSpace: string;
}

function fallbackCounter(registry: Registry): Counter<'reason'> {
  const existing = registry.getSingleMetric(METRIC) as Counter<'reason'> | undefined;
  return (
    existing ??
    new Counter({
      name: METRIC,
      help: 'Rate-limit decisions taken in memory because Redis was down (reason: not_connected, error).',
      labelNames: ['reason'],
      registers: [registry],
    })
  );
}

/** A store class for the plugin's `store` option (it calls `new Store(globalParams)`). */
export function fallbackStoreClass(options: FallbackStoreOptions) {
  const counter = fallbackCounter(options.registry);
  let lastWarning = 0;
  const degraded = (reason: 'not_connected' | 'error', error?: Error) => {
    counter.inc({ reason });
    if (Date.now() - lastWarning < WARN_EVERY_MS) return;
    lastWarning = Date.now();
    options.log.warn(
      { reason, ...(error ? { err: error } : {}) },
      'Redis is unavailable: rate limits are counted in this process only until it is back',
    );
  };

  class FallbackStore implements Store {
    private readonly redisStore: Store;
    private readonly localStore: Store;
    constructor(
      params: { continueExceeding?: boolean; exponentialBackoff?: boolean },
      stores?: [Store, Store],
    ) {
      this.redisStore =
        stores?.[0] ??
        new RedisStore(params.continueExceeding, params.exponentialBackoff, options.redis, options.nameSpace);
      this.localStore = stores?.[1] ?? new LocalStore(params.continueExceeding, params.exponentialBackoff);
    }

    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      this.run('incr', key, callback, timeWindow, max);
    }

    read(key: string, callback: Callback, timeWindow: number, max: number): void {
      this.run('read', key, callback, timeWindow, max);
    }

    child(routeOptions: RouteOptions): Store {
      return new FallbackStore({}, [
        this.redisStore.child(routeOptions),
        this.localStore.child(routeOptions),
      ]);
    }

    private run(method: 'incr' | 'read', key: string, callback: Callback, timeWindow: number, max: number) {
      const local = () => {
        const store = this.localStore;
        if (method === 'read' && store.read) store.read(key, callback, timeWindow, max);
        else store.incr(key, callback, timeWindow, max);
      };
      // Not connected: go straight to memory rather than wait for a command that cannot be sent.
      if (options.redis.status !== 'ready') {
        degraded('not_connected');
        return local();
      }
      const remote =
        this.redisStore[method]?.bind(this.redisStore) ?? this.redisStore.incr.bind(this.redisStore);
      remote(
        key,
        (error, result) => {
          if (!error && result) return callback(null, result);
          degraded('error', error ?? undefined);
          local();
        },
        timeWindow,
        max,
      );
    }
  }
  return FallbackStore;
}
