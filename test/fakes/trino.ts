// Fake Trino coordinator, a test double speaking the client REST protocol trino-client uses:
// POST /v1/statement with the SQL as the body and X-Trino-User -> the first result; each result
// names the next page in `nextUri` until the last. Rows come in pages of `pageSize`; a query the
// fake cannot answer fails with Trino's `error` object, on the first page or a later one.
import { type HttpFake, startHttpFake } from './http-fake.ts';

export interface FakeTrinoTable {
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
}

export interface FakeTrino extends HttpFake {
  /** Answers SQL that contains `match` with this table. */
  addResult(match: string, table: FakeTrinoTable): void;
  /** SQL containing `match` fails after `afterPages` pages (0: at once). */
  failOn(match: string, afterPages: number): void;
}

const trinoError = (message: string) => ({
  message,
  errorCode: 1,
  errorName: 'SYNTAX_ERROR',
  errorType: 'USER_ERROR',
  failureInfo: { type: 'io.trino.sql.parser.ParsingException', message, suppressed: [], stack: [] },
});

export async function startFakeTrino(options: { pageSize?: number } = {}): Promise<FakeTrino> {
  const pageSize = options.pageSize ?? 2;
  const results: Array<{ match: string; table: FakeTrinoTable }> = [];
  const failures: Array<{ match: string; afterPages: number }> = [];
  const queries = new Map<string, { table: FakeTrinoTable | null; failAfter: number | null }>();
  let counter = 0;
  let base = '';

  const page = (id: string, index: number) => {
    const query = queries.get(id);
    if (!query) return { status: 404, body: 'no such query' };
    const stats = { state: 'RUNNING', queued: false, scheduled: true, nodes: 1 };
    if (query.failAfter !== null && index >= query.failAfter)
      return {
        status: 200,
        body: { id, stats: { ...stats, state: 'FAILED' }, error: trinoError('line 1:1: mismatched input') },
      };
    const table = query.table as FakeTrinoTable;
    const data = table.rows.slice(index * pageSize, (index + 1) * pageSize);
    const more =
      (index + 1) * pageSize < table.rows.length ||
      (query.failAfter !== null && index + 1 <= query.failAfter);
    return {
      status: 200,
      body: {
        id,
        columns: table.columns,
        data,
        stats: { ...stats, state: more ? 'RUNNING' : 'FINISHED' },
        ...(more ? { nextUri: `${base}/v1/statement/executing/${id}/${index + 1}` } : {}),
      },
    };
  };

  const fake = await startHttpFake((req) => {
    if (req.method === 'POST' && req.path === '/v1/statement') {
      if (!req.headers['x-trino-user']) return { status: 401, body: 'X-Trino-User is required' };
      counter += 1;
      const id = `20260101_000000_${String(counter).padStart(5, '0')}_fake`;
      const failure = failures.find((f) => req.rawBody.includes(f.match));
      const result = results.find((r) => req.rawBody.includes(r.match));
      if (!result && !failure) {
        return {
          status: 200,
          body: { id, stats: { state: 'FAILED' }, error: trinoError('Table not found') },
        };
      }
      queries.set(id, {
        table: result?.table ?? { columns: [], rows: [] },
        failAfter: failure ? failure.afterPages : null,
      });
      if (failure?.afterPages === 0)
        return {
          status: 200,
          body: { id, stats: { state: 'FAILED' }, error: trinoError('line 1:1: mismatched input') },
        };
      return {
        status: 200,
        body: { id, stats: { state: 'QUEUED' }, nextUri: `${base}/v1/statement/executing/${id}/0` },
      };
    }
    const match = /^\/v1\/statement\/executing\/([^/]+)\/(\d+)$/.exec(req.path);
    if (req.method === 'GET' && match) return page(match[1] as string, Number(match[2]));
    return { status: 404, body: 'not found' };
  });
  base = fake.url;
  return Object.assign(fake, {
    addResult(match: string, table: FakeTrinoTable) {
      results.push({ match, table });
    },
    failOn(match: string, afterPages: number) {
      failures.push({ match, afterPages });
    },
  });
}
