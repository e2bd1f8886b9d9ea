// Running a query's SQL outside Looker, for teams that query the warehouse directly: Trino/Presto
// (trino-client; every page is checked for `error`) or a PostgreSQL database (read-only transaction).
import pg from 'pg';
import { BasicAuth, type QueryResult, Trino } from 'trino-client';
import { guardPoolClients } from '../../platform/db/pool-errors.ts';
import type { CreditsConfig } from './config.ts';
import { CreditError } from './credit-error.ts';
import type { QueryRow, QueryRunner } from './query-source.ts';

export function createRunner(runner: CreditsConfig['runner'], timeoutMs: number): QueryRunner | undefined {
  if (runner.kind === 'trino') return trinoRunner(runner);
  if (runner.kind === 'postgres') return postgresRunner(runner.url, timeoutMs);
  return undefined;
}

export function trinoRunner(options: Extract<CreditsConfig['runner'], { kind: 'trino' }>): QueryRunner {
  const trino = Trino.create({
    server: options.url,
    source: 'switchboard-credits',
    auth: new BasicAuth(options.user),
    ...(options.catalog ? { catalog: options.catalog } : {}),
    ...(options.schema ? { schema: options.schema } : {}),
  });
  return {
    name: 'trino',
    async run(sql) {
      const rows: QueryRow[] = [];
      let columns: string[] | undefined;
      try {
        const pages = await trino.query(sql.replace(/;\s*$/, ''));
        // Read by hand rather than with for-await: a query refused at once comes back as the final
        // (done) page, which for-await would drop with its error.
        for (;;) {
          const { value, done } = await pages.next();
          const page = value as QueryResult | undefined;
          if (page?.error)
            throw new CreditError('runner_failed', `Trino: ${page.error.errorName}: ${page.error.message}`);
          columns ??= page?.columns?.map((c) => c.name);
          if (!done)
            for (const data of page?.data ?? [])
              rows.push(Object.fromEntries((columns ?? []).map((name, i) => [name, data[i]])));
          if (done) break;
        }
      } catch (error) {
        if (error instanceof CreditError) throw error;
        throw new CreditError('runner_failed', `Trino did not answer: ${(error as Error).message}`, {
          transient: true,
          cause: error,
        });
      }
      return rows;
    },
    async close() {},
  };
}

export function postgresRunner(url: string, timeoutMs: number): QueryRunner {
  const pool = new pg.Pool({ connectionString: url, max: 2, statement_timeout: timeoutMs });
  // A connection the server closes (a restart, a failover, an administrator), idle or checked out,
  // must not crash the process: the pool drops it, the next query reconnects, and a query that
  // fails reports its own error to the request.
  guardPoolClients(pool, { warn: () => {} });
  // numeric and bigint stay strings (pg's default), so amounts are never floats.
  return {
    name: 'postgres',
    async run(sql) {
      let client: pg.PoolClient | undefined;
      try {
        client = await pool.connect();
      } catch (error) {
        throw new CreditError(
          'runner_failed',
          `the query database is unreachable: ${(error as Error).message}`,
          {
            transient: true,
            cause: error,
          },
        );
      }
      try {
        await client.query('begin read only');
        const result = await client.query(sql);
        return result.rows as QueryRow[];
      } catch (error) {
        throw new CreditError(
          'runner_failed',
          `the query failed on PostgreSQL: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      } finally {
        await client.query('rollback').catch(() => {});
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
