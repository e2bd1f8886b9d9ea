// drizzle-orm through its CommonJS build. Its ES-module build costs a process about 0.5 s and
// 220 MiB to import: Node consults the package scope of every ES module it loads, and drizzle's
// package.json (179 KB, an `exports` entry per file) is read and parsed again for each of its
// hundreds of files. Its CommonJS files (.cjs) are loaded without that lookup (measured on
// Node 24.21: `drizzle-orm/node-postgres` + `pg-core` + the root, 528 ms / 284 MiB as ES modules,
// 62 ms / 67 MiB as CommonJS). Import drizzle's values from here; its types straight from
// drizzle-orm (`import type`), which costs nothing at run time.
import { createRequire } from 'node:module';
import type * as PgliteClient from '@electric-sql/pglite';
import type * as Root from 'drizzle-orm';
import type * as Migrator from 'drizzle-orm/migrator';
import type * as NodePostgres from 'drizzle-orm/node-postgres';
import type * as NodePostgresMigrator from 'drizzle-orm/node-postgres/migrator';
import type * as PgCore from 'drizzle-orm/pg-core';
import type * as Pglite from 'drizzle-orm/pglite';
import type * as PgliteMigrator from 'drizzle-orm/pglite/migrator';

// drizzle-kit loads the schema files as CommonJS, where `require` exists and import.meta does not.
// The install-time bundle (scripts/bundle.mjs) turns each `requireCommonJs('...')` into a plain
// `require('...')`, which esbuild bundles: the same CommonJS build, without its hundred files.
const requireCommonJs = typeof require === 'function' ? require : createRequire(import.meta.url);

const root: typeof Root = requireCommonJs('drizzle-orm');
const pgCore: typeof PgCore = requireCommonJs('drizzle-orm/pg-core');

export const { and, asc, count, desc, eq, getTableColumns, gt, gte, inArray, isNull, like, lt, ne, or, sql } =
  root;
export const {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} = pgCore;

/**
 * `column = any($1)` with the values as one array parameter: the same rows as `inArray`, which binds
 * one parameter per value. For the hundreds of ids of a delivery batch, drizzle's work per parameter
 * (and a statement text that grows with the list, for the server to parse) cost more worker CPU than
 * the rest of the claim. PostgreSQL types the parameter as an array of the column's type.
 */
export const anyOf = (column: Root.AnyColumn, values: readonly unknown[]): Root.SQL =>
  root.sql`${column} = any(${root.sql.param(values)})`;

/** The drivers and migrators, loaded when the database kind in use needs them. */
export const drivers = {
  nodePostgres: (): typeof NodePostgres => requireCommonJs('drizzle-orm/node-postgres'),
  nodePostgresMigrator: (): typeof NodePostgresMigrator =>
    requireCommonJs('drizzle-orm/node-postgres/migrator'),
  pglite: (): typeof Pglite => requireCommonJs('drizzle-orm/pglite'),
  /** PGlite itself, from the same (CommonJS) build drizzle's driver requires: one copy in memory. */
  pgliteClient: (): typeof PgliteClient => requireCommonJs('@electric-sql/pglite'),
  pgliteMigrator: (): typeof PgliteMigrator => requireCommonJs('drizzle-orm/pglite/migrator'),
  migrator: (): typeof Migrator => requireCommonJs('drizzle-orm/migrator'),
};
