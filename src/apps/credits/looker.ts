// Looker through @looker/sdk-node: a Look gives its query, an Explore's qid and a short link's slug
// give theirs (query_for_slug); run_query returns the SQL (`sql`) and the rows (`json`).
// The SDK hides HTTP statuses in its error values, so a transport observer notes the status of
// each answer; one session resolves one request's links one after another, so the last status
// is the one of the call that failed. The SDK's own retries stay off: the job retries with backoff.
import type { Looker40SDK } from '@looker/sdk';
import { LookerNodeSDK, NodeSession, NodeTransport } from '@looker/sdk-node';
import { ApiSettings, type IApiSection, type SDKResponse } from '@looker/sdk-rtl';
import { CreditError } from './credit-error.ts';
import type { LookerLink } from './links.ts';
import type { QueryRow, QueryRunner, QuerySource } from './query-source.ts';

export interface LookerCredentials {
  clientId: string;
  clientSecret: string;
  baseUrl: string;
}

/** Credentials come from Switchboard's config, never from the SDK's own env vars or looker.ini. */
class ConfigSettings extends ApiSettings {
  readonly #section: IApiSection;
  constructor(credentials: LookerCredentials, timeoutSeconds: number) {
    super({ base_url: credentials.baseUrl, timeout: timeoutSeconds, verify_ssl: true });
    this.#section = {
      base_url: credentials.baseUrl,
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    };
  }
  override readConfig(): IApiSection {
    return this.#section;
  }
}

/**
 * The SDK (sdk-rtl 21) builds its timeout signal but never attaches it to the request, and without
 * a signal in the options it prints a console line on every call. So: a signal that never fires
 * in the options (no console line), and each request gets a real timeout here.
 */
class TimedTransport extends NodeTransport {
  readonly #timeoutMs: number;
  constructor(settings: ApiSettings, timeoutMs: number) {
    super({ ...settings, maxTries: 1, signal: new AbortController().signal });
    this.#timeoutMs = timeoutMs;
  }
  protected override async initRequest(...args: Parameters<NodeTransport['initRequest']>) {
    const props = await super.initRequest(...args);
    return { ...props, signal: AbortSignal.timeout(this.#timeoutMs) };
  }
}

export function lookerSource(
  credentials: LookerCredentials,
  options: { timeoutMs: number; runner?: QueryRunner },
): QuerySource {
  const settings = new ConfigSettings(credentials, Math.max(1, Math.ceil(options.timeoutMs / 1000)));
  const transport = new TimedTransport(settings, options.timeoutMs);
  let lastStatus: number | undefined;
  let lastWasLogin = false;
  transport.observer = (response) => {
    lastStatus = response.statusCode;
    lastWasLogin = /\/login(\/|$|\?)/.test(response.url);
    return response;
  };
  const session = new NodeSession(settings, transport);
  const sdk: Looker40SDK = LookerNodeSDK.init40(settings, transport, session);

  const call = async <T>(what: string, request: Promise<SDKResponse<T, unknown>>): Promise<T> => {
    lastStatus = undefined;
    lastWasLogin = false;
    let response: SDKResponse<T, unknown>;
    try {
      response = await request;
    } catch (error) {
      // Login failures are thrown by the session rather than returned.
      throw classify(what, lastStatus, lastWasLogin, (error as Error).message, error);
    }
    if (response.ok) return response.value;
    const message = (response.error as { message?: string } | undefined)?.message ?? 'unknown error';
    throw classify(what, lastStatus, lastWasLogin, message, response.error);
  };

  return {
    async queryIdOf(link: LookerLink) {
      if (link.kind === 'look') {
        const look = await call(`Look ${link.lookId}`, sdk.look(link.lookId, 'id,query_id,query'));
        // query_id is numeric on older Lookers and the query's slug on newer ones: either way the
        // id that query_for_slug gives the same query, and that run_query takes.
        const id = look.query_id ?? look.query?.id;
        if (id === undefined || id === null || id === '')
          throw new CreditError('query_not_found', `Look ${link.lookId} has no query`);
        return String(id);
      }
      const query = await call(`query ${link.slug}`, sdk.query_for_slug(link.slug, 'id,slug'));
      if (query.id === undefined || query.id === null || query.id === '')
        throw new CreditError('query_not_found', `query ${link.slug} has no id`);
      return String(query.id);
    },
    async query(queryId: string) {
      const sql = await call(
        `the SQL of query ${queryId}`,
        sdk.run_query({ query_id: queryId, result_format: 'sql' }),
      );
      return {
        queryId,
        sql: String(sql),
        rows: async () => {
          if (options.runner) return options.runner.run(String(sql));
          const json = await call(
            `the rows of query ${queryId}`,
            sdk.run_query({ query_id: queryId, result_format: 'json', cache: true }),
          );
          return lookerRows(queryId, typeof json === 'string' ? parseJson(queryId, json) : json);
        },
      };
    },
    async close() {
      await session.logout().catch(() => false);
    },
  };
}

function parseJson(queryId: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CreditError(
      'bad_rows',
      `Looker's rows of query ${queryId} are not JSON: ${text.slice(0, 200)}`,
    );
  }
}

/**
 * Looker answers a query that fails in the database (or does not compile) with HTTP 200 and
 * `[{"looker_error": "..."}]`: that is Looker's reason, not a row.
 */
export function lookerRows(queryId: string, body: unknown): QueryRow[] {
  const first = Array.isArray(body) ? body[0] : body;
  if (first && typeof first === 'object' && 'looker_error' in first) {
    const reason = String((first as { looker_error: unknown }).looker_error);
    throw new CreditError('looker_query_failed', `Looker could not run query ${queryId}: ${reason}`);
  }
  if (!Array.isArray(body))
    throw new CreditError('bad_rows', `query ${queryId} did not return a list of rows`);
  return body as QueryRow[];
}

function classify(
  what: string,
  status: number | undefined,
  login: boolean,
  message: string,
  cause: unknown,
): CreditError {
  // Looker answers a failed login with 404 (or 401/403); any refusal of /login is about credentials.
  const refusedLogin = login && status !== undefined && status < 500 && status !== 429;
  if (refusedLogin || status === 401 || status === 403 || /client_id|client_secret/i.test(message))
    return new CreditError(
      'looker_auth',
      `Looker refused the credentials while fetching ${what}: ${message}`,
      {
        cause,
      },
    );
  if (status === 404) return new CreditError('query_not_found', `Looker has no ${what} (404)`, { cause });
  if (status === 429 || status === undefined || status >= 500)
    return new CreditError(
      'looker_unavailable',
      `Looker did not answer for ${what}${status ? ` (HTTP ${status})` : ''}: ${message}`,
      { transient: true, cause },
    );
  return new CreditError('query_not_found', `Looker refused ${what} (HTTP ${status}): ${message}`, { cause });
}
