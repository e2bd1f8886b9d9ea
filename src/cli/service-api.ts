// CLI commands that act on data go through the service's HTTP API: in this process (a service
// booted without listening) when the database is free, or the running server's API when it holds
// the embedded database. Either way the same validation and the same code paths apply.
import type { Config } from '../config.ts';
import { type Service, startService } from '../main.ts';
import { DataDirLockedError } from '../platform/db/lockfile.ts';
import type { Logger } from '../platform/log.ts';

export interface ApiResponse {
  status: number;
  body: unknown;
}

export type ServiceApi = (
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
) => Promise<ApiResponse>;

export interface OpenApi {
  api: ServiceApi;
  /** Where the data lives, for messages ("the embedded database in ./data"). */
  where: string;
  close(): Promise<void>;
}

export async function openServiceApi(config: Config, log: Logger): Promise<OpenApi> {
  const headers: Record<string, string> = config.adminToken
    ? { authorization: `Bearer ${config.adminToken}` }
    : {};
  let service: Service<'http'>;
  try {
    // HTTP-only mode: jobs are queued here and delivered by the service's workers.
    service = await startService({ config, log, mode: 'http', listen: false });
  } catch (error) {
    if (!(error instanceof DataDirLockedError) || !error.owner.httpUrl) throw error;
    const base = error.owner.httpUrl;
    return {
      where: `the running server at ${base}`,
      close: async () => {},
      api: async (method, url, body) => {
        const response = await fetch(`${base}${url}`, {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(10 * 60_000),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : null };
      },
    };
  }
  return {
    where:
      config.database.kind === 'pglite'
        ? `the embedded database in ${config.database.dataDir}`
        : 'the PostgreSQL database',
    close: () => service.stop(),
    api: async (method, url, body) => {
      const response = await service.app.inject({
        method,
        url,
        headers,
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: response.statusCode, body: response.body ? response.json() : null };
    },
  };
}
