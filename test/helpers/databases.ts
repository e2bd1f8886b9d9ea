// The two databases every storage test runs against: embedded PGlite always, and the real
// PostgreSQL server when TEST_DATABASE_URL is set (CI sets it). Each test gets a database of its
// own: a copy of a PGlite template, or a PostgreSQL database created from the run's template and
// dropped after. Migrated unless the test asks for an empty one (global-setup.ts, templates.ts).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import type { Config } from '../../src/config.ts';
import { withAdmin } from './templates.ts';

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

export interface TemplateOptions {
  /** Not migrated: for the tests of migrating a database from nothing. */
  empty?: boolean;
}

export async function createTestDatabase(
  kind: DatabaseKind,
  options: TemplateOptions = {},
): Promise<TestDatabase> {
  return kind === 'pglite' ? createPgliteCopy(options) : createPostgresDatabase(options);
}

/** A new DATA_DIR holding a copy of one of the run's PGlite clusters: migrated, or `empty`. */
export function copyPgliteTemplate(prefix: string, { empty = false }: TemplateOptions = {}): string {
  const dataDir = mkdtempSync(path.join(inject('scratchRoot'), prefix));
  const template = inject(empty ? 'pgliteTemplate' : 'pgliteMigratedTemplate');
  cpSync(template, path.join(dataDir, 'pgdata'), { recursive: true });
  return dataDir;
}

function createPgliteCopy(options: TemplateOptions): TestDatabase {
  const dataDir = copyPgliteTemplate('db-', options);
  return {
    config: { kind: 'pglite', dataDir },
    location: dataDir,
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function createPostgresDatabase({ empty = false }: TemplateOptions): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const server = TEST_DATABASE_URL;
  const name = `sb_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const template = empty ? '' : inject('postgresTemplate');
  await withAdmin(server, (client) =>
    client.query(template ? `create database ${name} template ${template}` : `create database ${name}`),
  );
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    config: { kind: 'postgres', url: url.toString(), poolMax: 5, connectRetryMs: 0 },
    location: url.toString(),
    drop: () =>
      withAdmin(server, (client) => client.query(`drop database if exists ${name} with (force)`)).then(
        () => {},
      ),
  };
}
