// Reads invoices from a CSV file (header row first). Each row is checked on its own and reported by
// its line number; a bad row is skipped with its reasons and never half-written. Amounts come as
// `total_minor` (whole minor units) or `total_amount` (a decimal such as 4948.80, converted exactly).
import { type RowProblem, readCsvRecords } from '../../platform/cli/app-command.ts';
import { minorDigits } from '../../platform/money.ts';
import { type NewInvoice, newInvoice } from './invoice-input.ts';

export interface ParsedCsv {
  invoices: Array<{ line: number; invoice: NewInvoice }>;
  problems: RowProblem[];
}

const REQUIRED = ['id', 'vendor_name', 'currency', 'matched_status'];
const KNOWN = new Set([...REQUIRED, 'total_minor', 'total_amount', 'invoice_link']);

export function parseInvoiceCsv(text: string): ParsedCsv {
  const read = readCsvRecords(text, (header) => {
    const unknown = header.filter((name) => !KNOWN.has(name));
    const missing = REQUIRED.filter((name) => !header.includes(name));
    if (!header.includes('total_minor') && !header.includes('total_amount'))
      missing.push('total_minor or total_amount');
    if (!unknown.length && !missing.length) return null;
    return [
      unknown.length ? `unknown column(s): ${unknown.join(', ')}` : '',
      missing.length ? `missing column(s): ${missing.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
  });
  // csv-parse labels a short or long row with its error name; the line and the counts say it all.
  const problems = read.problems.map((problem) => ({
    ...problem,
    reason: problem.reason.replace(/^Invalid Record Length: /, ''),
  }));

  const seen = new Map<string, number>();
  const invoices: ParsedCsv['invoices'] = [];
  for (const { record, line } of read.records) {
    const amount = toMinor(record);
    if ('reason' in amount) {
      problems.push({ line, field: amount.field, reason: amount.reason });
      continue;
    }
    const parsed = newInvoice.safeParse({
      id: record.id,
      vendor_name: record.vendor_name,
      total_minor: amount.minor,
      currency: record.currency,
      matched_status: record.matched_status,
      invoice_link: record.invoice_link ? record.invoice_link : null,
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push({ line, field: issue.path.join('.') || '(row)', reason: issue.message });
      continue;
    }
    const earlier = seen.get(parsed.data.id);
    if (earlier !== undefined) {
      problems.push({ line, field: 'id', reason: `${parsed.data.id} is already on line ${earlier}` });
      continue;
    }
    seen.set(parsed.data.id, line);
    invoices.push({ line, invoice: parsed.data });
  }
  problems.sort((a, b) => a.line - b.line);
  return { invoices, problems };
}

function toMinor(record: Record<string, string>): { minor: number } | { field: string; reason: string } {
  if (record.total_minor !== undefined && record.total_minor !== '') {
    if (!/^-?\d+$/.test(record.total_minor))
      return { field: 'total_minor', reason: 'a whole number of minor units (cents)' };
    return { minor: Number(record.total_minor) };
  }
  const text = record.total_amount ?? '';
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.replace(/,/g, ''));
  if (!match) return { field: 'total_amount', reason: 'a decimal amount such as 4948.80' };
  const currency = (record.currency ?? '').trim().toUpperCase();
  let digits: number;
  try {
    digits = minorDigits(currency);
  } catch {
    return { field: 'currency', reason: 'an ISO 4217 currency code such as USD' };
  }
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > digits)
    return { field: 'total_amount', reason: `${currency} has ${digits} decimal place(s)` };
  // Exact: digits are joined as text, never multiplied as a float.
  const minor = BigInt(`${sign}${whole}${fraction.padEnd(digits, '0')}`);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < -BigInt(Number.MAX_SAFE_INTEGER))
    return { field: 'total_amount', reason: 'too large' };
  return { minor: Number(minor) };
}
