// The rate limiters Switchboard uses (memory, PostgreSQL, Redis), each loaded from its own file.
// rate-limiter-flexible's index requires every limiter it ships (Mongo, MySQL, DynamoDB, etcd,
// Prisma, Valkey, SQLite...) in every process, the worker too, which paces SMS with these. Run from
// the sources, requiring the index took 33-37 ms against 8-10 ms for these four; from the bundle,
// with its compile cache, a worker's start saves about 7 ms of main-thread CPU (2026-12-02, median
// of 10 interleaved starts). Types are the package's own (rate-limiter-files.d.ts).
import RateLimiterMemory from 'rate-limiter-flexible/lib/RateLimiterMemory.js';
import RateLimiterPostgres from 'rate-limiter-flexible/lib/RateLimiterPostgres.js';
import RateLimiterRedis from 'rate-limiter-flexible/lib/RateLimiterRedis.js';
import RateLimiterRes from 'rate-limiter-flexible/lib/RateLimiterRes.js';

export type { RateLimiterAbstract } from 'rate-limiter-flexible';
export { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes };
