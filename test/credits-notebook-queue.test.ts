// The request side of the notebook queue, as a plain function over what the job system answers:
// which run it sends (once, with the rows only when declared), what it waits for, and when it stops
// waiting. The queue itself, with real workers, is in credits-notebook.test.ts and -worker.test.ts.
import { describe, expect, it } from 'vitest';
import { NotebookPending, queuedNotebooks, runKey } from '../src/apps/credits/notebook-queue.ts';
import type { CreditRequestRow } from '../src/apps/credits/schema.ts';
import type { JobStatus } from '../src/platform/jobs/job-system.ts';
import { code, markdown, notebookFolder, parameters } from './helpers/notebooks.ts';

const folder = notebookFolder();
const withRows = folder.write('rows.ipynb', [
  parameters('looker = ""\nlooker_rows = []'),
  markdown('## Summary Info'),
]);
const sqlOnly = folder.write('sql.ipynb', [parameters('looker = ""'), code('pass')]);
const settings = {
  parameter: 'looker',
  summaryHeading: 'Summary Info',
  timeoutMs: 300_000,
  jupyter: 'jupyter',
  kernel: 'python3',
  env: {},
};
const request = (summary: unknown = null) =>
  ({ id: '0b7e8f6c-5a3d-4c2b-9e1f-1a2b3c4d5e6f', round: 1, summary }) as unknown as CreditRequestRow;

function fakeJobs(job: JobStatus | null) {
  const sent: Array<{ name: string; payload: Record<string, unknown>; options: Record<string, unknown> }> =
    [];
  const jobs = {
    getJob: async () => job,
    send: async (name: string, payload: Record<string, unknown>, options: Record<string, unknown> = {}) => {
      sent.push({ name, payload, options });
      return 'id';
    },
  };
  return { jobs: jobs as never, sent };
}

const input = (rows: () => Promise<Array<Record<string, unknown>>>) => ({
  sql: 'select 1',
  rows,
  blockRates: {},
});

describe('the notebook queue, on the request side', () => {
  it('sends one run with a stable id, the rows only when declared, and a check-back, then waits', async () => {
    let fetched = 0;
    const rows = async () => {
      fetched += 1;
      return [{ a: 1 }];
    };
    for (const [file, expectRows] of [
      [withRows, true],
      [sqlOnly, false],
    ] as const) {
      const { jobs, sent } = fakeJobs(null);
      const run = queuedNotebooks({ jobs, settings }, request()).run(file, input(rows));
      await expect(run).rejects.toBeInstanceOf(NotebookPending);
      expect(sent.map((s) => s.name)).toEqual(['credits.notebook', 'credits.process']);
      const [notebook, checkBack] = sent;
      expect(notebook?.options.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(notebook?.options.expireSeconds).toBe(420);
      expect('rows' in (notebook?.payload ?? {})).toBe(expectRows);
      expect(checkBack?.options.startAfter).toBeInstanceOf(Date);
    }
    expect(fetched).toBe(1);
  });

  it('uses the stored result of its run, and fails with a stored lasting error', async () => {
    const { jobs } = fakeJobs(null);
    const first = fakeJobs(null);
    await queuedNotebooks({ jobs: first.jobs, settings }, request())
      .run(
        sqlOnly,
        input(async () => []),
      )
      .catch(() => {});
    const key = first.sent[0]?.options.id as string;
    const result = { creditCents: 1234, table: [], summaryText: '', kernelMs: 1, notebook: {} };
    const done = queuedNotebooks({ jobs, settings }, request({ notebookRuns: { [key]: { result } } }));
    expect(
      (
        await done.run(
          sqlOnly,
          input(async () => []),
        )
      ).creditCents,
    ).toBe(1234);
    const failed = queuedNotebooks(
      { jobs, settings },
      request({ notebookRuns: { [key]: { error: { code: 'notebook_summary', message: 'two tables' } } } }),
    );
    await expect(
      failed.run(
        sqlOnly,
        input(async () => []),
      ),
    ).rejects.toMatchObject({
      code: 'notebook_summary',
      message: 'two tables',
    });
    // Another round (a person's retry) is another run.
    expect(runKey(['a', '1'])).not.toBe(runKey(['a', '2']));
  });

  it('fails when the run failed for good, and when nobody has taken it for too long', async () => {
    const failed = fakeJobs({ state: 'failed', output: { error: 'kernel died' }, createdOn: new Date() });
    await expect(
      queuedNotebooks({ jobs: failed.jobs, settings }, request()).run(
        sqlOnly,
        input(async () => []),
      ),
    ).rejects.toMatchObject({ code: 'notebook_failed', message: 'the notebook run failed: kernel died' });
    const running = fakeJobs({ state: 'active', output: null, createdOn: new Date() });
    await expect(
      queuedNotebooks({ jobs: running.jobs, settings }, request()).run(
        sqlOnly,
        input(async () => []),
      ),
    ).rejects.toBeInstanceOf(NotebookPending);
    expect(running.sent.map((s) => s.name)).toEqual(['credits.process']);
    const stale = fakeJobs({
      state: 'created',
      output: null,
      createdOn: new Date(Date.now() - 3 * 3_600_000),
    });
    await expect(
      queuedNotebooks({ jobs: stale.jobs, settings }, request()).run(
        sqlOnly,
        input(async () => []),
      ),
    ).rejects.toMatchObject({
      message: expect.stringContaining('is a worker running the credits.notebook queue?'),
    });
  });
});
