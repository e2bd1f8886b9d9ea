// The two databases every storage test runs against: embedded PGlite always, and the real
// PostgreSQL server when TEST_DATABASE_URL is set (CI sets it). Each test gets a database of its
// own: a copy of the PGlite template, or a freshly created PostgreSQL database that is dropped after.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import type { Config } from '../../src/config.ts';

export type DatabaseKind = 'pglite' | 'postgres';

export interface TestDatabase {
  config: Config['database'];
  /** For PGlite: the DATA_DIR; for PostgreSQL: the database URL. */
  location: string;
  drop(): Promise<void>;
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/** The kinds to run storage tests against, for `describe.each`. */
export const databaseKinds: DatabaseKind[] = TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  return kind === 'pglite' ? createPgliteCopy() : createPostgresDatabase();
}

/** A new DATA_DIR holding a copy of the run's initialised (unmigrated) PGlite cluster. */
export function copyPgliteTemplate(prefix: string): string {
  const dataDir = mkdtempSync(path.join(inject('scratchRoot'), prefix));
  cpSync(inject('pgliteTemplate'), path.join(dataDir, 'pgdata'), { recursive: true });
  return dataDir;
}

function createPgliteCopy(): TestDatabase {
  const dataDir = copyPgliteTemplate('db-');
  return {
    config: { kind: 'pglite', dataDir },
    location: dataDir,
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `sb_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await withAdmin((client) => client.query(`create database ${name}`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    config: { kind: 'postgres', url: url.toString(), poolMax: 5, connectRetryMs: 0 },
    location: url.toString(),
    drop: () =>
      withAdmin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
