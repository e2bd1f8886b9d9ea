// `switchboard invoices import <file.csv>` and `switchboard invoices scan --once`. Both talk to the
// invoices API (in-process, or the running server's), so they validate and write exactly as the API does.
import { readFileSync } from 'node:fs';
import { CsvHeaderError, parseInvoiceCsv } from './csv-import.ts';
import { MAX_BULK } from './routes.ts';

export type Api = (
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Redraws a status line in place (a terminal) or does nothing (a pipe or a log). */
  progress: (line: string) => void;
}

export const INVOICES_USAGE = `Usage:
  switchboard invoices import <file.csv>   add or replace invoices from a CSV file (header row:
                                           id, vendor_name, total_minor or total_amount, currency,
                                           matched_status, invoice_link)
  switchboard invoices scan --once         scan for invoices needing review now, queue the alerts, exit`;

/** Exit codes: 0 done, 1 some rows or the scan failed, 2 usage or an unreadable file. */
export async function invoicesCommand(
  args: string[],
  connect: () => Promise<{ api: Api; where: string }>,
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'help' && rest.length === 0) {
    io.out(INVOICES_USAGE);
    return 0;
  }
  if (sub === 'import' && rest.length === 1) return importCsv(rest[0] as string, connect, io);
  if (sub === 'scan' && rest.length === 1 && rest[0] === '--once') return scanOnce(connect, io);
  io.err(INVOICES_USAGE);
  return 2;
}

async function importCsv(
  file: string,
  connect: Parameters<typeof invoicesCommand>[1],
  io: CliIo,
): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    io.err(
      `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
    return 2;
  }
  let parsed: ReturnType<typeof parseInvoiceCsv>;
  try {
    parsed = parseInvoiceCsv(text);
  } catch (error) {
    io.err(
      `${file} cannot be imported: ${error instanceof CsvHeaderError ? error.message : (error as Error).message}`,
    );
    return 2;
  }
  const { api, where } = await connect();
  const problems = [...parsed.problems];
  let created = 0;
  let updated = 0;
  const total = parsed.invoices.length;
  for (let start = 0; start < total; start += MAX_BULK) {
    const batch = parsed.invoices.slice(start, start + MAX_BULK);
    const response = await api('POST', '/invoices', { invoices: batch.map((b) => b.invoice) });
    const body = response.body as {
      created?: number;
      updated?: number;
      error?: { message: string; details?: Array<{ field?: string; message: string }> };
    };
    if (response.status >= 400) {
      // The API refused the batch as a whole: report it against the rows it names.
      for (const detail of body.error?.details ?? [
        { message: body.error?.message ?? `HTTP ${response.status}` },
      ]) {
        const index = Number(/^body\.invoices\.(\d+)/.exec(detail.field ?? '')?.[1] ?? Number.NaN);
        const line = Number.isNaN(index) ? (batch[0]?.line ?? 0) : (batch[index]?.line ?? 0);
        problems.push({
          line,
          field: detail.field?.replace(/^body\.invoices\.\d+\.?/, '') || '(batch)',
          reason: detail.message,
        });
      }
    } else {
      created += body.created ?? 0;
      updated += body.updated ?? 0;
    }
    io.progress(bar(Math.min(start + batch.length, total), total));
  }
  io.progress('');
  io.out(
    `Imported into ${where}: ${created + updated} row(s) accepted (${created} new, ${updated} updated), ${problems.length} rejected.`,
  );
  for (const problem of problems.sort((a, b) => a.line - b.line))
    io.out(`  line ${problem.line}: ${problem.field}: ${problem.reason}`);
  return problems.length ? 1 : 0;
}

async function scanOnce(connect: Parameters<typeof invoicesCommand>[1], io: CliIo): Promise<number> {
  const { api, where } = await connect();
  const response = await api('POST', '/invoices/scans');
  const scan = response.body as {
    matched: number;
    enqueued: number;
    duplicates: number;
    rejected: number;
    invalidRecipients: number;
    error: string | null;
    error_message?: string;
  };
  if (response.status >= 400 || scan.error) {
    io.err(`The scan failed: ${scan.error ?? JSON.stringify(response.body)}`);
    return 1;
  }
  io.out(
    `Scanned ${where}: ${scan.matched} invoice(s) need review; ${scan.enqueued} alert(s) queued, ${scan.duplicates} already queued before, ${scan.rejected} rejected, ${scan.invalidRecipients} invalid recipient(s) skipped.`,
  );
  return 0;
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  return `Importing [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${total ? Math.round((done / total) * 100) : 100}% ${done}/${total} rows`;
}
