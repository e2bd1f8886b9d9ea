// Reading the credit a notebook gives, by one exact rule (the README's "How the credit is read"):
//
// 1. A machine-readable result wins: a `credit_cents` (cents) or `credit` (dollars) value that the
//    notebook records (a scrapbook scrap anywhere in the notebook) or shows under the summary heading
//    as JSON (an application/json output, or a printed line that is a JSON object). Several such
//    results must agree.
// 2. Otherwise the `credit` column of the one table under the heading with such a column (HTML,
//    Markdown or aligned text): the sum of its rows. A TOTAL row is not summed but must equal the sum.
// 3. Anything else needs a person, with the reason: no heading, no result and no table, two tables,
//    a TOTAL that does not match, a negative or fractional-cent amount, an unreadable cell.
//
// Prose such as `Requested credit: $10,000.00` is never read: it is what the customer asked for as
// often as what the notebook computed.
import { CreditError } from '../credit-error.ts';
import { type Cell, hasTag, joined, type Notebook, type Output, outputText } from './notebook-format.ts';
import { centsValue, dollarsToCents } from './notebook-money.ts';
import { summaryCells } from './notebook-sections.ts';
import { htmlTables, type TextTable, textTables } from './notebook-tables.ts';

/** A summary cell as stored: what it ran and what it showed (text only, bounded). */
export interface SummaryCell {
  executionCount: number | null;
  source: string;
  output: string;
}

export interface SummaryTable extends TextTable {
  creditColumn: string;
  /** The TOTAL row, excluded from the sum and checked against it. */
  totalRow: string[] | null;
}

export interface NotebookSummary {
  creditCents: number;
  /** Which part of the rule gave the credit. */
  rule: 'result' | 'table';
  heading: string | null;
  cells: SummaryCell[];
  /** The table the credit was read from (rule `table`). */
  table: SummaryTable | null;
  /** A `table` the machine-readable result carried, as the notebook gave it. */
  resultTable: unknown[] | null;
}

const TEXT_LIMIT = 20_000;
const SCRAP_MIME = /^application\/scrapbook\.scrap\.[a-z]+\+json$/;

const needsPerson = (message: string) => new CreditError('notebook_summary', message);

const columnWords = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
/** `credit`, `Credit ($)`, `credit_usd`, `Credit amount`; `credit_cents` is in cents. */
const creditColumnKind = (name: string): 'dollars' | 'cents' | null => {
  const words = columnWords(name);
  if (['credit', 'credit usd', 'credit amount', 'credit amount usd'].includes(words)) return 'dollars';
  if (words === 'credit cents') return 'cents';
  return null;
};
const hasCreditColumn = (cells: string[]) => cells.some((cell) => creditColumnKind(cell) !== null);
const isTotalLabel = (cell: string) => /^(grand\s+)?totals?\s*:?$/i.test(cell.trim());

interface ExplicitResult {
  cents: number;
  table: unknown[] | null;
  where: string;
}

function resultFrom(value: unknown, where: string): ExplicitResult | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const table = Array.isArray(record.table) ? record.table : null;
  const cents = 'credit_cents' in record ? centsValue(record.credit_cents, `${where} credit_cents`) : null;
  const dollars = 'credit' in record ? dollarsToCents(record.credit, `${where} credit`) : null;
  if (cents !== null && dollars !== null && cents !== dollars)
    throw needsPerson(`${where} gives credit ${money(dollars)} and credit_cents ${money(cents)}`);
  const credit = cents ?? dollars;
  return credit === null ? null : { cents: credit, table, where };
}

function jsonLines(text: string): unknown[] {
  const found: unknown[] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) continue;
    try {
      found.push(JSON.parse(trimmed));
    } catch {
      // Not JSON (a Python dict's repr, say): not a machine-readable result.
    }
  }
  return found;
}

function explicitResults(all: Cell[], section: Cell[]): ExplicitResult[] {
  const results: ExplicitResult[] = [];
  // Scrapbook's glue("credit", ...) records a scrap wherever the notebook calls it.
  for (const output of all.flatMap((cell) => cell.outputs ?? [])) {
    for (const [mime, value] of Object.entries(output.data ?? {})) {
      if (!SCRAP_MIME.test(mime) || typeof value !== 'object' || value === null) continue;
      const scrap = value as { name?: unknown; data?: unknown };
      if (scrap.name === 'credit_cents' || scrap.name === 'credit')
        results.push(
          resultFrom({ [scrap.name]: scrap.data }, `the recorded ${scrap.name}`) as ExplicitResult,
        );
    }
  }
  for (const output of section.flatMap((cell) => cell.outputs ?? [])) {
    const json = output.data?.['application/json'];
    const fromJson = resultFrom(json, 'the JSON result');
    if (fromJson) results.push(fromJson);
    if (output.output_type === 'stream')
      for (const value of jsonLines(joined(output.text))) {
        const printed = resultFrom(value, 'the printed JSON result');
        if (printed) results.push(printed);
      }
  }
  return results;
}

/** The tables with a credit column that one output shows (its richest form only). */
function candidateTables(output: Output): TextTable[] {
  const html = joined(output.data?.['text/html']);
  if (html.includes('<table'))
    return htmlTables(html, hasCreditColumn).filter((t) => hasCreditColumn(t.columns));
  const markdown = joined(output.data?.['text/markdown']);
  const text = markdown || outputText(output);
  return textTables(text, hasCreditColumn);
}

function readTable(table: TextTable): { cents: number; read: SummaryTable } {
  const creditAt = table.columns.flatMap((name, i) => (creditColumnKind(name) ? [i] : []));
  if (creditAt.length > 1)
    throw needsPerson(
      `the summary table has ${creditAt.length} credit columns (${creditAt.map((i) => table.columns[i]).join(', ')})`,
    );
  const column = creditAt[0] as number;
  const name = table.columns[column] as string;
  const kind = creditColumnKind(name) as 'dollars' | 'cents';
  // Index cells (pandas) sit on the left: count the credit column from the right.
  const fromRight = table.columns.length - column;
  let sum = 0;
  let total: { cents: number; row: string[] } | null = null;
  let dataRows = 0;
  table.rows.forEach((row, index) => {
    const cell = row[row.length - fromRight] ?? '';
    const others = row.filter((_, i) => i !== row.length - fromRight);
    const what = `row ${index + 1} of the summary table (${name} "${cell}")`;
    const isTotal = others.some(isTotalLabel) || (others.length > 0 && others.every((c) => !c.trim()));
    // A short row lost empty cells in printed text: it can be placed only as a TOTAL row whose
    // label is first and whose credit is the last column; any other would be a guess.
    if (row.length < table.columns.length && !(isTotal && fromRight === 1 && isTotalLabel(row[0] ?? '')))
      throw needsPerson(
        `row ${index + 1} of the summary table has ${row.length} cells for ${table.columns.length} columns: ${row.join(' | ')}`,
      );
    if (!cell.trim() || /^(nan|none|null|-|—)$/i.test(cell.trim()))
      throw needsPerson(`row ${index + 1} of the summary table has no ${name}`);
    const cents = kind === 'cents' ? centsValue(cell, what) : dollarsToCents(cell, what);
    if (isTotal) {
      if (total) throw needsPerson('the summary table has two TOTAL rows');
      total = { cents, row };
    } else {
      sum += cents;
      dataRows += 1;
    }
  });
  if (dataRows === 0) throw needsPerson('the summary table has no rows');
  const found = total as { cents: number; row: string[] } | null;
  if (found && found.cents !== sum)
    throw needsPerson(
      `the summary table's TOTAL row says ${money(found.cents)} but its rows sum to ${money(sum)}`,
    );
  return { cents: sum, read: { ...table, creditColumn: name, totalRow: found?.row ?? null } };
}

const money = (cents: number) =>
  `$${Math.floor(cents / 100).toLocaleString('en-US')}.${String(cents % 100).padStart(2, '0')}`;

const bounded = (text: string) => (text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT)}…` : text);

export function readSummary(notebook: Notebook, heading: string): NotebookSummary {
  const section = summaryCells(notebook.cells, heading);
  if (section.heading === null && !section.cells.some((cell) => hasTag(cell, 'summary')))
    throw needsPerson(`the notebook has no "${heading}" heading and no cell tagged summary`);
  const cells: SummaryCell[] = section.cells
    .filter((cell) => cell.cell_type === 'code')
    .map((cell) => ({
      executionCount: cell.execution_count ?? null,
      source: bounded(joined(cell.source)),
      output: bounded((cell.outputs ?? []).map(outputText).filter(Boolean).join('\n')),
    }));
  const base = { heading: section.heading, cells };

  const results = explicitResults(notebook.cells, section.cells);
  if (results.length) {
    const first = results[0] as ExplicitResult;
    const other = results.find((r) => r.cents !== first.cents);
    if (other)
      throw needsPerson(
        `${first.where} (${money(first.cents)}) and ${other.where} (${money(other.cents)}) disagree`,
      );
    return { ...base, creditCents: first.cents, rule: 'result', table: null, resultTable: first.table };
  }

  const tables = section.cells.flatMap((cell) => (cell.outputs ?? []).flatMap(candidateTables));
  if (tables.length === 0)
    throw needsPerson(
      `no credit under "${section.heading ?? heading}": no JSON result with credit or credit_cents and no table with a credit column`,
    );
  if (tables.length > 1)
    throw needsPerson(
      `${tables.length} tables with a credit column under "${section.heading ?? heading}": which one is the credit is not clear`,
    );
  const { cents, read } = readTable(tables[0] as TextTable);
  return { ...base, creditCents: cents, rule: 'table', table: read, resultTable: null };
}
