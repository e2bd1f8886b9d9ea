// Boot order: config -> database (+ migrations) -> jobs -> HTTP -> apps, and the reverse on the
// way down. `startService` is what the CLI runs and what end-to-end tests start in-process.
import type { LanguageModel } from 'ai';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { loadApps } from './apps/index.ts';
import type { Config } from './config.ts';
import { createLanguageModels } from './platform/ai/client.ts';
import type { AppContext, AppModule } from './platform/app-module.ts';
import { type Channels, createChannels } from './platform/channels/channels.ts';
import { type OutboxJobs, outboxJobDefinitions } from './platform/channels/outbox/jobs.ts';
import type { Drivers } from './platform/channels/types.ts';
import { fixDateLocale } from './platform/date-locale.ts';
import { type Database, openDatabase } from './platform/db/database.ts';
import { runMigrations } from './platform/db/migrate.ts';
import { waitForDatabase } from './platform/db/wait-for-database.ts';
import type { ComponentCheck } from './platform/health.ts';
import { adminGuard } from './platform/http/admin-auth.ts';
import type { OpsDependencies, ServiceInfo } from './platform/http/ops-routes.ts';
import { createOpsServer } from './platform/http/ops-server.ts';
import { JobSystem } from './platform/jobs/job-system.ts';
import type { JobDefinitions } from './platform/jobs/registry.ts';
import type { Logger } from './platform/log.ts';
import { createMetrics, type Metrics } from './platform/metrics.ts';
import { registerConfigSecrets } from './platform/secrets.ts';
import { SERVICE_NAME, SERVICE_VERSION } from './platform/version.ts';

/** `start`: API and workers; `http`: API only; `worker`: workers, with only health and metrics served. */
export type ServiceMode = 'start' | 'http' | 'worker';

export interface ServiceOptions<M extends ServiceMode = ServiceMode> {
  config: Config;
  log: Logger;
  mode: M;
  /** The apps to run; defaults to the ones config.apps names (SWITCHBOARD_APPS). */
  apps?: AppModule[];
  /** Listen on config.http.port (false in tests that use inject()). */
  listen?: boolean;
  metrics?: Metrics;
  /** Channel drivers to use instead of the configured ones (tests). */
  drivers?: Partial<Drivers>;
  /** A language model to use instead of the configured one (tests: the AI SDK's mock model). */
  languageModel?: LanguageModel | null;
}

export interface Service<M extends ServiceMode = ServiceMode> {
  /** The API, for inject() in tests; a worker serves health and metrics without it (ops-server.ts). */
  readonly app: M extends 'worker' ? null : FastifyInstance;
  readonly db: Database;
  readonly jobs: JobSystem<JobDefinitions>;
  readonly metrics: Metrics;
  readonly channels: Channels;
  /** Base URL when listening. */
  readonly url: string | null;
  /** Graceful: stop taking requests, let running jobs finish (bounded), close the database. */
  stop(): Promise<void>;
}

export async function startService<M extends ServiceMode>(options: ServiceOptions<M>): Promise<Service<M>> {
  const { config, log, mode } = options;
  // Before anything can fail with a provider's error text: the scrubber knows every configured secret.
  registerConfigSecrets(config);
  fixDateLocale();
  // The bots' modules load while the database opens and migrates: the one is mostly compiling,
  // the other mostly waiting on the server. Awaited below; the catch only keeps a failure that
  // comes before then from counting as unhandled.
  const appsLoading = options.apps ? Promise.resolve(options.apps) : loadApps(config.apps);
  appsLoading.catch(() => {});
  const metrics = options.metrics ?? createMetrics();
  const startedAt = Date.now();
  const cleanup: Array<() => Promise<void>> = [];
  const unwind = async () => {
    for (const step of cleanup.reverse())
      await step().catch((error) => log.error({ err: error }, 'shutdown step failed'));
  };

  try {
    const db = await openDatabase(config.database, { log, command: mode });
    cleanup.push(() => db.close());
    if (config.database.kind === 'postgres')
      await waitForDatabase(db, { limitMs: config.database.connectRetryMs, log });
    const migrations = await runMigrations(db);
    log.info({ ...migrations, database: db.kind }, 'database migrations applied');
    const apps = await appsLoading;

    const redis = config.redis ? await connectRedis(config.redis.url, log) : null;
    if (redis) cleanup.push(async () => void (await redis.quit().catch(() => redis.disconnect())));

    const definitions: JobDefinitions = Object.assign(
      outboxJobDefinitions(config),
      ...apps.map((a) => a.jobs ?? {}),
    );
    const jobs = new JobSystem({
      db,
      config: config.jobs,
      definitions,
      log,
      metrics,
      workers: mode !== 'http',
      queues: config.jobs.queues,
    });
    const channels = await createChannels({
      config,
      db,
      // The merged registry holds the outbox's queues, so this view of it is exact.
      jobs: jobs as unknown as JobSystem<OutboxJobs>,
      log,
      metrics,
      redis,
      ...(options.drivers ? { drivers: options.drivers } : {}),
    });
    const ai = createLanguageModels({
      config: config.ai,
      db,
      metrics,
      log,
      ...(options.languageModel !== undefined ? { model: options.languageModel } : {}),
    });
    const context: AppContext = { config, db, jobs, channels, log, metrics, ai };
    for (const app of apps) await app.setup?.(context);
    cleanup.push(async () => {
      for (const app of apps) await app.stop?.(context);
    });
    const startWork = async () => {
      await jobs.start();
      cleanup.push(() => jobs.stop({ timeoutMs: config.shutdownTimeoutMs }));
      // The recovery sweep and the bots' schedules are independent of one another.
      await settleAll([
        ...(mode !== 'http'
          ? [channels.startWorkers().then(() => void cleanup.push(() => channels.stopWorkers()))]
          : []),
        ...apps.map(async (app) => {
          // A worker given only other apps' queues (`--queues credits.notebook`) leaves this app's
          // schedules and intake to the processes that run it, whose configuration they follow.
          const queues = Object.keys(app.jobs ?? {});
          if (config.jobs.queues.length && queues.every((name) => jobs.filtersOut(name))) return;
          await app.started?.(context);
        }),
      ]);
    };
    const checks: ComponentCheck[] = [
      {
        name: 'database',
        check: async () => {
          await db.ping();
          return db.kind;
        },
      },
      {
        name: 'jobs',
        check: async () => {
          await jobs.ping();
          return mode === 'http' ? 'sending only' : 'workers running';
        },
      },
      // Not critical: rate limits fall back to memory while it is down (rate-limit-store.ts).
      ...(redis ? [{ name: 'redis', critical: false, check: async () => `ping ${await redis.ping()}` }] : []),
      ...apps.flatMap((app) => app.checks?.(context) ?? []),
    ];
    const info = (): ServiceInfo => ({
      name: SERVICE_NAME,
      version: SERVICE_VERSION,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      mode,
      apps: apps.map((app) => app.name),
      drivers: {
        database: db.kind,
        jobs: 'pg-boss',
        rateLimits: redis ? 'redis' : 'memory',
        ai: aiDriverName(ai.describe()),
      },
      channels: channels.driverNames,
    });
    const ops: OpsDependencies = { checks, info, metrics, beforeScrape: () => jobs.refreshQueueDepths() };
    const buildApi = async () => {
      const { buildHttpApp } = await import('./platform/http/app.ts');
      const api = await buildHttpApp({
        config: config.http,
        log,
        redis,
        ops,
        browserHome: '/console',
        routes: async (app: FastifyInstance) => {
          await channels.registerRoutes(app);
          const { registerJobRoutes } = await import('./platform/jobs/routes.ts');
          registerJobRoutes(app, { jobs, guard: adminGuard(config.adminToken) });
          for (const module of apps) await module.routes?.(app, context);
          const { mountConsole } = await import('./platform/console/mount.ts');
          await mountConsole(app, {
            db,
            jobs,
            channels,
            checks,
            info,
            ai,
            smsNumber: config.channels.sms.driver === 'sandbox' ? config.channels.sms.from : '',
            defaultRegion: config.sms.defaultRegion,
            adminToken: config.adminToken,
            sessionTtlMs: config.http.consoleSessionMs,
            apps,
            context,
          });
        },
      });
      return { api, server: api };
    };
    // Built while the job system starts (pg-boss's start is a dozen round trips to the database,
    // building the app mostly CPU): nothing serves requests before both are done. A worker serves
    // its operations routes without Fastify, which it then never loads.
    const building =
      mode === 'worker'
        ? Promise.resolve({ api: null, server: createOpsServer({ ops, log, metrics }) })
        : buildApi();
    const [, built] = await settleAll([startWork(), building], async ([, outcome]) => {
      if (outcome.status === 'fulfilled') await outcome.value.server.close();
    });
    const http = built.server;
    // Closed first on the way down: no new requests while jobs drain.
    cleanup.push(() => http.close());

    let url: string | null = null;
    if (options.listen !== false) {
      url = await http.listen({ port: config.http.port, host: config.http.host });
      db.lock?.update({ httpUrl: url });
      log.info({ url, mode, database: db.kind }, 'switchboard is listening');
    }

    let stopping: Promise<void> | null = null;
    return {
      app: built.api as Service<M>['app'],
      db,
      jobs,
      metrics,
      channels,
      url,
      stop: () => {
        stopping ??= unwind().then(() => log.info('switchboard stopped'));
        return stopping;
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/**
 * Every promise's value once all have settled; else the first failure, after `onFailure` has seen
 * every outcome (to undo what did start). Unlike Promise.all, nothing is left running unwatched
 * while the caller unwinds.
 */
async function settleAll<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
  onFailure?: (outcomes: { [K in keyof T]: PromiseSettledResult<T[K]> }) => Promise<void>,
): Promise<T> {
  const outcomes = (await Promise.allSettled(promises)) as { [K in keyof T]: PromiseSettledResult<T[K]> };
  const failed = (outcomes as readonly PromiseSettledResult<unknown>[]).find((o) => o.status === 'rejected');
  if (!failed)
    return (outcomes as readonly PromiseFulfilledResult<unknown>[]).map((o) => o.value) as unknown as T;
  await onFailure?.(outcomes);
  throw failed.reason;
}

async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const { Redis } = await import('ioredis');
  // Commands fail fast while Redis is down (readiness reports it) instead of queueing forever.
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  redis.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  return redis;
}

/** `openai:gpt-4o-mini`, `bedrock:us.meta.llama3-2-1b-instruct-v1:0`, or `offline`. */
const aiDriverName = (ai: { provider: string; model: string | null }) =>
  ai.model ? `${ai.provider}:${ai.model}` : ai.provider;
