// Helpers shared by the benchmarks. Nothing here is measured: it sets up and tears down.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { type Database, openDatabase } from '../src/platform/db/database.ts';
import { runMigrations } from '../src/platform/db/migrate.ts';
import { createLogger } from '../src/platform/log.ts';

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round = (value: number, digits = 0) => Number(value.toFixed(digits));

export function positiveIntArg(value: string | boolean | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a positive integer`);
  return n;
}

/** True when the server answers; a short timeout so a machine without PostgreSQL skips quickly. */
export async function postgresReachable(url = BENCH_DATABASE_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  url: string;
  /** Drops it, closing whatever connections a crashed run left behind. */
  drop(): Promise<void>;
}

/** A new, empty database on the benchmark server, so every run pays the full migration cost. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `sb_bench_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database ${name}`));
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}

/**
 * A production PostgreSQL analyzes a table that grew by hundreds of thousands of rows within a
 * minute (autovacuum). This machine's server runs with autovacuum off (its conf.d/90-ci.conf), so
 * such a table keeps the statistics of an empty one and the planner picks plans made for a few rows:
 * pg-boss's fetch over 200,000 queued jobs took 15 s a call instead of milliseconds. Where autovacuum
 * is off, this does what it would do: ANALYZE the database every `intervalMs` while the run lasts.
 */
export async function analyzeLikeAutovacuum(
  url: string,
  intervalMs = 10_000,
): Promise<{ emulated: boolean; stop: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ autovacuum: string }>('show autovacuum');
  if (rows[0]?.autovacuum === 'on') {
    await client.end();
    return { emulated: false, stop: async () => {} };
  }
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => client.query('analyze').catch(() => {}));
  }, intervalMs);
  return {
    emulated: true,
    stop: async () => {
      clearInterval(timer);
      await running;
      await client.end();
    },
  };
}

export const ROOT = path.resolve(import.meta.dirname, '..');
export const CLI = path.join(ROOT, 'src', 'cli.ts');

/** CPU time (user + system) a process has used so far, from /proc (Linux), in milliseconds. */
export function cpuMs(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** VmHWM: the most resident memory the process has had, in MiB. */
export function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Worker {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
  output(): string;
}

/**
 * Node's arguments for an npm script of package.json (`"worker": "node <flags> src/boot/run.mjs
 * worker"`): a benchmark starts the service exactly as `npm start` / `npm run worker` do, from the
 * install-time bundle when it is current (src/boot/run.mjs) and with the V8 flags given there.
 */
export function npmScriptArgs(name: 'start' | 'worker'): string[] {
  const scripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<
    string,
    string
  >;
  const [node, ...args] = (scripts[name] ?? '').split(/\s+/);
  if (node !== 'node' || !args.includes('src/boot/run.mjs'))
    throw new Error(`package.json's "${name}" script is not "node ... src/boot/run.mjs ${name}"`);
  // Relative to the repository, as npm runs it, wherever the benchmark was started from.
  return args.map((arg) => (arg.startsWith('./') || arg.startsWith('src/') ? path.join(ROOT, arg) : arg));
}

/** The worker as `npm run worker` starts it. */
export const WORKER_ARGS = npmScriptArgs('worker');

/** `npm run worker`'s command with only the given environment (and PATH); resolves once ready. */
export async function spawnWorker(env: Record<string, string>): Promise<Worker> {
  const port = await freePort();
  // process.execPath: the same Node 24 that runs this script.
  const child = spawn(process.execPath, WORKER_ARGS, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      // To profile the worker a bench runs: BENCH_WORKER_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
      ...(process.env.BENCH_WORKER_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS }
        : {}),
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker: Worker = { child, port, exited, output: () => output };
  const started = Date.now();
  while (Date.now() - started < 60_000) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the worker exited before it was ready:\n${output}`);
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
    await response?.arrayBuffer();
    if (response?.status === 200) return worker;
    await sleep(50);
  }
  await stopWorker(worker);
  throw new Error(`the worker was not ready after 60 s:\n${output}`);
}

/**
 * Drops a scratch database once the connections closed on our side have gone on the server's too:
 * pg's pool.end() resolves before its clients' sockets are closed, and a forced drop in that
 * moment terminates them, which their pools report as errors.
 */
export async function dropWhenIdle(scratch: ScratchDatabase): Promise<void> {
  const name = new URL(scratch.url).pathname.slice(1);
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  try {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = $1',
        [name],
      );
      if (rows[0]!.n === 0) break;
      await sleep(20);
    }
  } finally {
    await client.end();
  }
  await scratch.drop();
}

export async function stopWorker(worker: Worker): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), 30_000);
  await worker.exited;
  clearTimeout(timer);
}

/**
 * A database of its own for one measurement, so no run inherits another's tables, bloat or caches:
 * a new PGlite directory, or a new database on the benchmark server (dropped once idle). With
 * `migrate`, the service's migrations are applied first.
 */
export async function withScratchDatabase<T>(
  backend: 'pglite' | 'postgres',
  fn: (db: Database) => Promise<T>,
  options: { migrate?: boolean } = {},
): Promise<T> {
  const log = createLogger(loadConfig({ LOG_LEVEL: 'silent', LOG_FORMAT: 'json' }));
  const dir = backend === 'pglite' ? mkdtempSync(path.join(tmpdir(), 'sb-bench-')) : null;
  const scratch = backend === 'postgres' ? await createScratchDatabase() : null;
  // Through loadConfig so the pool gets the service's default DATABASE_POOL_MAX.
  const database = scratch
    ? loadConfig({ DATABASE_URL: scratch.url }).database
    : { kind: 'pglite' as const, dataDir: dir as string };
  const db = await openDatabase(database, { log, command: 'bench' });
  try {
    if (options.migrate) await runMigrations(db);
    return await fn(db);
  } finally {
    await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (scratch) await dropWhenIdle(scratch);
  }
}
