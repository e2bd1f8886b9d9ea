import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, freshDataDir, type Running, runCli, spawnCli } from './helpers/processes.ts';
import { waitFor } from './helpers/wait.ts';

const CSV = `id,vendor_name,total_amount,currency,matched_status,invoice_link
INV-1,Acme,4948.80,USD,NEEDS_REVIEW,https://ap.example.com/1
INV-2,"Globex, Inc.",12.345,USD,NEEDS_REVIEW,
INV-3,Initech,1500,JPY,MATCHED,
INV-4,Short row
INV-1,Again,1.00,USD,NEEDS_REVIEW,
`;

const children: Running[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await child.exited;
  }
});

function csvFile(dir: string, text = CSV): string {
  const file = path.join(dir, 'invoices.csv');
  writeFileSync(file, text);
  return file;
}

describe('switchboard invoices', () => {
  it('imports the good rows of a CSV, reports each bad row by line, then scans once', async () => {
    const dataDir = freshDataDir();
    const env = { DATA_DIR: dataDir, NOTIFICATION_RECIPIENTS: 'ap@example.com,+14155550100,nobody' };
    const imported = await runCli(['invoices', 'import', csvFile(dataDir)], env);
    expect(imported.code).toBe(1);
    expect(imported.stdout).toContain(
      `Imported into the embedded database in ${dataDir}: 2 row(s) accepted (2 new, 0 updated), 3 rejected.`,
    );
    expect(imported.stdout).toContain('line 3: total_amount: USD has 2 decimal place(s)');
    expect(imported.stdout).toContain('line 5: (row): columns length is 6, got 2 on line 5');
    expect(imported.stdout).toContain('line 6: id: INV-1 is already on line 2');

    const scan = await runCli(['invoices', 'scan', '--once'], env);
    expect(scan.code).toBe(0);
    expect(scan.stdout).toContain(
      '1 invoice(s) need review; 2 alert(s) queued, 0 already queued before, 0 rejected, 1 invalid recipient(s) skipped.',
    );
    const again = await runCli(['invoices', 'scan', '--once'], env);
    expect(again.stdout).toContain('0 alert(s) queued, 2 already queued before');
  });

  it('goes through the running server when it holds the embedded database', async () => {
    const dataDir = freshDataDir();
    const port = await freePort();
    const server = spawnCli(['start'], { DATA_DIR: dataDir, PORT: String(port) });
    children.push(server);
    await waitFor(
      'the server',
      async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.ok,
      60_000,
      100,
    );
    const imported = await runCli(
      [
        'invoices',
        'import',
        csvFile(
          dataDir,
          'id,vendor_name,total_minor,currency,matched_status\nA-1,Acme,100,USD,NEEDS_REVIEW\n',
        ),
      ],
      {
        DATA_DIR: dataDir,
      },
    );
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(
      `Imported into the running server at http://127.0.0.1:${port}: 1 row(s) accepted (1 new, 0 updated), 0 rejected.`,
    );
    const listed = (await (await fetch(`http://127.0.0.1:${port}/invoices/A-1`)).json()) as {
      total_minor: number;
    };
    expect(listed.total_minor).toBe(100);
  });

  it('refuses an unreadable file or unknown columns with exit 2 and writes nothing', async () => {
    const dataDir = freshDataDir();
    const missing = await runCli(['invoices', 'import', path.join(dataDir, 'nope.csv')], {
      DATA_DIR: dataDir,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    const unknown = await runCli(
      ['invoices', 'import', csvFile(dataDir, 'id,vendor,total_minor,currency,matched_status,colour\n')],
      { DATA_DIR: dataDir },
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown column(s): vendor, colour; missing column(s): vendor_name');
    const usage = await runCli(['invoices', 'frobnicate'], { DATA_DIR: dataDir });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('switchboard invoices import <file.csv>');
  });
});
