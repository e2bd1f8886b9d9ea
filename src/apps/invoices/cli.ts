// `switchboard invoices import <file.csv>` and `switchboard invoices scan --once`. Both talk to the
// invoices API (in-process, or the running server's), so they validate and write exactly as the API does.
import { type CliIo, type Connect, importCsv } from '../../platform/cli/app-command.ts';
import { parseInvoiceCsv } from './csv-import.ts';
import { MAX_BULK } from './routes.ts';

export const INVOICES_USAGE = `Usage:
  switchboard invoices import <file.csv>   add or replace invoices from a CSV file (header row:
                                           id, vendor_name, total_minor or total_amount, currency,
                                           matched_status, invoice_link)
  switchboard invoices scan --once         scan for invoices needing review now, queue the alerts, exit`;

/** Exit codes: 0 done, 1 some rows or the scan failed, 2 usage or an unreadable file. */
export async function invoicesCommand(args: string[], connect: Connect, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'help' && rest.length === 0) {
    io.out(INVOICES_USAGE);
    return 0;
  }
  if (sub === 'import' && rest.length === 1) return importInvoices(rest[0] as string, connect, io);
  if (sub === 'scan' && rest.length === 1 && rest[0] === '--once') return scanOnce(connect, io);
  io.err(INVOICES_USAGE);
  return 2;
}

function importInvoices(file: string, connect: Connect, io: CliIo): Promise<number> {
  return importCsv(
    {
      file,
      parse: (text) => {
        const parsed = parseInvoiceCsv(text);
        return {
          rows: parsed.invoices.map((row) => ({ line: row.line, value: row.invoice })),
          problems: parsed.problems,
        };
      },
      url: '/invoices',
      key: 'invoices',
      maxBulk: MAX_BULK,
      unit: 'rows',
      summary: (where, { created = 0, updated = 0 }, rejected) =>
        `Imported into ${where}: ${created + updated} row(s) accepted (${created} new, ${updated} updated), ${rejected} rejected.`,
    },
    connect,
    io,
  );
}

async function scanOnce(connect: Connect, io: CliIo): Promise<number> {
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
