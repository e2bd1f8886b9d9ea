// The `notebook` calculator: the team's own .ipynb, run the way Papermill runs it. A code cell tagged
// `injected-parameters` goes right after the cell tagged `parameters` (or first, without one) and
// assigns the query's SQL to `<parameter>` (`looker = "select ..."`): the team's notebook runs the
// SQL itself. Rows are fetched and passed (`<parameter>_rows`) only when the parameters cell declares
// that name, and `block_rates_bp` only when it declares that. Jupyter runs a copy (notebook-runner.ts)
// and the credit is read from the Summary Info section by one rule (notebook-summary.ts).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CreditError } from '../credit-error.ts';
import type { QueryRow } from '../query-source.ts';
import type { CreditResult, SummaryRow } from './builtin.ts';
import { type Cell, hasTag, joined, type Notebook } from './notebook-format.ts';
import { executeNotebook, type RunHooks } from './notebook-runner.ts';
import { type NotebookSummary, readSummary } from './notebook-summary.ts';

export interface NotebookSettings {
  parameter: string;
  summaryHeading: string;
  timeoutMs: number;
  /** The jupyter executable (Debian's /usr/bin/jupyter, or one in a virtualenv). */
  jupyter: string;
  /** The kernel to run the notebook with, whatever its metadata says. */
  kernel: string;
  /** The kernel's whole environment: the allowlist of CREDITS_NOTEBOOK_ENV, nothing else. */
  env: Record<string, string>;
  /** Where scratch folders go (the system's temporary folder by default). */
  scratchRoot?: string;
}

/** What every calculator is given: the SQL always, the rows only when it asks for them. */
export interface CalculatorInput {
  sql: string;
  rows?: () => Promise<QueryRow[]>;
  blockRates: Record<string, number>;
}

/** What the stored summary keeps of a notebook run (never the whole notebook). */
export interface NotebookRecord {
  path: string;
  sha256: string;
  /** The parameters injected (names only: the SQL is hashed by the caller, rows are data). */
  injected: string[];
  heading: string | null;
  rule: NotebookSummary['rule'];
  cells: NotebookSummary['cells'];
  /** The `table` the machine-readable result carried (its first 200 rows). */
  resultTable: unknown[] | null;
  /** The table read (its first 200 rows, with `rowCount` when it had more). */
  table: (NonNullable<NotebookSummary['table']> & { rowCount?: number }) | null;
}

export interface NotebookRun extends CreditResult {
  /** The summary cells' outputs as text. */
  summaryText: string;
  kernelMs: number;
  notebook: NotebookRecord;
}

/** The names a `parameters` cell assigns at its top level (`looker = ""`, `looker_rows: list = []`). */
export function declaredParameters(notebook: Notebook): Set<string> {
  const names = new Set<string>();
  for (const cell of notebook.cells.filter((c) => c.cell_type === 'code' && hasTag(c, 'parameters'))) {
    for (const match of joined(cell.source).matchAll(/^([A-Za-z_]\w*)\s*(?::[^=\n]+)?=(?!=)/gm))
      names.add(match[1] as string);
  }
  return names;
}

/**
 * Papermill's behaviour: the run stops at the first failing cell. nbconvert (with --allow-errors,
 * so that the failing cell is recorded) would run the cells after it, which can hang or print a
 * credit computed from nothing; this turns every later cell into `pass`.
 */
const STOP_AT_FIRST_ERROR = [
  'def _switchboard_stop_at_first_error(shell=get_ipython(), failed=[]):',
  '    shell.events.register("post_run_cell", lambda result: failed.append(1) if not result.success else None)',
  '    shell.input_transformers_cleanup.append(lambda lines: ["pass\\n"] if failed else lines)',
  '_switchboard_stop_at_first_error()',
  'del _switchboard_stop_at_first_error',
].join('\n');

/** A Python string literal for any text: JSON's escapes are all valid in Python. */
const pythonString = (text: string) => JSON.stringify(text);

export function injectParameters(
  notebook: Notebook,
  parameter: string,
  values: { sql: string; rows?: QueryRow[]; blockRates?: Record<string, number> },
): { notebook: Notebook; injected: string[] } {
  const lines = [
    '# Parameters injected by Switchboard CreditBot',
    STOP_AT_FIRST_ERROR,
    `${parameter} = ${pythonString(values.sql)}`,
  ];
  const injected = [parameter];
  if (values.rows || values.blockRates) lines.push('import json as _switchboard_json');
  if (values.rows) {
    lines.push(`${parameter}_rows = _switchboard_json.loads(${pythonString(JSON.stringify(values.rows))})`);
    injected.push(`${parameter}_rows`);
  }
  if (values.blockRates) {
    lines.push(
      `block_rates_bp = _switchboard_json.loads(${pythonString(JSON.stringify(values.blockRates))})`,
    );
    injected.push('block_rates_bp');
  }
  const cell: Cell = {
    cell_type: 'code',
    execution_count: null,
    metadata: { tags: ['injected-parameters'] },
    outputs: [],
    source: lines.join('\n'),
    ...(notebook.nbformat_minor !== undefined && notebook.nbformat_minor >= 5
      ? { id: 'injected-parameters' }
      : {}),
  };
  // A re-run replaces an earlier injection rather than stacking a second one.
  const cells = notebook.cells.filter((c) => !hasTag(c, 'injected-parameters'));
  const at = cells.findIndex((c) => hasTag(c, 'parameters'));
  cells.splice(at + 1, 0, cell);
  return { notebook: { ...notebook, cells }, injected };
}

export interface NotebookFile {
  path: string;
  notebook: Notebook;
  sha256: string;
  /** The notebook declares `<parameter>_rows`: it is given the rows. */
  needsRows: boolean;
  wantsBlockRates: boolean;
}

export async function loadNotebook(path: string, parameter: string): Promise<NotebookFile> {
  let bytes: Buffer;
  let notebook: Notebook;
  try {
    bytes = await readFile(path);
    notebook = JSON.parse(bytes.toString('utf8')) as Notebook;
    if (!Array.isArray(notebook.cells)) throw new Error('no cells');
  } catch (error) {
    throw new CreditError('notebook_failed', `cannot read the notebook ${path}: ${(error as Error).message}`);
  }
  const declared = declaredParameters(notebook);
  return {
    path,
    notebook,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    needsRows: declared.has(`${parameter}_rows`),
    wantsBlockRates: declared.has('block_rates_bp'),
  };
}

const SUMMARY_ROW_KEYS = ['mode', 'traffic_prop', 'msg_count', 'fraud_cost', 'block_rate', 'credit'];
const asSummaryRows = (table: unknown[] | null): SummaryRow[] =>
  table?.every(
    (row) => typeof row === 'object' && row !== null && SUMMARY_ROW_KEYS.every((key) => key in row),
  )
    ? (table as SummaryRow[])
    : [];

export async function runNotebook(
  notebookPath: string,
  settings: NotebookSettings,
  input: CalculatorInput,
  hooks: RunHooks = {},
): Promise<NotebookRun> {
  const file = await loadNotebook(notebookPath, settings.parameter);
  const rows = file.needsRows ? await rowsOf(input) : undefined;
  const { notebook, injected } = injectParameters(file.notebook, settings.parameter, {
    sql: input.sql,
    ...(rows ? { rows } : {}),
    ...(file.wantsBlockRates ? { blockRates: input.blockRates } : {}),
  });
  const executed = await executeNotebook(notebook, settings, hooks);
  const summary = readSummary(executed.notebook, settings.summaryHeading);
  return {
    creditCents: summary.creditCents,
    table: asSummaryRows(summary.resultTable),
    summaryText: summary.cells
      .map((cell) => cell.output)
      .filter(Boolean)
      .join('\n'),
    kernelMs: executed.kernelMs,
    notebook: {
      path: notebookPath,
      sha256: file.sha256,
      injected,
      heading: summary.heading,
      rule: summary.rule,
      cells: summary.cells,
      table: storedTable(summary.table),
      resultTable: summary.resultTable?.slice(0, STORED_ROWS) ?? null,
    },
  };
}

/** The stored summary stays compact: a long table keeps its first rows and says how many it had. */
const STORED_ROWS = 200;
const storedTable = (table: NotebookSummary['table']): NotebookRecord['table'] =>
  table && table.rows.length > STORED_ROWS
    ? { ...table, rows: table.rows.slice(0, STORED_ROWS), rowCount: table.rows.length }
    : table;

async function rowsOf(input: CalculatorInput): Promise<QueryRow[]> {
  if (!input.rows)
    throw new CreditError(
      'notebook_failed',
      'the notebook declares a rows parameter but no rows can be fetched for this query',
    );
  return input.rows();
}
