// `switchboard invoices import` in-process against the real service (PGlite): a file bigger than
// one bulk request goes in batches with a progress bar and lands whole in the database; what the
// operator reads when the server refuses a batch (by row, or as a whole), when the file cannot be
// read, and when its header is wrong. Exit codes: 0 all accepted, 1 some rejected, 2 unreadable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicesApp } from '../src/apps/invoices/app.ts';
import { invoicesCommand } from '../src/apps/invoices/cli.ts';
import { type Api, type CliIo, progressBar } from '../src/platform/cli/app-command.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'csv-import-'));
const file = (name: string, text: string) => {
  const at = path.join(dir, name);
  writeFileSync(at, text);
  return at;
};
const HEADER = 'id,vendor_name,total_minor,currency,matched_status,invoice_link\n';
const rows = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => `B-${from + i},Vendor ${from + i},${100 + i},USD,NEEDS_REVIEW,\n`).join(
    '',
  );

/** What the command printed: its lines on stdout, stderr, and the progress bar's redraws. */
function capture(): CliIo & { out_: string[]; err_: string[]; progress_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  const progress_: string[] = [];
  return {
    out_,
    err_,
    progress_,
    out: (line) => out_.push(line),
    err: (line) => err_.push(line),
    progress: (line) => progress_.push(line),
  };
}

describe('importing a CSV in batches', () => {
  let running: TestService;
  /** The service API as src/cli.ts hands it over, through the real routes. */
  const api: Api = async (method, url, body) => {
    const response = await running.service.app.inject({
      method,
      url,
      ...(body ? { payload: body as object } : {}),
    });
    return { status: response.statusCode, body: response.json() };
  };
  const connect = async () => ({ api, where: 'the test service' });

  beforeAll(async () => {
    running = await startTestService('pglite', { apps: [invoicesApp] });
  });
  afterAll(() => running?.dispose());

  it('posts 1,205 rows as two bulk requests, shows the progress, and stores every row', async () => {
    const io = capture();
    const code = await invoicesCommand(['import', file('big.csv', HEADER + rows(1205))], connect, io);
    expect(code).toBe(0);
    expect(io.out_).toEqual([
      'Imported into the test service: 1205 row(s) accepted (1205 new, 0 updated), 0 rejected.',
    ]);
    expect(io.progress_).toEqual([
      `Importing [${'#'.repeat(25)}${'.'.repeat(5)}] 83% 1000/1205 rows`,
      `Importing [${'#'.repeat(30)}] 100% 1205/1205 rows`,
      '',
    ]);
    const [stored] = await running.service.db.query<{ n: number }>(
      "select count(*)::int as n from invoices where id like 'B-%'",
    );
    expect(stored?.n).toBe(1205);

    // Again with two rows changed: updates, counted as such over the batches.
    const again = capture();
    const changed = `${HEADER}B-1,Vendor One Renamed,100,USD,NEEDS_REVIEW,\nB-2000,New vendor,5,USD,MATCHED,\n`;
    expect(await invoicesCommand(['import', file('again.csv', changed)], connect, again)).toBe(0);
    expect(again.out_[0]).toBe(
      'Imported into the test service: 2 row(s) accepted (1 new, 1 updated), 0 rejected.',
    );
  });

  it('reports a batch the server refuses against the rows it names, or the batch as a whole', async () => {
    const refusing: Api = async () => ({
      status: 400,
      body: {
        error: {
          code: 'invalid_input',
          message: 'Invalid request',
          details: [
            { field: 'body.invoices.1.vendor_name', message: 'too long for this server' },
            { field: 'body.invoices', message: 'too many rows' },
          ],
        },
      },
    });
    const io = capture();
    const code = await invoicesCommand(
      ['import', file('refused.csv', HEADER + rows(3, 50))],
      async () => ({ api: refusing, where: 'an older server' }),
      io,
    );
    expect(code).toBe(1);
    expect(io.out_).toEqual([
      'Imported into an older server: 0 row(s) accepted (0 new, 0 updated), 2 rejected.',
      // Row 1 of the batch is line 3 of the file (the header is line 1); the unnamed one, the batch's first.
      '  line 2: body.invoices: too many rows',
      '  line 3: vendor_name: too long for this server',
    ]);

    const down: Api = async () => ({ status: 503, body: {} });
    const io2 = capture();
    expect(
      await invoicesCommand(
        ['import', file('down.csv', HEADER + rows(2, 60))],
        async () => ({ api: down, where: 'x' }),
        io2,
      ),
    ).toBe(1);
    expect(io2.out_.slice(1)).toEqual(['  line 2: (batch): HTTP 503']);
  });

  it('imports the good rows of a file with a short row, reporting that row by its line (exit 1)', async () => {
    const io = capture();
    const mixed = `${HEADER}${rows(1, 3000)}B-3001,Short row\n${rows(1, 3002)}`;
    expect(await invoicesCommand(['import', file('mixed.csv', mixed)], connect, io)).toBe(1);
    expect(io.out_).toEqual([
      'Imported into the test service: 2 row(s) accepted (2 new, 0 updated), 1 rejected.',
      '  line 3: (row): columns length is 6, got 2 on line 3',
    ]);
    const stored = await running.service.db.query<{ id: string }>(
      "select id from invoices where id in ('B-3000', 'B-3001', 'B-3002') order by id",
    );
    expect(stored.map((r) => r.id)).toEqual(['B-3000', 'B-3002']);
  });

  it('refuses a missing file, a directory and a wrong header with exit code 2, importing nothing', async () => {
    const never = async () => {
      throw new Error('no connection should be opened for a file that cannot be imported');
    };
    const missing = capture();
    expect(await invoicesCommand(['import', path.join(dir, 'nope.csv')], never, missing)).toBe(2);
    expect(missing.err_).toEqual([`Cannot read ${path.join(dir, 'nope.csv')}: no such file`]);

    const directory = capture();
    expect(await invoicesCommand(['import', dir], never, directory)).toBe(2);
    expect(directory.err_[0]).toMatch(new RegExp(`^Cannot read ${dir}: EISDIR`));

    const header = capture();
    const wrong = file(
      'wrong.csv',
      'id,vendor,total_minor,currency,matched_status,colour\nX,Y,1,USD,MATCHED,red\n',
    );
    expect(await invoicesCommand(['import', wrong], never, header)).toBe(2);
    expect(header.err_).toEqual([
      `${wrong} cannot be imported: unknown column(s): vendor, colour; missing column(s): vendor_name`,
    ]);
  });

  it('draws an empty file’s progress as done', () => {
    expect(progressBar(0, 0, 'rows')).toBe(`Importing [${'#'.repeat(30)}] 100% 0/0 rows`);
  });
});
