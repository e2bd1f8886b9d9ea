// Runs the real CLI as a child process with the same Node, for tests of what a user sees:
// exit codes, messages, signals.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CHILD_COVERAGE_ENV } from './child-coverage.ts';
import { copyPgliteTemplate, type TemplateOptions } from './databases.ts';

export const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
// The sources are served as the stripped-TypeScript cache holds them (src/boot/stripped-cache.mjs),
// as src/boot/run.mjs runs them when the bundle is stale: each start skips Node's type stripping,
// about a quarter of a CLI process's CPU (the suite starts a few hundred). The code and its line
// and column positions are what Node's own stripping makes, so child coverage maps the same.
const STRIPPED_CACHE = fileURLToPath(new URL('../../src/boot/stripped-cache.mjs', import.meta.url));

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<Finished>;
}

// Under `npm test` (coverage on) the child writes its V8 coverage where the report collects it.
const coverageDir = process.env[CHILD_COVERAGE_ENV];
const coverageEnv: Record<string, string> = coverageDir ? { NODE_V8_COVERAGE: coverageDir } : {};

/** The CLI (`entry`: src/cli.ts, or a bundle's cli.js) as a child process with only `env` set. */
export function spawnCli(args: string[], env: Record<string, string>, cwd = tmpdir(), entry = CLI): Running {
  const preload = entry.endsWith('.ts') ? ['--import', STRIPPED_CACHE] : [];
  const child = spawn(process.execPath, [...preload, entry, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...coverageEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<Finished>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exited, output: () => stdout + stderr };
}

export const runCli = (args: string[], env: Record<string, string>, cwd?: string) =>
  spawnCli(args, env, cwd).exited;

/** A DATA_DIR holding a PGlite cluster copied from the run's templates: migrated, or `empty`. */
export const freshDataDir = (options: TemplateOptions = {}): string => copyPgliteTemplate('cli-', options);

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
