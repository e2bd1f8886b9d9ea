// One Database for the whole process: embedded PGlite in DATA_DIR by default, a node-postgres
// pool when DATABASE_URL is set. Everything above this file sees the same drizzle API and the
// same raw-SQL helper, so no code branches on which one is underneath.
import path from 'node:path';
// Only the configured database's driver is imported: a PostgreSQL process never loads PGlite.
import type { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { Config } from '../../config.ts';
import type { Logger } from '../log.ts';
import { drivers } from './drizzle.ts';
import { acquireDataDirLock, type DataDirLock } from './lockfile.ts';
import { yieldPeriodically } from './pglite-fairness.ts';
import { guardPoolClients } from './pool-errors.ts';
import * as schema from './schema-index.ts';

export type Schema = typeof schema;
export type Orm = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** drizzle query builder over the whole schema. */
  readonly orm: Orm;
  /**
   * Raw parameterised SQL ($1, $2...), for the few statements the query builder does not express and
   * for hot paths. `name` makes it a prepared statement on PostgreSQL (parsed and planned once per
   * connection); PGlite has no per-connection plans to keep, so there it changes nothing.
   */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[], name?: string): Promise<Row[]>;
  /** Round trip to the server; throws when it is unreachable. */
  ping(): Promise<void>;
  /** The embedded instance, when there is one (pg-boss and migrations take it directly). */
  readonly pglite: PGlite | null;
  /** The pool, when there is one. */
  readonly pool: pg.Pool | null;
  /** The lock on DATA_DIR held for the embedded database, to publish the HTTP address into. */
  readonly lock: DataDirLock | null;
  close(): Promise<void>;
}

export interface OpenOptions {
  log: Logger;
  /** What this process is (`start`, `worker`, `migrate`...), written into the PGlite lockfile. */
  command: string;
}

export async function openDatabase(config: Config['database'], options: OpenOptions): Promise<Database> {
  return config.kind === 'pglite'
    ? openPglite(config.dataDir, options)
    : openPostgres(config.url, config.poolMax, options);
}

async function openPglite(dataDir: string, { log, command }: OpenOptions): Promise<Database> {
  const lock = acquireDataDirLock(dataDir, command);
  let pglite: PGlite;
  try {
    const { PGlite } = drivers.pgliteClient();
    pglite = await PGlite.create(path.join(dataDir, 'pgdata'));
    yieldPeriodically(pglite);
  } catch (error) {
    lock.release();
    throw error;
  }
  log.info(
    { dataDir },
    'embedded PostgreSQL (PGlite) opened; not power-loss durable, use DATABASE_URL in production',
  );
  const orm = drivers.pglite().drizzle(pglite, { schema }) as unknown as Orm;
  let closed = false;
  return {
    kind: 'pglite',
    orm,
    pglite,
    pool: null,
    lock,
    async query<Row>(text: string, params: unknown[] = []) {
      return (await pglite.query<Row>(text, params)).rows;
    },
    async ping() {
      if (pglite.closed) throw new Error('the embedded database is closed');
      await pglite.query('select 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (!pglite.closed) await pglite.close();
      } finally {
        lock.release();
      }
    },
  };
}

async function openPostgres(url: string, poolMax: number, { log }: OpenOptions): Promise<Database> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: poolMax, connectionTimeoutMillis: 5000 });
  guardPoolClients(pool, log);
  const orm = drivers.nodePostgres().drizzle(pool, { schema }) as unknown as Orm;
  let closed = false;
  return {
    kind: 'postgres',
    orm,
    pglite: null,
    pool,
    lock: null,
    async query<Row>(text: string, params: unknown[] = [], name?: string) {
      return (await pool.query(name ? { name, text, values: params } : { text, values: params }))
        .rows as Row[];
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
