// The `notebook` calculator: the team's own .ipynb, run the way Papermill runs it. A code cell tagged
// `injected-parameters` goes right after the cell tagged `parameters` (or first, without one) and
// assigns the query (`<parameter>`: its SQL, `<parameter>_rows`: its rows, `block_rates_bp`),
// then Jupyter executes a copy (`jupyter nbconvert --to notebook --execute`). The credit and the
// summary table are read from the cells under the "Summary Info" heading or tagged `summary`.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreditError } from '../credit-error.ts';
import type { QueryRow } from '../query-source.ts';
import { type CreditResult, type SummaryRow, toMicros } from './builtin.ts';
import type { CalculatorInput } from './calculator.ts';

export interface NotebookSettings {
  parameter: string;
  summaryHeading: string;
  timeoutMs: number;
  /** The jupyter executable (Debian's /usr/bin/jupyter, or one in a virtualenv). */
  jupyter: string;
  /** The kernel to run the notebook with, whatever its metadata says. */
  kernel: string;
}

interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  metadata?: { tags?: string[] } & Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
  id?: string;
}
interface Output {
  output_type: 'stream' | 'execute_result' | 'display_data' | 'error';
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Notebook {
  cells: Cell[];
  metadata?: Record<string, unknown>;
  nbformat?: number;
  nbformat_minor?: number;
}

export interface NotebookRun extends CreditResult {
  /** The summary cells' outputs as text, for the stored summary (never the whole notebook). */
  summaryText: string;
  kernelMs: number;
}

const joined = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join('') : (value ?? '');

/** A Python string literal for any text: JSON's escapes are all valid in Python. */
const pythonString = (text: string) => JSON.stringify(text);

export function injectParameters(
  notebook: Notebook,
  parameter: string,
  values: { sql: string; rows: QueryRow[]; blockRates: Record<string, number> },
): Notebook {
  const source = [
    '# Parameters injected by Switchboard CreditBot',
    'import json as _switchboard_json',
    `${parameter} = ${pythonString(values.sql)}`,
    `${parameter}_rows = _switchboard_json.loads(${pythonString(JSON.stringify(values.rows))})`,
    `block_rates_bp = _switchboard_json.loads(${pythonString(JSON.stringify(values.blockRates))})`,
  ].join('\n');
  const injected: Cell = {
    cell_type: 'code',
    execution_count: null,
    metadata: { tags: ['injected-parameters'] },
    outputs: [],
    source,
    ...(notebook.nbformat_minor !== undefined && notebook.nbformat_minor >= 5
      ? { id: 'injected-parameters' }
      : {}),
  };
  // A re-run replaces an earlier injection rather than stacking a second one.
  const cells = notebook.cells.filter((cell) => !cell.metadata?.tags?.includes('injected-parameters'));
  const at = cells.findIndex((cell) => cell.metadata?.tags?.includes('parameters'));
  cells.splice(at + 1, 0, injected);
  return { ...notebook, cells };
}

export async function runNotebook(
  notebookPath: string,
  settings: NotebookSettings,
  input: CalculatorInput,
): Promise<NotebookRun> {
  let notebook: Notebook;
  try {
    notebook = JSON.parse(await readFile(notebookPath, 'utf8')) as Notebook;
    if (!Array.isArray(notebook.cells)) throw new Error('no cells');
  } catch (error) {
    throw new CreditError(
      'notebook_failed',
      `cannot read the notebook ${notebookPath}: ${(error as Error).message}`,
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-notebook-'));
  try {
    const notebookFile = path.join(dir, 'input.ipynb');
    // Until the notebook says whether it reads rows, they are still fetched (lazily, here).
    const values = { sql: input.sql, rows: await input.rows(), blockRates: input.blockRates };
    await writeFile(notebookFile, JSON.stringify(injectParameters(notebook, settings.parameter, values)));
    const started = Date.now();
    const result = await execute(settings, dir, notebookFile, 'output.ipynb');
    const kernelMs = Date.now() - started;
    let executed: Notebook;
    try {
      executed = JSON.parse(await readFile(path.join(dir, 'output.ipynb'), 'utf8')) as Notebook;
    } catch {
      throw new CreditError(
        'notebook_failed',
        `Jupyter did not run the notebook (exit ${result.code}): ${lastLines(result.stderr)}`,
      );
    }
    const failed = executed.cells.findIndex((cell) => cell.outputs?.some((o) => o.output_type === 'error'));
    if (failed >= 0) {
      const error = executed.cells[failed]?.outputs?.find((o) => o.output_type === 'error') as Output;
      // Numbered as in the team's notebook: the injected cell is not theirs.
      const injectedAt = executed.cells.findIndex((cell) =>
        cell.metadata?.tags?.includes('injected-parameters'),
      );
      const number = failed + 1 - (injectedAt >= 0 && injectedAt < failed ? 1 : 0);
      throw new CreditError(
        'notebook_failed',
        `notebook cell ${number} failed: ${error.ename}: ${error.evalue}`,
      );
    }
    return { ...readSummary(executed, settings.summaryHeading), kernelMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function execute(
  settings: NotebookSettings,
  cwd: string,
  input: string,
  output: string,
): Promise<{ code: number | null; stderr: string }> {
  const args = [
    'nbconvert',
    '--to',
    'notebook',
    '--execute',
    // Errors are recorded in the output notebook, so the failing cell can be named.
    '--allow-errors',
    `--ExecutePreprocessor.timeout=${Math.ceil(settings.timeoutMs / 1000)}`,
    `--ExecutePreprocessor.kernel_name=${settings.kernel}`,
    '--output',
    output,
    input,
  ];
  return new Promise((resolve, reject) => {
    // A process group of its own, so a timeout ends the kernel too, not only nbconvert.
    const child = spawn(settings.jupyter, args, { cwd, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, settings.timeoutMs + 5000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(
        new CreditError('notebook_failed', `cannot start Jupyter (${settings.jupyter}): ${error.message}`, {
          cause: error,
        }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut || /CellTimeoutError|Cell execution timed out/.test(stderr)) {
        reject(
          new CreditError(
            'timeout',
            `the notebook did not finish within ${Math.ceil(settings.timeoutMs / 1000)} s`,
          ),
        );
        return;
      }
      resolve({ code, stderr });
    });
  });
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' | ') || 'no output';

const headingLevel = (cell: Cell): { level: number; title: string } | null => {
  if (cell.cell_type !== 'markdown') return null;
  const match = /^\s*(#{1,6})\s+(.+?)\s*#*\s*$/m.exec(joined(cell.source));
  return match ? { level: (match[1] as string).length, title: match[2] as string } : null;
};

/** The cells tagged `summary`, or those under the summary heading up to the next heading of its level or above. */
export function summaryCells(notebook: Notebook, heading: string): Cell[] {
  const tagged = notebook.cells.filter((cell) => cell.metadata?.tags?.includes('summary'));
  if (tagged.length) return tagged;
  const start = notebook.cells.findIndex(
    (cell) => headingLevel(cell)?.title.toLowerCase() === heading.trim().toLowerCase(),
  );
  if (start < 0) return [];
  const level = headingLevel(notebook.cells[start] as Cell)?.level ?? 1;
  const cells: Cell[] = [];
  for (const cell of notebook.cells.slice(start + 1)) {
    const h = headingLevel(cell);
    if (h && h.level <= level) break;
    cells.push(cell);
  }
  return cells;
}

const outputText = (output: Output): string => {
  if (output.output_type === 'stream') return joined(output.text);
  const plain = output.data?.['text/plain'];
  return typeof plain === 'string' || Array.isArray(plain) ? joined(plain as string | string[]) : '';
};

/** Cents from "$4,948.80" or "4948.80". */
const dollarsToCents = (text: string): bigint => {
  const micros = toMicros(text.replace(/[$,\s]/g, ''), `the amount ${text}`);
  if (micros % 10_000n !== 0n)
    throw new CreditError('notebook_failed', `the amount ${text} is not whole cents`);
  return micros / 10_000n;
};

/**
 * The credit, in order of preference: a JSON output with `credit_cents` (and `table`); a line such
 * as `Credit amount: $4,948.80`; else the sum of the `credit` column of a printed summary table.
 */
export function readSummary(notebook: Notebook, heading: string): CreditResult & { summaryText: string } {
  const cells = summaryCells(notebook, heading);
  if (cells.length === 0)
    throw new CreditError(
      'notebook_failed',
      `the notebook has no "${heading}" section and no cell tagged summary`,
    );
  const outputs = cells.flatMap((cell) => cell.outputs ?? []);
  const summaryText = outputs.map(outputText).filter(Boolean).join('\n').slice(0, 20_000);
  for (const output of outputs) {
    const json = output.data?.['application/json'] as { credit_cents?: unknown; table?: unknown } | undefined;
    if (json && Number.isSafeInteger(json.credit_cents) && (json.credit_cents as number) >= 0) {
      return {
        creditCents: json.credit_cents as number,
        table: Array.isArray(json.table) ? (json.table as SummaryRow[]) : [],
        summaryText,
      };
    }
  }
  const line = /credit(?:[ _]amount)?\s*[:=]\s*(\$?[\d,]+(?:\.\d+)?)/i.exec(summaryText);
  if (line) return { creditCents: Number(dollarsToCents(line[1] as string)), table: [], summaryText };
  const lines = summaryText.split('\n').map((l) => l.trim().split(/\s{2,}|\t/));
  const headerAt = lines.findIndex((cells) => cells.map((c) => c.toLowerCase()).includes('credit'));
  if (headerAt >= 0) {
    const index = (lines[headerAt] as string[]).map((c) => c.toLowerCase()).indexOf('credit');
    let total = 0n;
    let found = false;
    for (const cells of lines.slice(headerAt + 1)) {
      // A pandas table prints the row index first, so count from the right.
      const value = cells[cells.length - ((lines[headerAt] as string[]).length - index)];
      if (value && /^\$?[\d,]+(\.\d+)?$/.test(value)) {
        total += dollarsToCents(value);
        found = true;
      }
    }
    if (found) return { creditCents: Number(total), table: [], summaryText };
  }
  throw new CreditError('notebook_failed', `no credit amount found under "${heading}"`);
}
