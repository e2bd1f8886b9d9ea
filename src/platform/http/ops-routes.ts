// Routes operators and orchestrators poll: liveness, readiness, per-component status, service
// info and Prometheus metrics. None of them needs auth or counts against rate limits.
import type { FastifyInstance, FastifyReply } from 'fastify';
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

/** One operations route's answer: JSON (or `text` with its content type), or a redirect. */
export interface OpsAnswer {
  status: number;
  body?: unknown;
  text?: { contentType: string; content: string };
  location?: string;
}

/** What each operations route answers, for the API (below) and the worker's server (ops-server.ts). */
export function opsAnswers(deps: OpsDependencies) {
  const timeout = deps.checkTimeoutMs ?? 2000;
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
  const home = deps.browserHome;
  return {
    live: async (): Promise<OpsAnswer> => ({ status: 200, body: { status: 'ok' } }),
    ready: async (): Promise<OpsAnswer> => {
      const components = await checked();
      const down = components.filter((c) => c.status === 'down');
      const failing = down.filter((c) => c.critical !== false).map((c) => c.name);
      // A non-critical component down (Redis) keeps the replica in service, degraded: taking every
      // replica out because their shared Redis is down would turn a degradation into an outage.
      const degraded = down.filter((c) => c.critical === false).map((c) => c.name);
      const status = failing.length ? 'unavailable' : degraded.length ? 'degraded' : 'ready';
      return { status: failing.length ? 503 : 200, body: { status, failing, degraded, components } };
    },
    status: async (): Promise<OpsAnswer> => {
      const components = await checked();
      const down = components.some((c) => c.status === 'down');
      return { status: 200, body: { status: down ? 'degraded' : 'ok', ...deps.info(), components } };
    },
    home: async (accept: string | undefined): Promise<OpsAnswer> =>
      home && prefersHtml(accept) ? { status: 302, location: home } : { status: 200, body: deps.info() },
    info: async (): Promise<OpsAnswer> => ({ status: 200, body: deps.info() }),
    metrics: async (log: { warn(details: object, message: string): void }): Promise<OpsAnswer> => {
      await Promise.all([
        deps.beforeScrape?.().catch((error) => log.warn({ err: error }, 'could not refresh queue depths')),
        checked(),
      ]);
      const text = { contentType: registry.contentType, content: await registry.metrics() };
      return { status: 200, text };
    },
  };
}

/** The operations routes on the API, documented under the `operations` tag. */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsDependencies): void {
  const answers = opsAnswers(deps);
  const tags = ['operations'];
  const send = (reply: FastifyReply, answer: OpsAnswer) => {
    if (answer.location) return reply.redirect(answer.location, answer.status);
    if (answer.text)
      return reply.status(answer.status).type(answer.text.contentType).send(answer.text.content);
    return reply.status(answer.status).send(answer.body);
  };

  app.get('/health/live', { schema: { tags, summary: 'The process is up' } }, async (_request, reply) =>
    send(reply, await answers.live()),
  );
  app.get(
    '/health/ready',
    {
      schema: {
        tags,
        summary: 'Ready for traffic: 503 names the failing components, `degraded` the optional ones down',
      },
    },
    async (_request, reply) => send(reply, await answers.ready()),
  );
  app.get(
    '/health/status',
    { schema: { tags, summary: 'Each component with its status and latency' } },
    async (_request, reply) => send(reply, await answers.status()),
  );
  app.get(
    '/',
    { schema: { tags, summary: 'Service info as JSON; a browser is sent to the console' } },
    async (request, reply) => send(reply, await answers.home(request.headers.accept)),
  );
  app.get(
    '/info',
    { schema: { tags, summary: 'Name, version, uptime, enabled apps and drivers in use' } },
    async (_request, reply) => send(reply, await answers.info()),
  );
  app.get(
    '/metrics',
    { schema: { tags, summary: 'Prometheus metrics', hide: false } },
    async (request, reply) => send(reply, await answers.metrics(request.log)),
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
