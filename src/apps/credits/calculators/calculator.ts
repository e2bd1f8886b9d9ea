// The seam between the request flow and a calculator. A calculator always gets the query's SQL;
// its rows only on demand: `rows()` fetches them (from Looker's run/json, or the configured
// runner) on its first call and hands back the same list after, so a calculator that does not
// need rows (a notebook that runs the SQL itself) never makes Looker run the query, and Looker
// failing to run it cannot fail that request.
import type { QueryRow } from '../query-source.ts';
import type { CreditResult } from './builtin.ts';
import type { NotebookRecord } from './notebook.ts';

export interface CalculatorInput {
  /** Looker's query id (after Look, qid slug and short link were resolved to it). */
  queryId: string;
  sql: string;
  /** The query's rows, fetched on the first call only (memoised); never called unless needed. */
  rows: () => Promise<QueryRow[]>;
  /** Expected block rate per Fraud Guard mode, in basis points (CREDITS_BLOCK_RATES). */
  blockRates: Record<string, number>;
}

export interface CalculatorResult extends CreditResult {
  /** The notebook's summary outputs as text. */
  summaryText?: string;
  kernelMs?: number;
  notebook?: NotebookRecord;
}

/** Rows fetched at most once however many times (or never) a calculator asks. */
export function lazyRows(fetch: () => Promise<QueryRow[]>): () => Promise<QueryRow[]> {
  let pending: Promise<QueryRow[]> | undefined;
  return () => {
    pending ??= fetch();
    return pending;
  };
}
