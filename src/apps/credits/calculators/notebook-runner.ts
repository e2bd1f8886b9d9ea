// One notebook run: Jupyter (`jupyter nbconvert --to notebook --execute`) on a scratch copy, under a
// watchdog (notebook-watchdog.py) that is the leader of a process group of its own and ends everything
// the run started. The run is ended on timeout, on abort (job expiry, shutdown) and, through the
// watchdog reading EOF on its stdin, when this process dies. The scratch folder (the notebook with its
// SQL and rows, the kernel's connection file) is removed in every case, and folders left by a process
// that no longer runs are swept at start. The kernel gets only the environment it is given.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CreditError } from '../credit-error.ts';
import { type Cell, hasTag, joined, type Notebook, stripAnsi } from './notebook-format.ts';

export const SCRATCH_PREFIX = 'switchboard-notebook-';
const WATCHDOG = fileURLToPath(new URL('./notebook-watchdog.py', import.meta.url));
// The system's Python for the watchdog (standard library only), not a version manager's shim
// that would add its own entries to the kernel's PATH.
const WATCHDOG_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const OWNER_FILE = 'owner.pid';
/** How long the watchdog gets to end the run before its whole group is killed outright. */
const KILL_GRACE_MS = 3000;
/** The watchdog's exit code when the jupyter command cannot be started. */
const CANNOT_START = 127;

export interface RunSettings {
  jupyter: string;
  kernel: string;
  timeoutMs: number;
  /** The kernel's whole environment (see kernelEnvironment). */
  env: Record<string, string>;
  /** The folder scratch folders go in (the system's temporary folder by default). */
  scratchRoot?: string;
}

export interface RunHooks {
  signal?: AbortSignal;
  /** Called with the process group id once the run has started (tests check it is gone after). */
  onStart?: (pgid: number) => void;
}

export interface ExecutedNotebook {
  notebook: Notebook;
  kernelMs: number;
}

export async function executeNotebook(
  notebook: Notebook,
  settings: RunSettings,
  hooks: RunHooks = {},
): Promise<ExecutedNotebook> {
  const root = settings.scratchRoot ?? tmpdir();
  const dir = await mkdtemp(path.join(root, SCRATCH_PREFIX));
  try {
    await writeFile(path.join(dir, OWNER_FILE), String(process.pid));
    const input = path.join(dir, 'input.ipynb');
    await writeFile(input, JSON.stringify(notebook));
    const started = Date.now();
    const result = await runJupyter(settings, dir, input, hooks);
    const kernelMs = Date.now() - started;
    let executed: Notebook;
    try {
      executed = JSON.parse(await readFile(path.join(dir, 'output.ipynb'), 'utf8')) as Notebook;
    } catch {
      throw new CreditError(
        'notebook_failed',
        `Jupyter did not run the notebook (exit ${result.code}): ${lastLines(result.stderr)}`,
      );
    }
    const failure = firstError(executed);
    if (failure) throw new CreditError('notebook_failed', failure);
    return { notebook: executed, kernelMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One line naming the failing cell as Jupyter shows it (`In [5]`, its execution count), its first
 * line of code, the exception and its value.
 */
export function firstError(notebook: Notebook): string | null {
  const cells = notebook.cells;
  const at = cells.findIndex((cell) => cell.outputs?.some((o) => o.output_type === 'error'));
  if (at < 0) return null;
  const cell = cells[at] as Cell;
  const error = cell.outputs?.find((o) => o.output_type === 'error');
  const value = oneLine(stripAnsi(error?.evalue ?? ''), 300);
  const exception = `${error?.ename ?? 'Error'}${value ? `: ${value}` : ''}`;
  if (hasTag(cell, 'injected-parameters')) return `the injected parameters cell failed: ${exception}`;
  const code = joined(cell.source)
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line && !line.startsWith('#'));
  const number =
    typeof cell.execution_count === 'number'
      ? `cell In [${cell.execution_count}]`
      : `code cell ${cells.slice(0, at + 1).filter((c) => c.cell_type === 'code' && !hasTag(c, 'injected-parameters')).length}`;
  return `notebook ${number}${code ? ` (${oneLine(code, 80)})` : ''} failed: ${exception}`;
}

const oneLine = (text: string, limit: number) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > limit ? `${line.slice(0, limit - 1)}…` : line;
};

const lastLines = (text: string) =>
  stripAnsi(text).trim().split('\n').slice(-3).join(' | ').slice(0, 600) || 'no output';

function runJupyter(
  settings: RunSettings,
  cwd: string,
  input: string,
  hooks: RunHooks,
): Promise<{ code: number | null; stderr: string }> {
  const seconds = Math.ceil(settings.timeoutMs / 1000);
  const args = [
    WATCHDOG,
    settings.jupyter,
    'nbconvert',
    '--to',
    'notebook',
    '--execute',
    // Errors are recorded in the output notebook, so the failing cell can be named.
    '--allow-errors',
    // Our own timer ends the whole run; nbclient's per-cell limit (30 s by default) must not come first.
    `--ExecutePreprocessor.timeout=${seconds + 60}`,
    `--ExecutePreprocessor.kernel_name=${settings.kernel}`,
    '--output',
    'output.ipynb',
    input,
  ];
  return new Promise((resolve, reject) => {
    if (hooks.signal?.aborted) {
      reject(stopped());
      return;
    }
    const env = { ...settings.env, JUPYTER_RUNTIME_DIR: path.join(cwd, 'runtime') };
    // detached: a process group of its own, so nothing of it is left in ours.
    const child = spawn(WATCHDOG_PYTHON, args, {
      cwd,
      env,
      detached: true,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    let ending: 'timeout' | 'abort' | null = null;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
    });
    // Switchboard never writes: the pipe is only there to close.
    child.stdin?.on('error', () => {});
    if (child.pid) hooks.onStart?.(child.pid);
    const end = (why: 'timeout' | 'abort') => {
      if (ending) return;
      ending = why;
      endRun(child);
    };
    const timer = setTimeout(() => end('timeout'), settings.timeoutMs);
    const onAbort = () => end('abort');
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      clearTimeout(timer);
      hooks.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error) => {
      finish();
      reject(
        new CreditError(
          'notebook_failed',
          `cannot start the notebook run (${WATCHDOG_PYTHON}): ${error.message}`,
          {
            cause: error,
          },
        ),
      );
    });
    child.on('exit', async (code) => {
      finish();
      // Whatever the watchdog left (it ends the run's processes itself; this is the backstop).
      killGroup(child.pid);
      child.stdin?.destroy();
      // The rest of stderr, for the error message: its pipe closes once the group is gone.
      if (child.stderr && !child.stderr.readableEnded)
        await Promise.race([once(child.stderr, 'close'), sleep(2000)]);
      if (ending === 'timeout') {
        reject(new CreditError('timeout', `the notebook did not finish within ${seconds} s`));
      } else if (ending === 'abort') {
        reject(stopped());
      } else if (code === CANNOT_START) {
        reject(
          new CreditError(
            'notebook_failed',
            `cannot start Jupyter (${settings.jupyter}): ${lastLines(stderr)}`,
          ),
        );
      } else {
        resolve({ code, stderr });
      }
    });
  });
}

const stopped = () =>
  new CreditError('timeout', 'the notebook run was stopped (the job expired or the worker is stopping)', {
    transient: true,
  });

/** Closing stdin tells the watchdog to end the run; the group is killed outright if it does not. */
function endRun(child: ChildProcess): void {
  child.stdin?.end();
  const backstop = setTimeout(() => killGroup(child.pid), KILL_GRACE_MS);
  backstop.unref();
  child.once('exit', () => clearTimeout(backstop));
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * The runs of one app instance, so that shutdown ends them and waits until their processes are
 * gone and their folders removed, rather than leaving that to a process about to exit.
 */
export function createRunTracker() {
  const controller = new AbortController();
  const running = new Set<Promise<unknown>>();
  return {
    signal: controller.signal,
    track<T>(run: Promise<T>): Promise<T> {
      running.add(run);
      run.then(
        () => running.delete(run),
        () => running.delete(run),
      );
      return run;
    },
    async stop(timeoutMs: number): Promise<void> {
      controller.abort();
      await Promise.race([Promise.allSettled([...running]), sleep(timeoutMs)]);
    },
  };
}
export type RunTracker = ReturnType<typeof createRunTracker>;

/**
 * Removes scratch folders whose owner process no longer runs (a killed worker's), and those without
 * an owner file older than an hour. Folders of live processes, this one's included, are left alone.
 */
export async function sweepScratch(root: string = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = (await readdir(root)).filter((name) => name.startsWith(SCRATCH_PREFIX));
  } catch {
    return removed;
  }
  for (const name of entries) {
    const dir = path.join(root, name);
    try {
      const owner = Number((await readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim());
      const stale = owner
        ? owner !== process.pid && !isRunning(owner)
        : Date.now() - (await stat(dir)).mtimeMs > 3_600_000;
      if (!stale) continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Another sweeper got there first, or it is not ours to remove.
    }
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return true;
}
