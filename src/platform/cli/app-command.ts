// What `switchboard <app> ...` commands share: the service API they talk to (in-process, or the
// running server's; src/cli.ts hands it over), their output, and the CSV import every app with bulk
// data offers (`invoices import`, `daily import`): read, parse, post in bulk-sized batches with a
// progress bar, report every rejected row by its line.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** The service API, as src/cli.ts hands it to app commands. */
export type Api = (
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>;

/** Opens the API: the running server's when it holds the embedded database, else an in-process one. */
export type Connect = () => Promise<{ api: Api; where: string }>;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Redraws a status line in place (a terminal) or does nothing (a pipe or a log). */
  progress: (line: string) => void;
}

export interface RowProblem {
  /** Line in the file (the header is line 1). */
  line: number;
  field: string;
  reason: string;
}

/** The file as a whole cannot be imported: its header row names the wrong columns. */
export class CsvHeaderError extends Error {}

/**
 * A CSV file's rows as records keyed by their lower-cased, trimmed header names, each with its line
 * (BOM, surrounding spaces and blank lines tolerated). A row with the wrong number of fields is skipped
 * and reported in `problems` with csv-parse's message. `checkHeader` returns why the header is wrong,
 * or null; when it says why, the whole file is refused with a CsvHeaderError.
 */
export function readCsvRecords(
  text: string,
  checkHeader: (header: string[]) => string | null,
): { records: Array<{ line: number; record: Record<string, string> }>; problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  const parsed = parse(text, {
    bom: true,
    trim: true,
    skip_empty_lines: true,
    info: true,
    skip_records_with_error: true,
    columns: (names: string[]) => {
      const header = names.map((name) => name.trim().toLowerCase());
      const wrong = checkHeader(header);
      if (wrong !== null) throw new CsvHeaderError(wrong);
      return header;
    },
    on_skip: (error) => {
      if (error)
        problems.push({
          line: (error as unknown as { lines?: number }).lines ?? 0,
          field: '(row)',
          reason: error.message,
        });
      return undefined;
    },
  }) as Array<{ record: Record<string, string>; info: { lines: number } }>;
  return { records: parsed.map(({ record, info }) => ({ line: info.lines, record })), problems };
}

export interface CsvImport<T> {
  file: string;
  /** Reads the file's rows; throws when the file as a whole cannot be read (a bad header). */
  parse: (text: string) => { rows: Array<{ line: number; value: T }>; problems: RowProblem[] };
  /** The bulk endpoint and the key of its array: POST `url` `{ [key]: T[] }`. */
  url: string;
  key: string;
  maxBulk: number;
  /** What the progress bar counts ("rows", "subscribers"). */
  unit: string;
  /** The last line of the report, from the endpoint's counts summed over every batch. */
  summary: (where: string, counts: Record<string, number>, rejected: number) => string;
}

/** Exit codes: 0 every row accepted, 1 some rows rejected, 2 an unreadable file. */
export async function importCsv<T>(spec: CsvImport<T>, connect: Connect, io: CliIo): Promise<number> {
  let text: string;
  try {
    text = readFileSync(spec.file, 'utf8');
  } catch (error) {
    io.err(
      `Cannot read ${spec.file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
    return 2;
  }
  let parsed: ReturnType<CsvImport<T>['parse']>;
  try {
    parsed = spec.parse(text);
  } catch (error) {
    io.err(`${spec.file} cannot be imported: ${(error as Error).message}`);
    return 2;
  }
  const { api, where } = await connect();
  const problems = [...parsed.problems];
  const counts: Record<string, number> = {};
  const total = parsed.rows.length;
  const field = new RegExp(`^body\\.${spec.key}\\.(\\d+)\\.?`);
  for (let start = 0; start < total; start += spec.maxBulk) {
    const batch = parsed.rows.slice(start, start + spec.maxBulk);
    const response = await api('POST', spec.url, { [spec.key]: batch.map((row) => row.value) });
    const body = response.body as Record<string, unknown> & {
      error?: { message: string; details?: Array<{ field?: string; message: string }> };
    };
    if (response.status >= 400) {
      // The API refused the batch as a whole: report it against the rows it names.
      for (const detail of body.error?.details ?? [
        { message: body.error?.message ?? `HTTP ${response.status}` },
      ]) {
        const index = Number(field.exec(detail.field ?? '')?.[1] ?? Number.NaN);
        problems.push({
          line: Number.isNaN(index) ? (batch[0]?.line ?? 0) : (batch[index]?.line ?? 0),
          field: detail.field?.replace(field, '') || '(batch)',
          reason: detail.message,
        });
      }
    } else {
      for (const [name, value] of Object.entries(body))
        if (typeof value === 'number') counts[name] = (counts[name] ?? 0) + value;
    }
    io.progress(progressBar(Math.min(start + batch.length, total), total, spec.unit));
  }
  io.progress('');
  io.out(spec.summary(where, counts, problems.length));
  for (const problem of problems.sort((a, b) => a.line - b.line))
    io.out(`  line ${problem.line}: ${problem.field}: ${problem.reason}`);
  return problems.length ? 1 : 0;
}

export function progressBar(done: number, total: number, unit: string): string {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  return `Importing [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${total ? Math.round((done / total) * 100) : 100}% ${done}/${total} ${unit}`;
}
