// Cold start: wall time from spawning `switchboard start|http|worker` to the first 200 from
// /health/ready (or, for PayBot, to its answer to a first chat message), and the process's idle
// memory after that. A bare node:http server measured the same
// way, in the same run, is the floor: what is left above it is ours (imports, database open,
// migrations, pg-boss, Fastify). Each mode is measured with every bot and with one
// (SWITCHBOARD_APPS), and checked against the lean-process goals (issue 18).
//
//   node bench/cold-start.ts [--runs 3]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  createScratchDatabase,
  freePort,
  median,
  npmScriptArgs,
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

/** What "ready" means for a case: /health/ready answering 200, or PayBot answering a first message. */
type Probe = 'ready' | 'chat';
const CHAT_KEY = 'bench-cold-start-chat-key-0123456789';

async function measure(args: string[], env: Record<string, string>, probe: Probe = 'ready'): Promise<Sample> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${probe === 'chat' ? '/chat' : '/health/ready'}`;
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
    const readyMs = await pollReady(url, child, started, probe);
    if (readyMs === null) throw new Error(`child exited before ready (code ${child.exitCode}):\n${output}`);
    await sleep(IDLE_MS);
    return { readyMs, idleRssMiB: rssMiB(child.pid!) };
  } finally {
    await stop(child, exited);
  }
}

async function pollReady(
  url: string,
  child: ChildProcess,
  started: number,
  probe: Probe,
): Promise<number | null> {
  const chat = {
    method: 'POST',
    headers: { authorization: `Bearer ${CHAT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sessionId: 'cold-start', message: 'hello' }),
  };
  while (performance.now() - started < READY_TIMEOUT_MS) {
    if (child.exitCode !== null || child.signalCode !== null) return null;
    try {
      const response = await fetch(url, {
        ...(probe === 'chat' ? chat : {}),
        signal: AbortSignal.timeout(2000),
      });
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
// As `npm start` and `npm run worker` run them (package.json: src/boot/run.mjs, which starts the
// install-time bundle, and the worker's V8 flags); `http`, which has no script, as `start` with its
// mode changed.
const cli = (mode: 'start' | 'http' | 'worker') =>
  mode === 'http' ? [...npmScriptArgs('start').slice(0, -1), 'http'] : npmScriptArgs(mode);
// Explicit empty values (read as "unset") so a developer's .env or shell cannot switch the
// PGlite runs to a server or add Redis.
const QUIET = { LOG_LEVEL: 'warn', REDIS_URL: '' };

interface Case {
  label: string;
  args: string[];
  env: Record<string, string>;
  /**
   * The goal this case is held to: idle RSS (MiB), ready time as a multiple of the bare server,
   * and ready time itself (ms).
   */
  goal?: { rssMiB?: number; readyX?: number; readyMs?: number };
  probe?: Probe;
}

/** Every mode on a migrated PostgreSQL: all bots, then one. */
const postgresCases = (url: string): Case[] => {
  const env = { ...QUIET, DATABASE_URL: url };
  return [
    { label: 'start, all bots', args: cli('start'), env, goal: { readyX: 5 } },
    { label: 'http, all bots', args: cli('http'), env, goal: { rssMiB: 256, readyX: 5 } },
    { label: 'worker, all bots', args: cli('worker'), env, goal: { rssMiB: 128, readyX: 5 } },
    {
      label: 'http, payments only',
      args: cli('http'),
      env: { ...env, SWITCHBOARD_APPS: 'payments' },
      goal: { rssMiB: 256, readyX: 5 },
    },
    {
      label: 'worker, invoices only',
      args: cli('worker'),
      env: { ...env, SWITCHBOARD_APPS: 'invoices' },
      goal: { rssMiB: 128, readyX: 5 },
    },
    // `npm start` as a customer meets it: from spawn to PayBot's answer to "hello" on POST /chat.
    {
      label: 'start, PayBot first answered message',
      args: cli('start'),
      env: { ...env, CHAT_API_KEYS: CHAT_KEY },
      goal: { readyMs: 1000 },
      probe: 'chat',
    },
  ];
};

const samples = new Map<string, { group: string; goal: Case['goal']; list: Sample[] }>();
const record = (group: string, c: Pick<Case, 'label' | 'goal'>, sample: Sample) => {
  const key = `${group}: ${c.label}`;
  const entry = samples.get(key) ?? { group, goal: c.goal, list: [] };
  entry.list.push(sample);
  samples.set(key, entry);
};
const withPostgres = await postgresReachable();
const loadBefore = loadavg();

for (let run = 1; run <= runs; run++) {
  record('baseline', { label: 'bare node:http' }, await measure(BASELINE, {}));

  // Fresh DATA_DIR: PGlite's initdb, every migration and pg-boss's install. Then the same
  // directory again: what a restart costs.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-bench-'));
  try {
    const env = { ...QUIET, DATA_DIR: dataDir, DATABASE_URL: '' };
    record('PGlite', { label: 'start, empty DATA_DIR' }, await measure(cli('start'), env));
    record(
      'PGlite',
      { label: 'start, initialised DATA_DIR', goal: { rssMiB: 400, readyMs: 1500 } },
      await measure(cli('start'), env),
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }

  if (withPostgres) {
    let db: ScratchDatabase | null = null;
    try {
      db = await createScratchDatabase();
      const cases = postgresCases(db.url);
      record('PostgreSQL', { label: 'start, empty database' }, await measure(cli('start'), cases[0]!.env));
      for (const c of cases) record('PostgreSQL migrated', c, await measure(c.args, c.env, c.probe));
    } finally {
      await db?.drop();
    }
  }
  console.log(`run ${run}/${runs} done`);
}

const loadAfter = loadavg();
const floor = median(samples.get('baseline: bare node:http')!.list.map((s) => s.readyMs));
const results: Record<
  string,
  { readyMs: number; samplesMs: number[]; vsBaseline: number; idleRssMiB: number; goalMet: boolean | null }
> = {};
const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
console.log(
  `\ncold start to first 200 from /health/ready, median of ${runs} (poll every ${POLL_MS} ms);` +
    ` load average ${load(loadBefore)} before, ${load(loadAfter)} after`,
);
for (const [key, { goal, list }] of samples) {
  const readyMs = median(list.map((s) => s.readyMs));
  const idleRssMiB = median(list.map((s) => s.idleRssMiB));
  const vsBaseline = readyMs / floor;
  const checks = [
    ...(goal?.rssMiB ? [{ ok: idleRssMiB <= goal.rssMiB, text: `RSS <= ${goal.rssMiB} MiB` }] : []),
    ...(goal?.readyX ? [{ ok: vsBaseline <= goal.readyX, text: `ready <= ${goal.readyX}x` }] : []),
    ...(goal?.readyMs ? [{ ok: readyMs <= goal.readyMs, text: `ready <= ${goal.readyMs} ms` }] : []),
  ];
  results[key] = {
    readyMs: round(readyMs),
    samplesMs: list.map((s) => round(s.readyMs)),
    vsBaseline: round(vsBaseline, 1),
    idleRssMiB: round(idleRssMiB, 1),
    goalMet: checks.length ? checks.every((c) => c.ok) : null,
  };
  const verdict = checks.map((c) => `${c.ok ? 'met' : 'MISSED'}: ${c.text}`).join(', ');
  console.log(
    `  ${key.padEnd(50)} ${String(round(readyMs)).padStart(6)} ms` +
      `  (${round(vsBaseline, 1)}x baseline)  idle RSS ${String(round(idleRssMiB)).padStart(4)} MiB` +
      `  [runs: ${list.map((s) => round(s.readyMs)).join(', ')} ms]${verdict ? `  goal ${verdict}` : ''}`,
  );
}
if (!withPostgres) console.log('  PostgreSQL: skipped (BENCH_DATABASE_URL not reachable)');
console.log(
  JSON.stringify({
    benchmark: 'cold-start',
    runs,
    postgres: withPostgres,
    loadAverage: { before: loadBefore, after: loadAfter },
    results,
  }),
);
