// The notebook calculator on a real Jupyter kernel (Debian's jupyter-nbconvert and
// python3-ipykernel; .ci/run installs them), and the sample notebook against the built-in
// calculator: both must give the same cents.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { builtinCredit } from '../src/apps/credits/calculators/builtin.ts';
import { type NotebookSettings, runNotebook } from '../src/apps/credits/calculators/notebook.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const SAMPLE = path.resolve('src/apps/credits/notebooks/credit-recommendation.ipynb');
const RATES = { off: 0, basic: 4160, standard: 6500, maximum: 8500 };
const settings: NotebookSettings = {
  parameter: 'looker',
  summaryHeading: 'Summary Info',
  timeoutMs: 60_000,
  jupyter: 'jupyter',
  kernel: 'python3',
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
    const code = notebook.cells
      .filter((c) => c.cell_type === 'code' && !c.metadata.tags?.includes('parameters'))
      .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
      .filter((source) => !source.includes('IPython'))
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
    const output = execFileSync('/usr/bin/python3', ['-c', `CODE = ${JSON.stringify(code)}\n${program}`], {
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
    const run = await runNotebook(SAMPLE, settings, {
      sql: "select 'Authy'",
      queryId: '1',
      rows: async () => rows,
      blockRates: RATES,
    });
    const builtin = builtinCredit(rows, RATES);
    // off: 0.5 cent -> 1; basic: 4,395.3592 -> 4,395.36; standard: 840.00175 -> 840.00.
    expect(builtin.creditCents).toBe(1 + 439536 + 84000);
    expect(run.creditCents).toBe(builtin.creditCents);
    expect(run.table).toEqual(builtin.table);
    expect(run.summaryText).toContain('Credit amount: $5,235.37');
  });
});

describe('the notebook calculator', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'credits-notebooks-'));
  const write = (name: string, cells: string[]) => {
    const file = path.join(dir, name);
    writeFileSync(
      file,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
        cells: [
          {
            id: 'p',
            cell_type: 'code',
            metadata: { tags: ['parameters'] },
            source: 'looker = ""',
            outputs: [],
            execution_count: null,
          },
          ...cells.map((source, i) => ({
            id: `c${i}`,
            cell_type: 'code',
            metadata: {},
            source,
            outputs: [],
            execution_count: null,
          })),
          { id: 'h', cell_type: 'markdown', metadata: {}, source: '## Summary Info' },
          {
            id: 's',
            cell_type: 'code',
            metadata: {},
            source: 'print("Credit amount: $1.00")',
            outputs: [],
            execution_count: null,
          },
        ],
      }),
    );
    return file;
  };

  it('fails the request with the cell number and the error of a failing cell', async () => {
    const file = write('failing.ipynb', [
      'x = 1',
      'assert "Authy" in looker, "not a Verify query"',
      'print(x)',
    ]);
    await expect(
      runNotebook(file, settings, { sql: 'select 1', queryId: '1', rows: async () => [], blockRates: RATES }),
    ).rejects.toMatchObject({
      code: 'notebook_failed',
      message: 'notebook cell 3 failed: AssertionError: not a Verify query',
    });
  });

  it('stops a notebook that runs past the timeout', async () => {
    const file = write('slow.ipynb', ['import time\ntime.sleep(60)']);
    const started = Date.now();
    await expect(
      runNotebook(
        file,
        { ...settings, timeoutMs: 2000 },
        { sql: 'select 1', queryId: '1', rows: async () => [], blockRates: RATES },
      ),
    ).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(40_000);
  });

  it('names a missing jupyter command', async () => {
    await expect(
      runNotebook(
        SAMPLE,
        { ...settings, jupyter: '/nonexistent/jupyter' },
        { sql: '', queryId: '1', rows: async () => [], blockRates: RATES },
      ),
    ).rejects.toMatchObject({
      code: 'notebook_failed',
      message: expect.stringContaining('cannot start Jupyter'),
    });
  });
});

describe('a request computed by the notebook calculator', () => {
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
});
