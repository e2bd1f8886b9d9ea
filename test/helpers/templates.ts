// The migrated databases the suite copies: most tests need the schema, not the act of creating it.
// Migrating a copy of the empty cluster took about 1.2 s on PGlite and 0.45 s on PostgreSQL for
// each test's database (2026-12-02), against 0.6 s and 0.1 s to open one already migrated. The
// tests of migrating itself ask for an empty database (createTestDatabase's `empty`).
import { cpSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../../src/config.ts';
import { openDatabase } from '../../src/platform/db/database.ts';
import { runMigrations } from '../../src/platform/db/migrate.ts';
import { JobSystem } from '../../src/platform/jobs/job-system.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import { testConfig } from './config.ts';
import { captureLogs } from './logs.ts';

/** Applies every migration and installs pg-boss's tables, as a service's first start does. */
async function migrate(database: Config['database']): Promise<void> {
  const config = testConfig(database);
  const { log } = captureLogs('warn');
  const db = await openDatabase(database, { log, command: 'test-template' });
  try {
    await runMigrations(db);
    const jobs = new JobSystem({
      db,
      config: config.jobs,
      definitions: {},
      log,
      metrics: createMetrics(),
      workers: false,
    });
    await jobs.start();
    await jobs.stop({ timeoutMs: 5_000 });
  } finally {
    await db.close();
  }
}

/** A PGlite cluster under `root`, copied from the empty one and migrated; returns its pgdata. */
export async function migratedPgliteTemplate(emptyCluster: string, root: string): Promise<string> {
  const dataDir = path.join(root, 'migrated');
  cpSync(emptyCluster, path.join(dataDir, 'pgdata'), { recursive: true });
  await migrate({ kind: 'pglite', dataDir });
  return path.join(dataDir, 'pgdata');
}

/**
 * A migrated database on the server of `serverUrl`, named for this run, for `create database ...
 * template`: nothing may stay connected to it, so every connection here is closed on return.
 */
export async function migratedPostgresTemplate(
  serverUrl: string,
): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `sb_template_${process.pid}`;
  await withAdmin(serverUrl, async (client) => {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrate({ kind: 'postgres', url: url.toString(), poolMax: 5, connectRetryMs: 0 });
  return {
    name,
    drop: async () => {
      await withAdmin(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

export async function withAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
