// Cold start: wall time from spawning `switchboard start` to the first 200 from /health/ready, and
// the process's idle memory after that. A bare node:http server measured the same way is the
// floor: what is left above it is ours (imports, database open, migrations, pg-boss, Fastify).
//
//   node bench/cold-start.ts [--runs 3]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  createScratchDatabase,
  freePort,
  median,
  positiveIntArg,
  postgresReachable,
  round,
  type ScratchDatabase,
} from './support.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const POLL_MS = 20;
const READY_TIMEOUT_MS = 120_000;
// Long enough for start-up garbage to be collected and timers to settle, short enough to repeat.
const IDLE_MS = 2_000;

const { values } = parseArgs({ options: { runs: { type: 'string' } } });
const runs = positiveIntArg(values.runs, 3, 'runs');

interface Sample {
  readyMs: number;
  idleRssMiB: number;
}

async function measure(args: string[], env: Record<string, string>): Promise<Sample> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/health/ready`;
  const started = performance.now();
  // process.execPath: the same Node 24 that runs this script, never whatever `node` is on PATH.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept for the error message only: a child that dies before ready should say why.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const readyMs = await pollReady(url, child, started);
    if (readyMs === null) throw new Error(`child exited before ready (code ${child.exitCode}):\n${output}`);
    await sleep(IDLE_MS);
    return { readyMs, idleRssMiB: rssMiB(child.pid!) };
  } finally {
    await stop(child, exited);
  }
}

async function pollReady(url: string, child: ChildProcess, started: number): Promise<number | null> {
  while (performance.now() - started < READY_TIMEOUT_MS) {
    if (child.exitCode !== null || child.signalCode !== null) return null;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - started;
    } catch {
      // Not listening yet.
    }
    await sleep(POLL_MS);
  }
  throw new Error(`not ready after ${READY_TIMEOUT_MS} ms`);
}

async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

const BASELINE = ['-e', "require('http').createServer((q,s)=>s.end('ok')).listen(process.env.PORT)"];
const SERVICE = ['src/cli.ts', 'start'];
// Explicit empty values (read as "unset") so a developer's .env or shell cannot switch the
// PGlite runs to a server or add Redis.
const QUIET = { LOG_LEVEL: 'warn', REDIS_URL: '' };

const samples: Record<string, Sample[]> = { baseline: [], pgliteCold: [], pgliteWarm: [] };
const withPostgres = await postgresReachable();
if (withPostgres) Object.assign(samples, { postgresFresh: [], postgresMigrated: [] });

for (let run = 1; run <= runs; run++) {
  samples.baseline!.push(await measure(BASELINE, {}));

  // Fresh DATA_DIR: PGlite's initdb, every migration and pg-boss's install. Then the same
  // directory again: what a restart costs.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-bench-'));
  try {
    const env = { ...QUIET, DATA_DIR: dataDir, DATABASE_URL: '' };
    samples.pgliteCold!.push(await measure(SERVICE, env));
    samples.pgliteWarm!.push(await measure(SERVICE, env));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }

  if (withPostgres) {
    let db: ScratchDatabase | null = null;
    try {
      db = await createScratchDatabase();
      const env = { ...QUIET, DATABASE_URL: db.url };
      samples.postgresFresh!.push(await measure(SERVICE, env));
      samples.postgresMigrated!.push(await measure(SERVICE, env));
    } finally {
      await db?.drop();
    }
  }
  console.log(`run ${run}/${runs} done`);
}

const LABELS: Record<string, string> = {
  baseline: 'baseline (bare node:http)',
  pgliteCold: 'PGlite, empty DATA_DIR',
  pgliteWarm: 'PGlite, initialised DATA_DIR',
  postgresFresh: 'PostgreSQL, empty database',
  postgresMigrated: 'PostgreSQL, migrated database',
};
const floor = median(samples.baseline!.map((s) => s.readyMs));
const results: Record<
  string,
  { readyMs: number; samplesMs: number[]; vsBaseline: number; idleRssMiB: number }
> = {};
console.log(`\ncold start to first 200 from /health/ready, median of ${runs} (poll every ${POLL_MS} ms)`);
for (const [key, list] of Object.entries(samples)) {
  const readyMs = median(list.map((s) => s.readyMs));
  const idleRssMiB = median(list.map((s) => s.idleRssMiB));
  results[key] = {
    readyMs: round(readyMs),
    samplesMs: list.map((s) => round(s.readyMs)),
    vsBaseline: round(readyMs / floor, 1),
    idleRssMiB: round(idleRssMiB, 1),
  };
  console.log(
    `  ${LABELS[key]!.padEnd(31)} ${String(round(readyMs)).padStart(6)} ms` +
      `  (${round(readyMs / floor, 1)}x baseline)  idle RSS ${round(idleRssMiB)} MiB` +
      `  [runs: ${list.map((s) => round(s.readyMs)).join(', ')} ms]`,
  );
}
if (!withPostgres) console.log('  PostgreSQL: skipped (BENCH_DATABASE_URL not reachable)');
console.log(JSON.stringify({ benchmark: 'cold-start', runs, postgres: withPostgres, results }));
