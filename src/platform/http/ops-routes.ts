// Routes operators and orchestrators poll: liveness, readiness, per-component status, service
// info and Prometheus metrics. None of them needs auth or counts against rate limits.
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { type ComponentCheck, type ComponentStatus, runChecks } from '../health.ts';
import type { Metrics } from '../metrics.ts';

export interface ServiceInfo {
  name: string;
  version: string;
  uptimeSeconds: number;
  mode: string;
  apps: string[];
  drivers: Record<string, string>;
  channels: Record<string, string>;
}

export interface OpsDependencies {
  /** Components that must be up for the service to take traffic (database, jobs, Redis when set). */
  checks: ComponentCheck[];
  info: () => ServiceInfo;
  metrics: Metrics;
  /** Refresh gauges that are read on demand (queue depths) before a scrape. */
  beforeScrape?: () => Promise<void>;
  checkTimeoutMs?: number;
  /** Where `/` redirects a browser (one that asks for HTML before JSON); JSON for everyone else. */
  browserHome?: string;
}

export function registerOpsRoutes(app: FastifyInstance, deps: OpsDependencies): void {
  const timeout = deps.checkTimeoutMs ?? 2000;
  const tags = ['operations'];
  // What /health/ready decides on, also as a series: an alert on it needs nothing but this
  // service's own /metrics (a pod failing readiness is still scraped).
  const registry = deps.metrics.registry;
  const componentUp =
    (registry.getSingleMetric('health_component_up') as Gauge<'component' | 'critical'> | undefined) ??
    new Gauge({
      name: 'health_component_up',
      help: 'Each component /health/ready checks (database, jobs, redis, the bots’): 1 up, 0 down; critical="true" ones down make the process not ready. Checked at every scrape.',
      labelNames: ['component', 'critical'],
      registers: [registry],
    });
  const checked = async () => {
    const components = await runChecks(deps.checks, timeout);
    record(componentUp, components);
    return components;
  };

  app.get('/health/live', { schema: { tags, summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  app.get(
    '/health/ready',
    {
      schema: {
        tags,
        summary: 'Ready for traffic: 503 names the failing components, `degraded` the optional ones down',
      },
    },
    async (_request, reply) => {
      const components = await checked();
      const down = components.filter((c) => c.status === 'down');
      const failing = down.filter((c) => c.critical !== false).map((c) => c.name);
      // A non-critical component down (Redis) keeps the replica in service, degraded: taking every
      // replica out because their shared Redis is down would turn a degradation into an outage.
      const degraded = down.filter((c) => c.critical === false).map((c) => c.name);
      const status = failing.length ? 'unavailable' : degraded.length ? 'degraded' : 'ready';
      return reply.status(failing.length ? 503 : 200).send({ status, failing, degraded, components });
    },
  );

  app.get(
    '/health/status',
    { schema: { tags, summary: 'Each component with its status and latency' } },
    async () => {
      const components = await checked();
      const down = components.some((c) => c.status === 'down');
      return { status: down ? 'degraded' : 'ok', ...deps.info(), components };
    },
  );

  const home = deps.browserHome;
  app.get(
    '/',
    { schema: { tags, summary: 'Service info as JSON; a browser is sent to the console' } },
    async (request, reply) =>
      home && prefersHtml(request.headers.accept) ? reply.redirect(home, 302) : deps.info(),
  );
  app.get(
    '/info',
    { schema: { tags, summary: 'Name, version, uptime, enabled apps and drivers in use' } },
    async () => deps.info(),
  );

  app.get(
    '/metrics',
    { schema: { tags, summary: 'Prometheus metrics', hide: false } },
    async (request, reply) => {
      await Promise.all([
        deps
          .beforeScrape?.()
          .catch((error) => request.log.warn({ err: error }, 'could not refresh queue depths')),
        checked(),
      ]);
      return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    },
  );
}

/** A browser's Accept (text/html listed, ahead of any JSON); curl's star-slash-star and API clients get JSON. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((part) => part.split(';')[0]?.trim().toLowerCase());
  const htmlAt = types.indexOf('text/html');
  const jsonAt = types.indexOf('application/json');
  return htmlAt >= 0 && (jsonAt < 0 || htmlAt < jsonAt);
}

function record(gauge: Gauge<'component' | 'critical'>, components: ComponentStatus[]): void {
  for (const c of components)
    gauge.set({ component: c.name, critical: String(c.critical !== false) }, c.status === 'up' ? 1 : 0);
}
