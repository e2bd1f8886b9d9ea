// The notebook calculator on a real Jupyter kernel (Debian's jupyter-nbconvert and
// python3-ipykernel; .ci/run installs them): the sample notebook against the built-in calculator,
// and notebooks of the tests' own (another formula, layout and heading) for how the SQL is given,
// how the credit is read, what the kernel sees, and what a stopped run leaves behind.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { builtinCredit } from '../src/apps/credits/calculators/builtin.ts';
import { type NotebookSettings, runNotebook } from '../src/apps/credits/calculators/notebook.ts';
import { SCRATCH_PREFIX, sweepScratch } from '../src/apps/credits/calculators/notebook-runner.ts';
import { kernelEnvironment } from '../src/apps/credits/config.ts';
import { loadConfig } from '../src/config.ts';
import { startFakeLooker } from './fakes/looker.ts';
import { code, markdown, notebookFolder, parameters } from './helpers/notebooks.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const SAMPLE = path.resolve('src/apps/credits/notebooks/credit-recommendation.ipynb');
const RATES = { off: 0, basic: 4160, standard: 6500, maximum: 8500 };
const BASE_ENV = kernelEnvironment(process.env, []);
const settings: NotebookSettings = {
  parameter: 'looker',
  summaryHeading: 'Summary Info',
  timeoutMs: 60_000,
  jupyter: 'jupyter',
  kernel: 'python3',
  env: BASE_ENV,
};
const noRows = async (): Promise<never> => {
  throw new Error('the rows were asked for');
};

/** Deterministic pseudo-random rows, with amounts chosen to land on half cents often. */
function rowSets(count: number) {
  let seed = 42;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const modes = Object.keys(RATES);
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(5) }, () => {
      const micros = next(50) === 0 ? 5000 : next(1_000_000_000_000);
      const text = `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
      return {
        'sms_traffic.fraud_guard_mode': modes[next(modes.length)],
        'sms_traffic.msg_count': next(100_000),
        // Strings, and numbers the way Looker's json gives them.
        'sms_traffic.fraud_cost': next(2) ? text : Number(text),
      };
    }),
  );
}

describe('the sample notebook and the built-in calculator', () => {
  it('give identical cents over many row sets (the notebook code in Python)', () => {
    const notebook = JSON.parse(readFileSync(SAMPLE, 'utf8')) as {
      cells: Array<{ cell_type: string; source: string | string[]; metadata: { tags?: string[] } }>;
    };
    const source = notebook.cells
      .filter((c) => c.cell_type === 'code' && !c.metadata.tags?.includes('parameters'))
      .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
      .filter((text) => !text.includes('IPython'))
      .join('\n');
    const sets = rowSets(300);
    // One Python process runs the notebook's own cells once per row set.
    const program = [
      'import json, sys',
      'results = []',
      `for looker_rows in json.loads(sys.stdin.read()):`,
      `    block_rates_bp = ${JSON.stringify(RATES)}`,
      '    exec(compile(CODE, "notebook", "exec"))',
      '    results.append({"credit_cents": credit_cents, "table": table})',
      'print(json.dumps(results))',
    ].join('\n');
    const output = execFileSync('/usr/bin/python3', ['-c', `CODE = ${JSON.stringify(source)}\n${program}`], {
      input: JSON.stringify(sets),
      encoding: 'utf8',
    });
    // The notebook's cells print their summary; the results are the last line.
    const python = JSON.parse(output.trim().split('\n').at(-1) ?? '') as Array<{
      credit_cents: number;
      table: unknown[];
    }>;
    expect(python).toHaveLength(sets.length);
    sets.forEach((rows, i) => {
      const builtin = builtinCredit(rows, RATES);
      expect(python[i]?.credit_cents).toBe(builtin.creditCents);
      expect(python[i]?.table).toEqual(builtin.table);
    });
  });

  it('give identical cents through Jupyter, half cents included', async () => {
    const rows = [
      { 'v.fraud_guard_mode': 'off', 'v.msg_count': 3, 'v.fraud_cost': '0.005' },
      { 'v.fraud_guard_mode': 'basic', 'v.msg_count': 35644, 'v.fraud_cost': 7526.3 },
      { 'v.fraud_guard_mode': 'standard', 'v.msg_count': 12000, 'v.fraud_cost': '2400.005' },
    ];
    let fetched = 0;
    const run = await runNotebook(SAMPLE, settings, {
      sql: "select 'Authy'",
      rows: async () => {
        fetched += 1;
        return rows;
      },
      blockRates: RATES,
    });
    const builtin = builtinCredit(rows, RATES);
    // off: 0.5 cent -> 1; basic: 4,395.3592 -> 4,395.36; standard: 840.00175 -> 840.00.
    expect(builtin.creditCents).toBe(1 + 439536 + 84000);
    expect(run.creditCents).toBe(builtin.creditCents);
    expect(run.table).toEqual(builtin.table);
    // The sample declares looker_rows: it is given the rows, once.
    expect(fetched).toBe(1);
    expect(run.notebook).toMatchObject({
      path: SAMPLE,
      injected: ['looker', 'looker_rows', 'block_rates_bp'],
      heading: 'Summary Info',
      rule: 'result',
    });
    expect(run.notebook.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.notebook.cells[0]?.output).toContain('Credit amount: $5,235.37');
  });
});

// A notebook of the tests' own, as the team writes theirs: it gets the SQL only and runs it itself
// (here on an in-memory SQLite database standing in for Presto), computes in floats, and shows a
// DataFrame-like HTML table with a TOTAL row under "## 📊 Summary Info:".
const OWN_SETUP = `
import sqlite3
db = sqlite3.connect(":memory:")
db.execute("create table traffic (account text, country text, cost real)")
db.executemany("insert into traffic values (?, ?, ?)", [
    ("AC01", "UZ", 2000.00), ("AC01", "KG", 1100.00), ("AC02", "MM", 1722.35),
])
result = db.execute(looker).fetchall()
`;
const OWN_FORMULA = `
# Another formula than the built-in one: the cost per account, all of it credited, in floats.
by_account = {}
for account, cost in result:
    by_account[account] = by_account.get(account, 0.0) + cost * 1.0000000000000002
total = sum(by_account.values())
`;
const OWN_SUMMARY = `
from IPython.display import display
rows = "".join(f"<tr><th>{a}</th><td>{c}</td></tr>" for a, c in sorted(by_account.items()))
rows += f"<tr><th>TOTAL</th><td>{total}</td></tr>"
html = f"<table class='dataframe'><thead><tr><th></th><th>credit</th></tr></thead><tbody>{rows}</tbody></table>"
print("Requested credit: $10,000.00")
display({"text/html": html, "text/plain": repr(by_account)}, raw=True)
`;
const OWN_SQL = 'select account, cost from traffic';

describe('a notebook of our own', () => {
  const folder = notebookFolder();
  const scratchRoot = mkdtempSync(path.join(tmpdir(), 'credits-scratch-'));
  const own = { ...settings, scratchRoot };

  it('gets the SQL, runs it itself, and is read from its table: TOTAL excluded, floats to the cent', async () => {
    const file = folder.write('own.ipynb', [
      markdown('# Toll fraud credit (our own)'),
      parameters('looker = ""'),
      code(OWN_SETUP),
      code(OWN_FORMULA),
      markdown('## 📊 Summary Info:'),
      code(OWN_SUMMARY),
      markdown('## Appendix'),
      code('print("credit  note\\n$99.00  not the summary")'),
    ]);
    const run = await runNotebook(file, own, { sql: OWN_SQL, rows: noRows, blockRates: RATES });
    expect(run.creditCents).toBe(482235);
    expect(run.notebook.injected).toEqual(['looker']);
    expect(run.notebook.rule).toBe('table');
    expect(run.notebook.heading).toBe('📊 Summary Info:');
    expect(run.notebook.table?.totalRow).toEqual(['TOTAL', expect.stringMatching(/^4822\.3\d*$/)]);
    expect(run.notebook.table?.rows).toHaveLength(3);
    expect(run.notebook.cells[0]?.source).toContain('display(');
    expect(run.notebook.cells[0]?.output).toContain('Requested credit: $10,000.00');
    expect(readdirSync(scratchRoot)).toEqual([]);
  }, 60_000);

  it('gives its JSON result precedence over its table', async () => {
    const file = folder.write('json.ipynb', [
      parameters('looker = ""'),
      code(OWN_SETUP),
      code(OWN_FORMULA),
      markdown('## 4. Summary Info'),
      code(OWN_SUMMARY),
      code('import json\nprint(json.dumps({"credit": round(total * 0.5, 2)}))'),
    ]);
    const run = await runNotebook(file, own, { sql: OWN_SQL, rows: noRows, blockRates: RATES });
    expect(run.creditCents).toBe(241118);
    expect(run.notebook.rule).toBe('result');
  }, 60_000);

  it('needs a person when its TOTAL row does not match the rows', async () => {
    const file = folder.write('mismatch.ipynb', [
      parameters('looker = ""'),
      code(OWN_SETUP),
      code(OWN_FORMULA),
      code('total += 0.01'),
      markdown('### summary info'),
      code(OWN_SUMMARY),
    ]);
    await expect(
      runNotebook(file, own, { sql: OWN_SQL, rows: noRows, blockRates: RATES }),
    ).rejects.toMatchObject({
      code: 'notebook_summary',
      message: "the summary table's TOTAL row says $4,822.36 but its rows sum to $4,822.35",
    });
  }, 60_000);

  it('is given the rows only when it declares a rows parameter', async () => {
    const file = folder.write('rows.ipynb', [
      parameters('looker = ""\nlooker_rows: list = []'),
      markdown('## Summary Info'),
      code('import json\nprint(json.dumps({"credit_cents": sum(r["cents"] for r in looker_rows)}))'),
    ]);
    let fetched = 0;
    const run = await runNotebook(file, own, {
      sql: 'select 1',
      rows: async () => {
        fetched += 1;
        return [{ cents: 150 }, { cents: 275 }];
      },
      blockRates: RATES,
    });
    expect(run.creditCents).toBe(425);
    expect(fetched).toBe(1);
    expect(run.notebook.injected).toEqual(['looker', 'looker_rows']);
  }, 60_000);

  it('names a failing cell as Jupyter numbers it, with the exception and its value, in one line', async () => {
    const file = folder.write('failing.ipynb', [
      markdown('# Title'),
      parameters('looker = ""'),
      markdown('Some words'),
      code('x = 1'),
      markdown('More words'),
      code('# the cost column\nrows = {"cost": 1}\nrows["fraud_cost"]'),
      markdown('## Summary Info'),
      code('print(x)'),
    ]);
    // In [1] parameters, In [2] the injected cell, In [3] x = 1, In [4] the failing cell.
    await expect(
      runNotebook(file, own, { sql: 'select 1', rows: noRows, blockRates: RATES }),
    ).rejects.toMatchObject({
      code: 'notebook_failed',
      message: `notebook cell In [4] (rows = {"cost": 1}) failed: KeyError: 'fraud_cost'`,
    });
    // The run stops there, as Papermill's does: a later cell that would hang never runs.
    const thenHangs = folder.write('then-hangs.ipynb', [
      parameters('looker = ""'),
      code('raise KeyError("basic")'),
      code('import time\ntime.sleep(600)'),
    ]);
    await expect(
      runNotebook(thenHangs, { ...own, timeoutMs: 40_000 }, { sql: '', rows: noRows, blockRates: RATES }),
    ).rejects.toMatchObject({
      message: `notebook cell In [3] (raise KeyError("basic")) failed: KeyError: 'basic'`,
    });
    const multiline = folder.write('multiline.ipynb', [
      parameters('looker = ""'),
      code('raise ValueError("first line\\nsecond line")'),
    ]);
    await expect(
      runNotebook(multiline, own, { sql: '', rows: noRows, blockRates: RATES }),
    ).rejects.toMatchObject({
      message:
        'notebook cell In [3] (raise ValueError("first line\\nsecond line")) failed: ValueError: first line second line',
    });
  }, 60_000);

  it('names a missing jupyter command', async () => {
    const file = folder.write('any.ipynb', [parameters('looker = ""')]);
    await expect(
      runNotebook(
        file,
        { ...own, jupyter: '/nonexistent/jupyter' },
        { sql: '', rows: noRows, blockRates: RATES },
      ),
    ).rejects.toMatchObject({
      code: 'notebook_failed',
      message: expect.stringContaining('cannot start Jupyter'),
    });
    expect(readdirSync(scratchRoot)).toEqual([]);
  });
});

describe("the kernel's environment", () => {
  const folder = notebookFolder();
  const secrets = {
    DATABASE_URL: 'postgres://switchboard:db-secret-1@db/switchboard',
    LOOKER_CLIENT_SECRET: 'looker-secret-2',
    SLACK_BOT_TOKEN: 'xoxb-slack-secret-3',
    SLACK_SIGNING_SECRET: 'signing-secret-4',
    STRIPE_SECRET_KEY: 'sk_test_secret5',
  };

  it('holds the basics and what CREDITS_NOTEBOOK_ENV names, none of the service secrets', async () => {
    const environment = {
      ...process.env,
      ...secrets,
      PRESTO_USER: 'credits-bot',
      PRESTO_PASSWORD: 'presto-pass',
      CREDITS_NOTEBOOK_ENV: 'PRESTO_*, EXTRA_NAME',
      EXTRA_NAME: 'extra',
    };
    const config = loadConfig({
      ...environment,
      ADMIN_API_TOKEN: 'a'.repeat(32),
      LOOKER_CLIENT_ID: 'looker-id',
      LOOKER_BASE_URL: 'https://example.cloud.looker.com',
    });
    const file = folder.write('environ.ipynb', [
      parameters('looker = ""'),
      markdown('## Summary Info'),
      code(
        'import os, json\nprint(json.dumps(dict(os.environ), sort_keys=True))\nprint(json.dumps({"credit_cents": 1}))',
      ),
    ]);
    const run = await runNotebook(
      file,
      { ...settings, env: config.credits.notebook.env },
      { sql: 'select 1', rows: noRows, blockRates: RATES },
    );
    const printed = run.notebook.cells[0]?.output ?? '';
    const seen = JSON.parse(printed.split('\n')[0] ?? '{}') as Record<string, string>;
    for (const [name, value] of Object.entries(secrets)) {
      expect(seen[name]).toBeUndefined();
      expect(printed).not.toContain(value);
    }
    expect(seen).toMatchObject({
      PRESTO_USER: 'credits-bot',
      PRESTO_PASSWORD: 'presto-pass',
      EXTRA_NAME: 'extra',
    });
    expect(seen.PATH).toBe(process.env.PATH);
    // Nothing of Switchboard's own configuration either.
    expect(Object.keys(seen).filter((name) => name.startsWith('CREDITS_'))).toEqual([]);
  }, 60_000);
});

/** Whether a process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a run that is stopped', () => {
  const folder = notebookFolder();
  // The kernel starts a process in a session of its own (as Jupyter starts the kernel), writes its
  // and that process's pids, then never ends.
  const hanging = (pidFile: string) =>
    folder.write(`hang-${path.basename(pidFile)}.ipynb`, [
      parameters('looker = ""'),
      code(
        [
          'import os, subprocess, time',
          'child = subprocess.Popen(["sleep", "600"], start_new_session=True)',
          `open(${JSON.stringify(pidFile)}, "w").write(f"{os.getpid()} {child.pid}")`,
          'time.sleep(600)',
        ].join('\n'),
      ),
      markdown('## Summary Info'),
    ]);
  const pidsIn = (file: string) => readFileSync(file, 'utf8').trim().split(' ').map(Number);

  it('on timeout leaves no process and no scratch folder', async () => {
    const scratchRoot = mkdtempSync(path.join(tmpdir(), 'credits-scratch-'));
    const pidFile = path.join(folder.dir, 'timeout.pids');
    let pgid = 0;
    await expect(
      runNotebook(
        hanging(pidFile),
        { ...settings, timeoutMs: 15_000, scratchRoot },
        { sql: '', rows: noRows, blockRates: RATES },
        {
          onStart: (id) => {
            pgid = id;
          },
        },
      ),
    ).rejects.toMatchObject({ code: 'timeout', message: 'the notebook did not finish within 15 s' });
    expect(existsSync(pidFile)).toBe(true);
    await waitFor('every process of the run to end', async () =>
      !groupAlive(pgid) && pidsIn(pidFile).every((pid) => !alive(pid)) ? true : null,
    );
    expect(readdirSync(scratchRoot)).toEqual([]);
  }, 60_000);

  it('on abort leaves no process and no scratch folder, and may be retried', async () => {
    const scratchRoot = mkdtempSync(path.join(tmpdir(), 'credits-scratch-'));
    const pidFile = path.join(folder.dir, 'abort.pids');
    const abort = new AbortController();
    let pgid = 0;
    const running = runNotebook(
      hanging(pidFile),
      { ...settings, scratchRoot },
      { sql: '', rows: noRows, blockRates: RATES },
      {
        signal: abort.signal,
        onStart: (id) => {
          pgid = id;
        },
      },
    );
    await waitFor('the kernel to start', async () => (existsSync(pidFile) ? true : null), 40_000, 100);
    expect(readdirSync(scratchRoot)).toHaveLength(1);
    abort.abort();
    await expect(running).rejects.toMatchObject({ code: 'timeout', transient: true });
    await waitFor('every process of the run to end', async () =>
      !groupAlive(pgid) && pidsIn(pidFile).every((pid) => !alive(pid)) ? true : null,
    );
    expect(readdirSync(scratchRoot)).toEqual([]);
  }, 60_000);

  it('when the service process is killed (SIGKILL), ends with it; its folder is swept at the next start', async () => {
    const scratchRoot = mkdtempSync(path.join(tmpdir(), 'credits-scratch-'));
    const pidFile = path.join(folder.dir, 'killed.pids');
    const script = path.join(folder.dir, 'run-and-wait.ts');
    writeFileSync(
      script,
      [
        `import { runNotebook } from ${JSON.stringify(path.resolve('src/apps/credits/calculators/notebook.ts'))};`,
        `const settings = ${JSON.stringify({ ...settings, scratchRoot })};`,
        `await runNotebook(${JSON.stringify(hanging(pidFile))}, settings, { sql: '', blockRates: {} });`,
      ].join('\n'),
    );
    const service = spawn(path.resolve('node_modules/.bin/node'), [script], { stdio: 'ignore' });
    await waitFor('the kernel to start', async () => (existsSync(pidFile) ? true : null), 40_000, 100);
    const pids = pidsIn(pidFile);
    service.kill('SIGKILL');
    await waitFor('every process of the run to end', async () =>
      pids.every((pid) => !alive(pid)) ? true : null,
    );
    // The dead process's folder (its SQL) is still there: the next start sweeps it, and only it.
    const live = path.join(scratchRoot, `${SCRATCH_PREFIX}live`);
    mkdirSync(live);
    writeFileSync(path.join(live, 'owner.pid'), String(process.pid));
    const swept = await sweepScratch(scratchRoot);
    expect(swept).toHaveLength(1);
    expect(readdirSync(scratchRoot)).toEqual([`${SCRATCH_PREFIX}live`]);
  }, 60_000);
});

describe('a service that shuts down during a run', () => {
  const folder = notebookFolder();
  const pidFile = path.join(folder.dir, 'shutdown.pid');
  const file = folder.write('shutdown.ipynb', [
    parameters('looker = ""'),
    code(`import os, time\nopen(${JSON.stringify(pidFile)}, "w").write(str(os.getpid()))\ntime.sleep(600)`),
    markdown('## Summary Info'),
  ]);
  const ourScratch = () =>
    readdirSync(tmpdir())
      .filter((name) => name.startsWith(SCRATCH_PREFIX))
      .filter((name) => {
        try {
          return readFileSync(path.join(tmpdir(), name, 'owner.pid'), 'utf8').trim() === String(process.pid);
        } catch {
          return false;
        }
      });

  it('ends the run with everything it started and removes its scratch folder', async () => {
    const running = await startTestService('pglite', {
      apps: [creditsApp],
      env: { NOTEBOOK_PATH: file, SHUTDOWN_TIMEOUT_SECONDS: '2' },
    });
    try {
      await running.service.app.inject({
        method: 'POST',
        url: '/sandbox/slack/messages',
        payload: { channel: 'C0CREDITMEMO', text: 'credit https://looker.sandbox.localhost/looks/1' },
      });
      await waitFor('the kernel to start', async () => existsSync(pidFile), 60_000, 100);
      expect(ourScratch()).toHaveLength(1);
    } finally {
      await running.dispose();
    }
    const kernel = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the kernel to end', async () => !alive(kernel), 20_000, 100);
    expect(ourScratch()).toEqual([]);
  }, 120_000);
});

describe('requests computed by the notebook calculator', () => {
  const folder = notebookFolder();
  const release = path.join(folder.dir, 'release');
  // Verify links run this notebook, which waits for the test to let it finish.
  const slow = folder.write('slow.ipynb', [
    parameters('looker = ""'),
    code(`import os, time\nwhile not os.path.exists(${JSON.stringify(release)}):\n    time.sleep(0.2)`),
    markdown('## Summary Info'),
    code('import json\nprint(json.dumps({"credit": "1,234.56"}))'),
  ]);
  let running: TestService;
  beforeAll(async () => {
    running = await startTestService('pglite', {
      apps: [creditsApp],
      env: { NOTEBOOK_PATH: slow, CREDITS_PSMS_CALCULATOR: 'builtin' },
    });
  });
  afterAll(async () => {
    await running?.dispose();
  });

  const post = async (text: string) => {
    const posted = await running.service.app.inject({
      method: 'POST',
      url: '/sandbox/slack/messages',
      payload: { channel: 'C0CREDITMEMO', text },
    });
    return posted.json().id as string;
  };
  const request = async (id: string) => (await running.service.app.inject(`/credits/requests/${id}`)).json();

  it('answers a fast request while slow notebooks run (two at once), then the slow ones', async () => {
    const slowId = await post('credit please https://looker.sandbox.localhost/looks/1');
    const otherSlowId = await post(
      'and https://looker.sandbox.localhost/explore/sms/sms_traffic?qid=SandboxVerifyB3',
    );
    // CREDITS_NOTEBOOK_CONCURRENCY=2 by default: both run, neither waits for the other.
    await waitFor(
      'both notebook runs to start',
      async () => {
        const queue = await running.service.jobs.boss.getQueue('credits.notebook');
        return queue && queue.activeCount === 2 ? true : null;
      },
      60_000,
      100,
    );
    const fastId = await post('and this one https://looker.sandbox.localhost/looks/2');
    const fast = await waitFor(
      'the fast request',
      async () => {
        const row = await request(fastId);
        return row.status === 'done' || row.status === 'failed' ? row : null;
      },
      60_000,
      100,
    );
    expect(fast).toMatchObject({ status: 'done', summary: { calculator: 'builtin' } });
    // The slow one is still running its notebook: only the fast one waited for nothing.
    expect((await request(slowId)).status).toBe('processing');
    expect((await request(otherSlowId)).status).toBe('processing');
    writeFileSync(release, '');
    const done = await waitFor(
      'the slow request',
      async () => {
        const row = await request(slowId);
        return row.status === 'done' || row.status === 'failed' ? row : null;
      },
      90_000,
      200,
    );
    expect(done).toMatchObject({ status: 'done', amountCents: 123456 });
    const link = done.summary.links[0];
    expect(link.notebook).toMatchObject({ path: slow, rule: 'result', injected: ['looker'] });
    expect(link.notebook.cells[0].output).toContain('"credit": "1,234.56"');
    expect(JSON.stringify(done.summary)).not.toContain('notebookRuns');
    const other = await waitFor('the other slow request', async () => {
      const row = await request(otherSlowId);
      return row.status === 'done' || row.status === 'failed' ? row : null;
    });
    expect(other).toMatchObject({ status: 'done', amountCents: 123456 });
  }, 180_000);
});

describe('a request whose notebook runs its own SQL', () => {
  const folder = notebookFolder();
  const file = folder.write('own-sql.ipynb', [
    parameters('looker = ""'),
    code(OWN_SETUP),
    code(OWN_FORMULA),
    markdown('## Summary Info'),
    code(OWN_SUMMARY),
  ]);
  let running: TestService;
  let looker: Awaited<ReturnType<typeof startFakeLooker>>;
  beforeAll(async () => {
    looker = await startFakeLooker({ clientId: 'nb-client', clientSecret: 'nb-secret' });
    looker.addQuery({ id: '71', slug: 'OwnSql71', sql: `${OWN_SQL} -- Authy`, rows: [] }, '71');
    // Looker cannot run the query: the notebook does not need it to.
    looker.inject({ match: (req) => req.path.endsWith('/run/json'), status: 500, times: 100 });
    running = await startTestService('pglite', {
      apps: [creditsApp],
      env: {
        LOOKER_CLIENT_ID: 'nb-client',
        LOOKER_CLIENT_SECRET: 'nb-secret',
        LOOKER_BASE_URL: looker.url,
        CREDITS_LOOKER_HOST: 'looker.nb.example.com',
        NOTEBOOK_PATH: file,
      },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await looker?.close();
  });

  it('is answered from the SQL alone: Looker is never asked for the rows', async () => {
    const app = running.service.app;
    const posted = await app.inject({
      method: 'POST',
      url: '/sandbox/slack/messages',
      payload: { channel: 'C0CREDITMEMO', text: 'credit https://looker.nb.example.com/looks/71' },
    });
    const { id } = posted.json();
    const request = await waitFor(
      'the request to finish',
      async () => {
        const row = (await app.inject(`/credits/requests/${id}`)).json();
        return row.status === 'done' || row.status === 'failed' ? row : null;
      },
      90_000,
      200,
    );
    expect(request).toMatchObject({ status: 'done', amountCents: 482235 });
    expect(looker.requests.filter((r) => r.path.endsWith('/run/json'))).toEqual([]);
    expect(looker.requests.some((r) => r.path.endsWith('/run/sql'))).toBe(true);
  }, 120_000);
});

describe('a request with three notebook links', () => {
  const folder = notebookFolder();
  // Each run takes a few seconds (a kernel start and a sleep); three of them take longer than the
  // request's own job may run (JOBS_EXPIRE_SECONDS=5 here, as 900 s is to three 300 s timeouts).
  const file = folder.write('per-link.ipynb', [
    parameters('looker = ""'),
    code('import time\ntime.sleep(2)'),
    markdown('## Summary Info'),
    code('import json\nprint(json.dumps({"credit_cents": 100 if "Authy" in looker else 10}))'),
  ]);
  let running: TestService;
  beforeAll(async () => {
    running = await startTestService('pglite', {
      apps: [creditsApp],
      env: {
        NOTEBOOK_PATH: file,
        CREDITS_PSMS_CALCULATOR: 'notebook',
        CREDITS_PSMS_NOTEBOOK_PATH: file,
        JOBS_EXPIRE_SECONDS: '5',
      },
    });
  });
  afterAll(async () => {
    await running?.dispose();
  });

  it('runs one notebook job per link, so no job runs them all', async () => {
    const app = running.service.app;
    const text = [
      'three queries:',
      'https://looker.sandbox.localhost/looks/1',
      'https://looker.sandbox.localhost/looks/2',
      'https://looker.sandbox.localhost/explore/sms/sms_traffic?qid=SandboxVerifyB3',
    ].join(' ');
    const posted = await app.inject({
      method: 'POST',
      url: '/sandbox/slack/messages',
      payload: { channel: 'C0CREDITMEMO', text },
    });
    const { id } = posted.json();
    const request = await waitFor(
      'the request to finish',
      async () => {
        const row = (await app.inject(`/credits/requests/${id}`)).json();
        return row.status === 'done' || row.status === 'failed' ? row : null;
      },
      120_000,
      200,
    );
    // Verify A ($1.00) + PSMS ($0.10) + Verify B ($1.00).
    expect(request).toMatchObject({ status: 'done', amountCents: 210 });
    expect(request.summary.links.map((l: { calculator: string }) => l.calculator)).toEqual([
      'notebook',
      'notebook',
      'notebook',
    ]);
    const runs = await running.service.jobs.boss.findJobs('credits.notebook', { data: { requestId: id } });
    expect(runs.map((job) => job.state)).toEqual(['completed', 'completed', 'completed']);
  }, 180_000);
});

describe('the sample through the service', () => {
  let running: TestService;
  beforeAll(async () => {
    running = await startTestService('pglite', { apps: [creditsApp], env: { NOTEBOOK_PATH: SAMPLE } });
  });
  afterAll(async () => {
    await running?.dispose();
  });

  it('answers with the same amount as the built-in calculator, and keeps only the summary', async () => {
    const app = running.service.app;
    const posted = await app.inject({
      method: 'POST',
      url: '/sandbox/slack/messages',
      payload: { channel: 'C0CREDITMEMO', text: 'credit please https://looker.sandbox.localhost/looks/1' },
    });
    const { id } = posted.json();
    const request = await waitFor(
      'the request to finish',
      async () => {
        const row = (await app.inject(`/credits/requests/${id}`)).json();
        return row.status === 'done' || row.status === 'failed' ? row : null;
      },
      90_000,
      200,
    );
    expect(request).toMatchObject({ status: 'done', amountCents: 439536 });
    expect(request.summary.calculator).toBe('notebook');
    expect(request.summary.links[0].summaryText).toContain('Credit amount: $4,395.36');
    expect(JSON.stringify(request.summary)).not.toContain('injected-parameters');
  }, 120_000);
  it('runs a request now (switchboard credits run) through the notebook queue and waits for it', async () => {
    const answered = await running.service.app.inject({
      method: 'POST',
      url: '/credits/requests',
      payload: { text: 'https://looker.sandbox.localhost/explore/sms/sms_traffic?qid=SandboxVerifyB3' },
    });
    expect(answered.statusCode).toBe(200);
    const row = answered.json();
    expect(row).toMatchObject({ status: 'done', summary: { calculator: 'notebook' } });
    const runs = await running.service.jobs.boss.findJobs('credits.notebook', {
      data: { requestId: row.id },
    });
    expect(runs).toHaveLength(1);
  }, 120_000);
});
