// The worker's HTTP server: liveness, readiness, status, info and metrics over node:http, without
// Fastify. A worker serves these routes and nothing else, and Fastify with its plugins (their
// version checks, the router, the schema compilers) was about a seventh of a worker's start in a
// CPU profile. The answers are the API's own (opsAnswers), with what the API puts around them:
// the error envelope, x-request-id, helmet's security headers, the request metrics, a 503 in the
// envelope while closing, and the envelope for requests Node's parser refuses.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet from 'helmet';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { clientErrorHandler } from './client-errors.ts';
import { closeIdleSoon } from './close-idle.ts';
import { CLOSING_MESSAGE, notFoundMessage } from './envelope-messages.ts';
import type { ErrorBody } from './error-handler.ts';
import { type OpsAnswer, type OpsDependencies, opsAnswers } from './ops-routes.ts';
import { requestIdFor } from './request-id.ts';
import { recordRequest } from './request-metrics.ts';

export interface OpsServer {
  /** Listens; the base URL, as Fastify's listen answers it. */
  listen(options: { port: number; host: string }): Promise<string>;
  /** Stops taking connections and waits for the requests in flight. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
// Fastify's default, kept: a load balancer's idle connections outlive Node's 5 s.
const KEEP_ALIVE_MS = 72_000;

const envelope = (status: number, code: ErrorBody['error']['code'], message: string, requestId: string) =>
  ({ status, body: { error: { code, message, requestId } } satisfies ErrorBody }) as OpsAnswer;

export function createOpsServer(options: { ops: OpsDependencies; log: Logger; metrics: Metrics }): OpsServer {
  const { log, metrics } = options;
  const answers = opsAnswers(options.ops);
  const routes: Record<string, (request: http.IncomingMessage) => Promise<OpsAnswer>> = {
    '/health/live': answers.live,
    '/health/ready': answers.ready,
    '/health/status': answers.status,
    '/': (request) => answers.home(request.headers.accept),
    '/info': answers.info,
    '/metrics': () => answers.metrics(log),
  };
  const securityHeaders = helmet();
  let closing = false;

  /** A route's answer; a failure is logged and answered 500 in the envelope, its details kept. */
  const run = async (
    route: (request: http.IncomingMessage) => Promise<OpsAnswer>,
    request: http.IncomingMessage,
    requestId: string,
  ) => {
    try {
      return await route(request);
    } catch (error) {
      log.error({ err: error, reqId: requestId }, 'request failed');
      return envelope(500, 'internal', 'Internal server error', requestId);
    }
  };

  const server = http.createServer((request, response) => {
    const started = performance.now();
    const requestId = requestIdFor(request.headers['x-request-id']);
    const path = (request.url ?? '/').split('?')[0] as string;
    // GET and HEAD, as Fastify serves a GET route; any other method is an unknown route.
    const route =
      (request.method === 'GET' || request.method === 'HEAD') && Object.hasOwn(routes, path)
        ? routes[path]
        : undefined;
    // Arriving on an open connection while the server drains: refused, so it is retried elsewhere.
    const draining = closing;
    securityHeaders(request, response, async () => {
      const out = draining
        ? envelope(503, 'unavailable', CLOSING_MESSAGE, requestId)
        : route
          ? await run(route, request, requestId)
          : envelope(404, 'not_found', notFoundMessage(request.method, path), requestId);
      response.setHeader('x-request-id', requestId);
      if (draining) {
        response.setHeader('connection', 'close');
        response.setHeader('retry-after', '1');
      }
      if (out.location) response.setHeader('location', out.location);
      const content = out.text ? out.text.content : out.location ? '' : JSON.stringify(out.body);
      response.setHeader('content-type', out.text ? out.text.contentType : JSON_TYPE);
      response.setHeader('content-length', Buffer.byteLength(content));
      response.statusCode = out.status;
      response.end(request.method === 'HEAD' ? undefined : content);
      // As the API does (closing.ts): a connection busy when close() ran is closed once idle.
      if (closing) closeIdleSoon(server);
      const seconds = (performance.now() - started) / 1000;
      recordRequest(metrics, {
        method: request.method ?? 'GET',
        route: route ? path : 'unmatched',
        statusCode: out.status,
        seconds,
      });
      log.info(
        {
          reqId: requestId,
          req: { method: request.method, url: path },
          res: { statusCode: out.status },
          responseTime: seconds * 1000,
        },
        'request completed',
      );
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.on('clientError', clientErrorHandler);

  return {
    listen: ({ port, host }) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const { address, family, port: bound } = server.address() as AddressInfo;
          resolve(`http://${family === 'IPv6' ? `[${address}]` : address}:${bound}`);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
