// Failed credentials are limited per source address, not per credential: a limiter keyed on the
// (unverified) Authorization value gives every guessed key a fresh budget, so guessing was never
// limited. After AUTH_FAILURE_RATE_LIMIT failures in a minute an address gets 429 with Retry-After
// on every credentialed route until the minute is over, right credentials or not. Counted in Redis
// when configured (shared by replicas), in memory otherwise, and in memory while Redis is down.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from '../rate-limiters.ts';

export interface CredentialFailures {
  /** Runs `verify`; counts a 401 it throws against the caller's address; refuses a blocked address. */
  guard<T>(request: FastifyRequest, verify: () => Promise<T>): Promise<T>;
}

declare module 'fastify' {
  interface FastifyInstance {
    credentialFailures: CredentialFailures;
  }
}

const WINDOW_SECONDS = 60;

export function createCredentialFailures(options: {
  perMinute: number;
  redis: Redis | null;
}): CredentialFailures {
  const common = { points: options.perMinute, duration: WINDOW_SECONDS, keyPrefix: 'auth-failures' };
  const memory = new RateLimiterMemory(common);
  const limiter: RateLimiterAbstract = options.redis
    ? new RateLimiterRedis({ ...common, storeClient: options.redis, insuranceLimiter: memory })
    : memory;
  return {
    async guard(request, verify) {
      const key = request.ip;
      const seen = await limiter.get(key).catch(() => null);
      if (seen && seen.consumedPoints >= options.perMinute) {
        throw new AppError('rate_limited', 'Too many failed credentials from this address; retry later', {
          retryAfterSeconds: Math.ceil(seen.msBeforeNext / 1000),
        });
      }
      try {
        return await verify();
      } catch (error) {
        if (error instanceof AppError && error.code === 'unauthorized')
          await limiter.penalty(key, 1).catch(() => undefined);
        throw error;
      }
    },
  };
}

/** Makes the limiter reachable from guards as `request.server.credentialFailures`. */
export function installCredentialFailures(app: FastifyInstance, failures: CredentialFailures): void {
  app.decorate('credentialFailures', failures);
}

/** The app's limiter, or a pass-through where the app has none (a Fastify instance built elsewhere). */
export function credentialGuard<T>(request: FastifyRequest, verify: () => Promise<T>): Promise<T> {
  const failures = request.server.credentialFailures as CredentialFailures | undefined;
  return failures ? failures.guard(request, verify) : verify();
}
