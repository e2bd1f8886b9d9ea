// Where a link's query comes from: first the query a link names (a Look's query, a qid or short
// link's slug), so links naming the same query are one; then that query's SQL, and its rows (from
// Looker itself, or by running the SQL on Trino or a PostgreSQL database when the team queries the
// warehouse directly).
import type { LookerLink } from './links.ts';

export type QueryRow = Record<string, unknown>;

export interface ResolvedQuery {
  /** Looker's query id (or the sandbox's). */
  queryId: string;
  sql: string;
  /** The rows, fetched only when a calculator needs them. */
  rows(): Promise<QueryRow[]>;
}

/** One session per request: it logs in once and resolves each link of the message. */
export interface QuerySource {
  /** The id of the query a link names: Look -> its query_id, qid or short link slug -> query_for_slug. */
  queryIdOf(link: LookerLink): Promise<string>;
  /** A query's SQL, and its rows on demand. */
  query(queryId: string): Promise<ResolvedQuery>;
  close(): Promise<void>;
}

export interface QueryRunner {
  readonly name: string;
  run(sql: string): Promise<QueryRow[]>;
  close(): Promise<void>;
}
