// Request count and latency by route template (never the raw URL: ids would explode the series).
// The API records them from Fastify's onResponse hook; the worker's health server (ops-server.ts)
// calls recordRequest itself.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';

/** One answered request: `route` is the route's template, or `unmatched`. */
export function recordRequest(
  metrics: Metrics,
  request: { method: string; route: string; statusCode: number; seconds: number },
): void {
  const labels = { method: request.method, route: request.route, status_code: String(request.statusCode) };
  metrics.httpRequests.inc(labels);
  metrics.httpDuration.observe(labels, request.seconds);
}

export function installRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    recordRequest(metrics, {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    });
  });
}
