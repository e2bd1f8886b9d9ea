// `npm run bench`: every benchmark in turn, each in its own process so one's heap, JIT and open
// handles cannot colour the next one's figures. Each runs with its defaults; run a script directly
// to change its size (node bench/cold-start.ts --runs 5, node bench/jobs-throughput.ts --jobs 1000).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const BENCHMARKS = [
  'cold-start.ts',
  'sizing.ts',
  'jobs-throughput.ts',
  'outbox.ts',
  'faults.ts',
  'invoices.ts',
  'daily.ts',
  'credits.ts',
  'credits-model.ts',
  'chat.ts',
  'fuzz.ts',
];

let failed = 0;
for (const file of BENCHMARKS) {
  console.log(`\n=== ${file} ===`);
  // process.execPath: the Node 24 running this script, which type-strips the .ts files.
  const result = spawnSync(process.execPath, [path.join(import.meta.dirname, file)], {
    cwd: path.resolve(import.meta.dirname, '..'),
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    failed++;
    console.error(`${file} failed (${result.signal ?? `exit ${result.status}`})`);
  }
}
process.exitCode = failed ? 1 : 0;
