import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDataDir, runCli } from './helpers/processes.ts';

const CSV = `phone,time_zone,window,name
+1 212 555 0101,America/New_York,09:00-11:00,Ada
+442071838750,,,"Grace, H."
+1 212 555 0102,Mars/Olympus,,
12345,UTC,,
+1 212 555 0103,,,
+1 212 555 0101,America/Chicago,,Ada again
`;

describe('switchboard daily', () => {
  it('imports the good rows of a CSV (duplicates merged), reports each bad row by line, then plans once', async () => {
    const dataDir = freshDataDir();
    const file = path.join(dataDir, 'subscribers.csv');
    writeFileSync(file, CSV);
    const imported = await runCli(['daily', 'import', file], { DATA_DIR: dataDir });
    expect(imported.code).toBe(1);
    expect(imported.stdout).toContain(
      `Imported into the embedded database in ${dataDir}: 2 subscriber(s) accepted (2 new, 0 merged), 3 rejected.`,
    );
    expect(imported.stdout).toContain('line 4: timeZone: "Mars/Olympus" is not an IANA time zone');
    expect(imported.stdout).toContain('line 5: phone:');
    expect(imported.stdout).toContain('line 6: timeZone: cannot tell the time zone of +12125550103');

    const plan = await runCli(['daily', 'plan', '--once'], { DATA_DIR: dataDir });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(
      /Planned the embedded database in .*: 2 message\(s\) queued, 0 over DAILY_QUOTA\./,
    );
    const again = await runCli(['daily', 'plan', '--once'], { DATA_DIR: dataDir });
    expect(again.stdout).toContain('0 message(s) queued');

    const bad = await runCli(['daily', 'import', path.join(dataDir, 'missing.csv')], { DATA_DIR: dataDir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no such file');
  });
});
