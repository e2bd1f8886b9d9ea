// What `switchboard invoices import` and `switchboard daily import` tell a person about a bad file:
// each rejected row by its line, the column and why, while the good rows still go in; a header
// that names the wrong columns refuses the whole file with the columns to fix.
import { describe, expect, it } from 'vitest';
import { parseSubscriberCsv } from '../src/apps/daily/csv-import.ts';
import { parseInvoiceCsv } from '../src/apps/invoices/csv-import.ts';
import { CsvHeaderError } from '../src/platform/cli/app-command.ts';

const HEADER = 'id,vendor_name,total_amount,currency,matched_status';

describe('an invoice CSV with bad rows', () => {
  it('reports each bad row by line and column, and keeps the good ones', () => {
    const { invoices, problems } = parseInvoiceCsv(
      [
        HEADER,
        'INV-1,Acme,"4,948.80",USD,NEEDS_REVIEW',
        'INV-2,Acme,12.345,USD,NEEDS_REVIEW', // three decimals for a two-decimal currency
        'INV-3,Acme,ten,USD,NEEDS_REVIEW',
        'INV-4,Acme,10.00,XXQ,NEEDS_REVIEW',
        'INV-5,Acme,99999999999999999999,USD,NEEDS_REVIEW',
        'INV-1,Acme,1.00,USD,NEEDS_REVIEW', // the same id again
        'INV-6,Acme,1.00,USD', // a field short
        'INV-7,Acme,500,JPY,NEEDS_REVIEW',
      ].join('\n'),
    );
    expect(invoices.map((row) => [row.line, row.invoice.id, row.invoice.total_minor])).toEqual([
      [2, 'INV-1', 494880],
      [9, 'INV-7', 500],
    ]);
    expect(problems).toEqual([
      { line: 3, field: 'total_amount', reason: 'USD has 2 decimal place(s)' },
      { line: 4, field: 'total_amount', reason: 'a decimal amount such as 4948.80' },
      { line: 5, field: 'currency', reason: 'an ISO 4217 currency code such as USD' },
      { line: 6, field: 'total_amount', reason: 'too large' },
      { line: 7, field: 'id', reason: 'INV-1 is already on line 2' },
      { line: 8, field: '(row)', reason: 'columns length is 5, got 4 on line 8' },
    ]);
  });

  it('takes whole minor units in total_minor, and refuses anything else there', () => {
    const { invoices, problems } = parseInvoiceCsv(
      [
        'id,vendor_name,total_minor,currency,matched_status',
        'A,V,1250,EUR,NEEDS_REVIEW',
        'B,V,12.50,EUR,NEEDS_REVIEW',
      ].join('\n'),
    );
    expect(invoices.map((row) => row.invoice.total_minor)).toEqual([1250]);
    expect(problems).toEqual([
      { line: 3, field: 'total_minor', reason: 'a whole number of minor units (cents)' },
    ]);
  });

  it('refuses a header with unknown or missing columns, naming them', () => {
    expect(() => parseInvoiceCsv('id,vendor,amount\nA,V,1')).toThrow(CsvHeaderError);
    expect(() => parseInvoiceCsv('id,vendor,amount\nA,V,1')).toThrow(
      'unknown column(s): vendor, amount; missing column(s): vendor_name, currency, matched_status, total_minor or total_amount',
    );
  });
});

describe('a subscriber CSV with bad rows', () => {
  const defaults = { window: { startMinute: 12 * 60, endMinute: 17 * 60 }, defaultRegion: 'US' };

  it('reports each bad row by line and column, and keeps the good ones', () => {
    const { subscribers, problems } = parseSubscriberCsv(
      [
        'phone,time_zone,window',
        '+14155550101,America/New_York,',
        'not a phone,,',
        '+14155550102,Mars/Olympus,',
      ].join('\n'),
      defaults,
    );
    expect(subscribers.map((row) => [row.line, row.subscriber.phone])).toEqual([[2, '+14155550101']]);
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [3, 'phone'],
      [4, 'timeZone'],
    ]);
    for (const problem of problems) expect(problem.reason.length).toBeGreaterThan(5);
  });

  it('refuses a header without phone or with unknown columns', () => {
    expect(() => parseSubscriberCsv('name,email\nAda,a@example.com', defaults)).toThrow(
      'the header must name phone and may name time_zone, window, name, language (unknown: email)',
    );
  });
});
