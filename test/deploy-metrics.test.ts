// Every metric the alert rules (deploy/components/monitoring/prometheus-rule.yaml) and the Grafana
// dashboard (dashboard.json) query must be one the running service exports, with the labels the
// queries match on or aggregate by. A renamed metric or label would otherwise leave an alert that
// never fires and a panel that stays empty, with nothing to say so.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APP_NAMES, loadApps } from '../src/apps/index.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const MONITORING = new URL('../deploy/components/monitoring/', import.meta.url);

/** Series from other exporters the rules rely on, with the labels used: not Switchboard's to export. */
const EXTERNAL: Record<string, string[]> = {
  // Prometheus's own, per scrape target: 0 when a pod does not answer /metrics.
  up: ['job', 'namespace', 'pod', 'instance'],
};

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

interface Query {
  where: string;
  expr: string;
}

/** What one PromQL expression uses: each metric with the labels matched on it, and grouping labels. */
function usage(expr: string): { metrics: Map<string, Set<string>>; grouping: Set<string> } {
  const metrics = new Map<string, Set<string>>();
  const grouping = new Set<string>();
  let rest = expr
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery windows, [$__rate_interval]
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, _kw, labels: string) => {
      for (const label of labels
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean))
        grouping.add(label);
      return ' ';
    });
  rest = rest.replace(
    /([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g,
    (_, name: string | undefined, body: string) => {
      const labels = new Set(
        [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"/g)].map((m) => m[1]!),
      );
      if (name) metrics.set(name, new Set([...(metrics.get(name) ?? []), ...labels]));
      return ' ';
    },
  );
  rest = rest.replace(/"[^"]*"/g, ' ');
  for (const match of rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (call || PROMQL_WORDS.has(name!.toLowerCase())) continue; // functions and aggregations
    if (!metrics.has(name!)) metrics.set(name!, new Set());
  }
  return { metrics, grouping };
}

function queries(): Query[] {
  const rule = parse(readFileSync(new URL('prometheus-rule.yaml', MONITORING), 'utf8')) as {
    spec: { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  };
  const fromRules = rule.spec.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
  );
  const dashboard = JSON.parse(readFileSync(new URL('dashboard.json', MONITORING), 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  };
  const fromPanels = dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
  );
  return [...fromRules, ...fromPanels];
}

let running: TestService;
let exported: Map<string, { type: string; labels: Set<string> }>;

beforeAll(async () => {
  // Every app, and Redis so the rate-limit store (and its fallback counter) is the production one.
  running = await startTestService('pglite', {
    apps: await loadApps(APP_NAMES),
    env: { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  });
  await running.service.app.inject('/health/ready');
  const response = await running.service.app.inject('/metrics');
  expect(response.statusCode).toBe(200);
  exported = new Map();
  for (const [, name, type] of response.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    // The labels each metric was declared with: the ones its series carry once they have values.
    const metric = running.service.metrics.registry.getSingleMetric(name!) as unknown as
      | { labelNames?: string[] }
      | undefined;
    exported.set(name!, { type: type!, labels: new Set(metric?.labelNames ?? []) });
  }
  // A series that has values shows its labels in the scrape itself: those must agree.
  for (const [, name, labels] of response.body.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} /gm)) {
    const base = exported.get(name!) ? name! : name!.replace(/_(bucket|sum|count)$/, '');
    for (const [, label] of labels!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) {
      if (label !== 'le') expect(exported.get(base)?.labels, `${name} ${label}`).toContain(label);
    }
  }
}, 60_000);

afterAll(async () => {
  await running?.dispose();
});

/** The exported metric a queried name refers to (histograms query _bucket, _sum and _count). */
function resolve(name: string): { labels: Set<string> } | undefined {
  if (EXTERNAL[name]) return { labels: new Set(EXTERNAL[name]) };
  const direct = exported.get(name);
  if (direct) return direct;
  const suffix = /^(.+)_(bucket|sum|count)$/.exec(name);
  const histogram = suffix ? exported.get(suffix[1]!) : undefined;
  if (!histogram || !['histogram', 'summary'].includes(histogram.type)) return undefined;
  return { labels: new Set([...histogram.labels, ...(suffix![2] === 'bucket' ? ['le'] : [])]) };
}

describe('alert rules and dashboard', () => {
  it('finds the queries (the parser reads them)', () => {
    const all = queries();
    expect(all.filter((q) => q.where.startsWith('alert')).length).toBeGreaterThanOrEqual(10);
    expect(all.filter((q) => q.where.startsWith('panel')).length).toBeGreaterThanOrEqual(15);
    const { metrics, grouping } = usage(
      'sum by (queue) (rate(jobs_processed_total{outcome=~"failed|invalid"}[15m])) / sum by (queue) (rate(jobs_processed_total[15m])) > 0.1',
    );
    expect([...metrics]).toEqual([['jobs_processed_total', new Set(['outcome'])]]);
    expect([...grouping]).toEqual(['queue']);
  });

  it('use only metrics the service exports, with labels they have', () => {
    const problems: string[] = [];
    for (const { where, expr } of queries()) {
      const { metrics, grouping } = usage(expr);
      if (metrics.size === 0) problems.push(`${where}: no metric in ${expr}`);
      const available = new Set<string>();
      for (const [name, labels] of metrics) {
        const metric = resolve(name);
        if (!metric) {
          problems.push(`${where}: ${name} is not exported`);
          continue;
        }
        for (const label of metric.labels) available.add(label);
        for (const label of labels)
          if (!metric.labels.has(label)) problems.push(`${where}: ${name} has no label ${label}`);
      }
      for (const label of grouping)
        if (!available.has(label))
          problems.push(`${where}: groups by ${label}, which none of its metrics has`);
    }
    expect(problems).toEqual([]);
  });
});
