// Fake Looker API 4.0, a test double speaking Looker's wire format to @looker/sdk-node:
// POST /api/4.0/login (form client_id, client_secret) -> { access_token, token_type, expires_in };
// other calls need "Authorization: Bearer <token>" (Looker also takes "token <token>").
// GET /looks/:id -> the Look with query_id and query; GET /queries/slug/:slug -> the query;
// GET /queries/:id/run/sql -> the SQL as text/plain; GET /queries/:id/run/json -> the rows.
// Errors are Looker's { message, documentation_url } with 401/404; a failed login answers 404.
// A query whose SQL fails in the database answers run/json with HTTP 200 and
// [{"looker_error": "..."}], as Looker does. Two query id shapes, as Looker's API 4.0 gives them:
// older instances a numeric `query_id` / `id`, newer ones the query's slug as its id
// (https://cloud.google.com/looker/docs/api-update-query-slug): `idIsSlug` serves the second.
import { randomBytes } from 'node:crypto';
import { type FakeResponse, type HttpFake, quoteRequest, startHttpFake } from './http-fake.ts';

export interface FakeLookerQuery {
  id: string;
  slug: string;
  sql: string;
  rows: Array<Record<string, unknown>>;
  model?: string;
  view?: string;
  /** The API's id of the query is its slug (newer Lookers), not the numeric id. */
  idIsSlug?: boolean;
  /** run/json answers 200 with [{ looker_error }] (the SQL failed in the database). */
  lookerError?: string;
}

export interface FakeLooker extends HttpFake {
  clientId: string;
  clientSecret: string;
  /** Adds a query; with lookId, a Look that uses it. */
  addQuery(query: FakeLookerQuery, lookId?: string): void;
  logins: number;
  /** Next matching requests fail with a 400 whose message quotes the request (the login form too). */
  failQuotingRequest(options?: { times?: number }): void;
}

const notFound = (): FakeResponse => ({
  status: 404,
  body: { message: 'Not found', documentation_url: 'https://cloud.google.com/looker/docs/r/api/support' },
});

export async function startFakeLooker(options: {
  clientId: string;
  clientSecret: string;
}): Promise<FakeLooker> {
  const queries = new Map<string, FakeLookerQuery>();
  const looks = new Map<string, string>();
  const tokens = new Set<string>();
  const state = { logins: 0 };
  const apiId = (query: FakeLookerQuery) => (query.idIsSlug ? query.slug : query.id);
  const byApiId = (id: string) => [...queries.values()].find((q) => apiId(q) === id);

  const base = await startHttpFake((req) => {
    const path = req.path.replace(/^\/api\/4\.0/, '');
    if (!req.path.startsWith('/api/4.0/')) return notFound();
    if (req.method === 'POST' && path === '/login') {
      const form = req.form ?? new URLSearchParams(req.rawBody);
      if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret)
        return notFound();
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      state.logins += 1;
      return {
        status: 200,
        body: { access_token: token, token_type: 'Bearer', expires_in: 3600, refresh_token: null },
      };
    }
    const auth = String(req.headers.authorization ?? '').replace(/^(Bearer|token)\s+/i, '');
    if (!tokens.has(auth))
      return {
        status: 401,
        body: {
          message: 'Requires authentication.',
          documentation_url: 'https://cloud.google.com/looker/docs/r/api/support',
        },
      };
    if (req.method === 'DELETE' && path === '/logout') {
      tokens.delete(auth);
      return { status: 204 };
    }
    let match = /^\/looks\/(\d+)$/.exec(path);
    if (req.method === 'GET' && match) {
      const queryId = looks.get(match[1] as string);
      const query = queryId ? queries.get(queryId) : undefined;
      if (!query) return notFound();
      return {
        status: 200,
        body: {
          id: match[1],
          title: `Look ${match[1]}`,
          query_id: apiId(query),
          query: {
            id: apiId(query),
            slug: query.slug,
            model: query.model ?? 'Revenue',
            view: query.view ?? 'counters',
          },
        },
      };
    }
    match = /^\/queries\/slug\/([A-Za-z0-9]+)$/.exec(path);
    if (req.method === 'GET' && match) {
      const query = [...queries.values()].find((q) => q.slug === match?.[1]);
      if (!query) return notFound();
      return {
        status: 200,
        body: {
          id: apiId(query),
          slug: query.slug,
          model: query.model ?? 'Revenue',
          view: query.view ?? 'counters',
        },
      };
    }
    match = /^\/queries\/([^/]+)\/run\/(sql|json)$/.exec(path);
    if (req.method === 'GET' && match) {
      const query = byApiId(match[1] as string);
      if (!query) return notFound();
      if (match[2] === 'sql')
        return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: query.sql };
      if (query.lookerError) return { status: 200, body: [{ looker_error: query.lookerError }] };
      return { status: 200, body: query.rows };
    }
    return notFound();
  });

  const fake = Object.assign(base, {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    addQuery(query: FakeLookerQuery, lookId?: string) {
      queries.set(query.id, query);
      if (lookId) looks.set(lookId, query.id);
    },
    logins: 0,
    failQuotingRequest(opts: { times?: number } = {}) {
      base.inject({
        times: opts.times,
        status: 400,
        body: (req) => ({
          message: quoteRequest(req),
          documentation_url: 'https://cloud.google.com/looker/docs/r/api/support',
        }),
      });
    },
  });
  Object.defineProperty(fake, 'logins', { get: () => state.logins });
  return fake;
}
