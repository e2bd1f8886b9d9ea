// `switchboard doctor`: checks every configured component and says what is wrong in words an
// operator can act on. When another process holds the embedded database, it asks that process's
// HTTP API instead of touching the files.
import type { Config } from '../config.ts';
import { createProviderDrivers } from './channels/drivers.ts';
import { CHANNELS, type Drivers } from './channels/types.ts';
import { type Database, openDatabase } from './db/database.ts';
import { DataDirLockedError } from './db/lockfile.ts';
import { migrationStatus } from './db/migrate.ts';
import { errorMessage } from './errors.ts';
import type { ComponentStatus } from './health.ts';
import { type Logger, scrubText } from './log.ts';

export interface DoctorFinding {
  component: string;
  ok: boolean;
  detail: string;
}

export interface DoctorDependencies {
  config: Config;
  log: Logger;
  fetch?: typeof fetch;
  /** Reaches Redis; injected so the check does not need a client here. */
  pingRedis?: (url: string) => Promise<void>;
  /** The configured providers' drivers; built from config when absent. */
  providers?: Partial<Drivers>;
}

export async function runDoctor(deps: DoctorDependencies): Promise<DoctorFinding[]> {
  const { config } = deps;
  const findings: DoctorFinding[] = [{ component: 'config', ok: true, detail: 'every variable is valid' }];

  let db: Database | null = null;
  try {
    db = await openDatabase(config.database, { log: deps.log, command: 'doctor' });
    findings.push(...(await databaseFindings(db)));
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      findings.push(...(await askRunningServer(error, deps.fetch ?? fetch)));
    } else {
      findings.push({ component: 'database', ok: false, detail: describeDatabaseError(config, error) });
    }
  } finally {
    await db?.close();
  }

  if (config.redis) {
    try {
      await deps.pingRedis?.(config.redis.url);
      findings.push({ component: 'redis', ok: true, detail: 'answers PING' });
    } catch (error) {
      findings.push({
        component: 'redis',
        ok: false,
        detail: `cannot reach REDIS_URL: ${scrubText(errorMessage(error))}`,
      });
    }
  }
  findings.push(...(await channelFindings(deps.providers ?? (await createProviderDrivers(config)))));
  return findings;
}

/** Each channel: its provider's answer to our credentials, or a plain note that it is a sandbox. */
async function channelFindings(providers: Partial<Drivers>): Promise<DoctorFinding[]> {
  return Promise.all(
    CHANNELS.map(async (channel) => {
      const driver = providers[channel];
      if (!driver)
        return {
          component: `${channel} (sandbox)`,
          ok: true,
          detail: 'no credentials set: messages stay on this machine',
        };
      try {
        return { component: `${channel} (${driver.name})`, ok: true, detail: await driver.verify() };
      } catch (error) {
        return {
          component: `${channel} (${driver.name})`,
          ok: false,
          detail: scrubText(errorMessage(error)),
        };
      }
    }),
  );
}

async function databaseFindings(db: Database): Promise<DoctorFinding[]> {
  await db.ping();
  const migrations = await migrationStatus(db);
  const jobsSchema = await db
    .query<{ version: number }>('select version from pgboss.version limit 1')
    .catch(() => [] as Array<{ version: number }>);
  const pending = migrations.available - migrations.applied;
  return [
    { component: 'database', ok: true, detail: `${db.kind} reachable` },
    {
      component: 'migrations',
      ok: pending === 0,
      detail:
        pending === 0
          ? `all ${migrations.available} applied`
          : `${pending} of ${migrations.available} not applied yet: run \`switchboard migrate\` (start also applies them)`,
    },
    {
      component: 'jobs',
      ok: jobsSchema.length > 0,
      detail: jobsSchema.length
        ? `job tables installed (schema version ${jobsSchema[0]?.version})`
        : 'job tables not installed yet: run `switchboard migrate` (start also installs them)',
    },
  ];
}

async function askRunningServer(
  locked: DataDirLockedError,
  fetchImpl: typeof fetch,
): Promise<DoctorFinding[]> {
  const owner = locked.owner;
  const held: DoctorFinding = {
    component: 'database',
    ok: true,
    detail: `embedded database in use by pid ${owner.pid} ("${owner.command}"); asked it over HTTP instead`,
  };
  if (!owner.httpUrl) {
    return [
      {
        component: 'database',
        ok: false,
        detail: `embedded database in use by pid ${owner.pid} ("${owner.command}"), which serves no HTTP API to ask; stop it to check the files directly`,
      },
    ];
  }
  try {
    const response = await fetchImpl(`${owner.httpUrl}/health/status`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { components?: ComponentStatus[] };
    return [
      held,
      ...(body.components ?? []).map((c) => ({
        component: `${c.name} (via ${owner.httpUrl})`,
        ok: c.status === 'up',
        detail:
          c.status === 'up' ? `up, ${c.latencyMs} ms${c.detail ? `, ${c.detail}` : ''}` : (c.error ?? 'down'),
      })),
    ];
  } catch (error) {
    return [
      {
        component: 'database',
        ok: false,
        detail: `embedded database in use by pid ${owner.pid}, but its API at ${owner.httpUrl} did not answer: ${scrubText(errorMessage(error))}`,
      },
    ];
  }
}

function describeDatabaseError(config: Config, error: unknown): string {
  const message = scrubText(errorMessage(error));
  if (config.database.kind === 'pglite')
    return `cannot open the embedded database in ${config.database.dataDir}: ${message}`;
  const code = (error as { code?: string }).code;
  const hint =
    code === 'ECONNREFUSED'
      ? 'nothing listens at that host and port'
      : code === '28P01' || code === '28000'
        ? 'the server refused the user or password'
        : code === '3D000'
          ? 'the database named in the URL does not exist'
          : message;
  return `cannot connect with DATABASE_URL: ${hint}`;
}
