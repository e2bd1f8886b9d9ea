// `switchboard <command>`: the one entry point for running, migrating and checking the service.
// Problems a user can fix (bad config, a held data dir, a busy port) print one clear message and
// exit non-zero; stack traces are for bugs only, and go to the log.
// What each command runs (the service, the database, pg-boss, the doctor) is imported in its own
// branch: `help`, `version` and a configuration error answer without loading any of it.
import { parseArgs } from 'node:util';
import { isAppName } from './apps/index.ts';
import type { OpenApi, ServiceApi } from './cli/service-api.ts';
import { type Config, ConfigError, loadConfig, readEnvironment } from './config.ts';
import type { CliIo } from './platform/cli/app-command.ts';
import { DataDirLockedError } from './platform/db/lockfile.ts';
import { errorMessage } from './platform/errors.ts';
import { createLogger, type Logger, scrubText } from './platform/log.ts';
import { registerConfigSecrets } from './platform/secrets.ts';
import { SERVICE_VERSION } from './platform/version.ts';

const USAGE = `Usage: switchboard <command>

Commands:
  start     HTTP API and job workers in one process (the default)
  http      HTTP API only (jobs are sent, not run)
  worker    job workers only; serves /health and /metrics on PORT
            (--queues a,b: only these queues, e.g. --queues credits.notebook)
  migrate   apply database migrations and install the job tables, then exit
  doctor    check the configuration and every configured component
  invoices  import invoices from CSV, or scan for invoices needing review (switchboard invoices help)
  daily     import subscribers from CSV, or plan the daily messages now (switchboard daily help)
  credits   run one credit request, poll Slack once, retry a request (switchboard credits help)
  payments  create or revoke API keys for the PayBot chat (switchboard payments help)
  help      show this text
  version   print the version

Configuration comes from the environment and a .env file; see .env.example.`;

/** Exit codes: 0 done, 1 failed, 2 configuration or usage error. */
export async function runCli(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
  });
  const command = values.help ? 'help' : values.version ? 'version' : (positionals[0] ?? 'start');

  if (command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command === 'version') {
    console.log(SERVICE_VERSION);
    return 0;
  }
  if (
    !['start', 'http', 'worker', 'migrate', 'doctor', 'invoices', 'daily', 'credits', 'payments'].includes(
      command,
    )
  ) {
    console.error(`Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  }

  let config: Config;
  try {
    const env = readEnvironment();
    // A bot's own command (`switchboard credits run ...`) runs that bot, whatever SWITCHBOARD_APPS
    // says, with its required-when rules checked.
    config = loadConfig(isAppName(command) ? { ...env, SWITCHBOARD_APPS: command } : env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Switchboard cannot start: ${error.message}\nSee .env.example for every variable.`);
      return 2;
    }
    throw error;
  }
  registerConfigSecrets(config);
  const log = createLogger(config);

  try {
    switch (command) {
      case 'migrate':
        return await migrate(config, log);
      case 'doctor':
        return await doctor(config, log);
      case 'invoices':
        return await appCommand(config, log, async (connect, io) =>
          (await import('./apps/invoices/cli.ts')).invoicesCommand(
            argv.slice(argv.indexOf(command) + 1),
            connect,
            io,
          ),
        );
      case 'daily':
        return await appCommand(config, log, async (connect, io) =>
          (await import('./apps/daily/cli.ts')).dailyCommand(
            argv.slice(argv.indexOf(command) + 1),
            { window: config.daily.window, defaultRegion: config.sms.defaultRegion },
            connect,
            io,
          ),
        );
      case 'credits':
        return await appCommand(config, log, async (connect, io) =>
          (await import('./apps/credits/cli.ts')).creditsCommand(
            argv.slice(argv.indexOf(command) + 1),
            connect,
            io,
          ),
        );
      case 'payments':
        return await appCommand(config, log, async (connect, io) =>
          (await import('./apps/payments/cli.ts')).paymentsCommand(
            argv.slice(argv.indexOf(command) + 1),
            connect,
            io,
          ),
        );
      default:
        return await serve(withQueues(config, argv), log, command as 'start' | 'http' | 'worker');
    }
  } catch (error) {
    console.error(describeFailure(error, config));
    if (!isExpected(error)) log.error({ err: error }, 'command failed');
    return 1;
  }
}

/** `--queues a,b` (or `--queues=a,b`) overrides JOBS_QUEUES. */
function withQueues(config: Config, argv: string[]): Config {
  const at = argv.findIndex((arg) => arg === '--queues' || arg.startsWith('--queues='));
  if (at < 0) return config;
  const value = argv[at]?.includes('=') ? argv[at]?.slice('--queues='.length) : argv[at + 1];
  const queues = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return { ...config, jobs: { ...config.jobs, queues } };
}

async function serve(config: Config, log: Logger, mode: 'start' | 'http' | 'worker'): Promise<number> {
  const [{ startTracing }, { startService }] = await Promise.all([
    import('./platform/tracing/tracing.ts'),
    import('./main.ts'),
  ]);
  const tracing = await startTracing(config.tracing, { log, mode });
  const service = await startService({ config, log, mode }).catch(async (error) => {
    await tracing.shutdown();
    throw error;
  });
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        log.warn({ signal }, 'second signal: exiting without waiting for running jobs');
        resolve(1);
        return;
      }
      log.info(
        { signal, timeoutMs: config.shutdownTimeoutMs },
        'shutting down: finishing requests and running jobs',
      );
      service
        .stop()
        .then(
          () => 0,
          (error) => {
            log.error({ err: error }, 'shutdown failed');
            return 1;
          },
        )
        // The last spans (the shutdown's own jobs) go out before the process exits.
        .then(async (code) => {
          await tracing
            .shutdown()
            .catch((error) => log.warn({ err: error }, 'could not export the last spans'));
          resolve(code);
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

async function migrate(config: Config, log: Logger): Promise<number> {
  const [{ openDatabase }, { waitForDatabase }, { runMigrations }, { JobSystem }, { createMetrics }] =
    await Promise.all([
      import('./platform/db/database.ts'),
      import('./platform/db/wait-for-database.ts'),
      import('./platform/db/migrate.ts'),
      import('./platform/jobs/job-system.ts'),
      import('./platform/metrics.ts'),
    ]);
  const db = await openDatabase(config.database, { log, command: 'migrate' });
  try {
    if (config.database.kind === 'postgres')
      await waitForDatabase(db, { limitMs: config.database.connectRetryMs, log });
    const status = await runMigrations(db);
    // Starting pg-boss installs or upgrades its own tables; no workers, no schedules.
    const jobs = new JobSystem({
      db,
      config: config.jobs,
      definitions: {},
      log,
      metrics: createMetrics({ processMetrics: false }),
      workers: false,
    });
    await jobs.start();
    const version = await jobs.boss.schemaVersion();
    await jobs.stop({ timeoutMs: 1000 });
    console.log(
      `Database migrations: ${status.applied} of ${status.available} applied. Job tables: version ${version}.`,
    );
    return 0;
  } finally {
    await db.close();
  }
}

async function doctor(config: Config, log: Logger): Promise<number> {
  const { runDoctor } = await import('./platform/doctor.ts');
  const findings = await runDoctor({
    config,
    log,
    pingRedis: async (url) => {
      const { Redis } = await import('ioredis');
      const redis = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        connectTimeout: 3000,
        retryStrategy: () => null,
      });
      // connect() rejects with the failure, which the finding reports; without a listener ioredis
      // would also print it with a stack trace ("Unhandled error event").
      redis.on('error', () => {});
      try {
        await redis.connect();
        await redis.ping();
      } finally {
        redis.disconnect();
      }
    },
  });
  const width = Math.max(...findings.map((f) => f.component.length));
  for (const finding of findings) {
    console.log(`${finding.ok ? 'ok  ' : 'FAIL'}  ${finding.component.padEnd(width)}  ${finding.detail}`);
  }
  const failed = findings.filter((f) => !f.ok).length;
  console.log(failed ? `\n${failed} problem(s) found.` : '\nEverything configured is reachable.');
  return failed ? 1 : 0;
}

/** Runs an app's command against the service API, opened only when the command needs it. */
async function appCommand(
  config: Config,
  log: Logger,
  run: (connect: () => Promise<{ api: ServiceApi; where: string }>, io: CliIo) => Promise<number>,
): Promise<number> {
  let opened: OpenApi | null = null;
  const connect = async () => {
    opened ??= await (await import('./cli/service-api.ts')).openServiceApi(config, log);
    return opened;
  };
  const io: CliIo = {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    progress: (line) => {
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
    },
  };
  try {
    return await run(connect, io);
  } finally {
    await (opened as OpenApi | null)?.close();
  }
}

function isExpected(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return (
    error instanceof DataDirLockedError ||
    code === 'EADDRINUSE' ||
    code === 'EACCES' ||
    code === 'ECONNREFUSED'
  );
}

function describeFailure(error: unknown, config: Config): string {
  if (error instanceof DataDirLockedError) {
    const api = error.owner.httpUrl ? ` Its API is at ${error.owner.httpUrl}.` : '';
    // `migrate` has nothing to do then: every process applies migrations when it opens the database.
    const migrated =
      ' A running Switchboard applied every migration when it started; `switchboard doctor` asks it.';
    return `${error.message}${api}${migrated}`;
  }
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE')
    return `Port ${config.http.port} on ${config.http.host} is already in use: stop the other process or set PORT.`;
  if (code === 'EACCES') return `Not allowed: ${errorMessage(error)}`;
  if (code === 'ECONNREFUSED' && config.database.kind === 'postgres') {
    return 'Cannot reach the PostgreSQL server in DATABASE_URL (connection refused). Is it running?';
  }
  return `Switchboard failed: ${scrubText(errorMessage(error))}`;
}

/** Runs the command line of this process and exits with its code (src/boot/run.mjs calls it). */
export function main(argv = process.argv.slice(2)): void {
  runCli(argv).then((code) => {
    // Give pino's asynchronous destination a moment to flush the last lines.
    setTimeout(() => process.exit(code), 50).unref();
    process.exitCode = code;
  });
}

// Run when executed directly (node src/cli.ts), not when imported by tests or by src/boot/run.mjs.
if (import.meta.main) main();
