// The overview: is everything up, what is waiting, what went out in the last day, what the
// language model has spent, and what needs a person.
import { usageOn, utcDay } from '../../ai/usage.ts';
import { hourlyDelivery } from '../../channels/outbox/operator.ts';
import { pageOfMessages } from '../../channels/outbox/routes.ts';
import { type ComponentStatus, runChecks } from '../../health.ts';
import { barChart, OUTCOME_COLOURS } from '../charts.ts';
import { badge, count, link, section, table, time } from '../components.ts';
import { html, type SafeHtml } from '../html.ts';
import type { PageDefinition } from '../ui.ts';
import type { PlatformPageDeps } from './deps.ts';

const CHECK_CACHE_MS = 10_000;
const CHANNELS = ['sms', 'email', 'slack'] as const;

export function overviewPage(deps: PlatformPageDeps): PageDefinition {
  // Provider checks may call out (Looker, Stripe): the live refresh reads them at most every 10 s.
  let cached: { at: number; components: ComponentStatus[] } | null = null;
  const components = async () => {
    if (!cached || Date.now() - cached.at > CHECK_CACHE_MS)
      cached = { at: Date.now(), components: await runChecks(deps.checks, 2000) };
    return cached.components;
  };
  return {
    path: '/console',
    title: 'Overview',
    nav: 'Overview',
    live: true,
    async render() {
      const since = new Date(Date.now() - 24 * 3600_000);
      const [health, queues, hourly, failures, usage, attention] = await Promise.all([
        components(),
        deps.jobs.queueCounts(),
        hourlyDelivery(deps.db, since),
        pageOfMessages(deps.db, { status: 'failed', limit: 8 }),
        usageOn(deps.db, utcDay(new Date())),
        deps.attention(20),
      ]);
      return html`${section('Components', componentCards(deps, health))}
${section(
  'Needs a person',
  table(
    'Items that need an operator, newest first',
    [
      { label: 'When', cell: (i) => time(i.at) },
      { label: 'What', cell: (i) => badge(i.kind, 'bad') },
      { label: 'Item', cell: (i) => link(i.href, i.title) },
      { label: 'Why', cell: (i) => i.detail },
    ],
    attention,
    'Nothing needs a person right now.',
  ),
)}
${section('Messages in the last 24 hours', deliveryCharts(hourly, since))}
${section(
  'Queues',
  table(
    'Jobs per queue (pg-boss)',
    [
      { label: 'Queue', cell: (q) => link(`/console/jobs?queue=${encodeURIComponent(q.name)}`, q.name) },
      { label: 'Ready', cell: (q) => count(q.ready), numeric: true },
      { label: 'Deferred', cell: (q) => count(q.deferred), numeric: true },
      { label: 'Active', cell: (q) => count(q.active), numeric: true },
      { label: 'Failed', cell: (q) => count(q.failed), numeric: true },
    ],
    queues.filter((q) => !q.deadLetter || q.total > 0),
  ),
)}
${section(
  'Recent failures',
  table(
    'Failed messages, newest first',
    [
      { label: 'When', cell: (m) => time(m.updatedAt) },
      { label: 'Channel', cell: (m) => m.channel },
      { label: 'To', cell: (m) => link(`/console/outbox/${m.id}`, m.recipient) },
      { label: 'Error', cell: (m) => m.lastError ?? m.errorCode ?? '' },
    ],
    failures.messages,
    'No failed messages.',
  ),
)}
${section('Language model today', aiUsage(deps, usage))}`;
    },
  };
}

function componentCards(deps: PlatformPageDeps, health: ComponentStatus[]): SafeHtml {
  const info = deps.info();
  const cards = health.map(
    (c) =>
      html`<div class="card"><h3>${c.name}</h3><p>${badge(c.status)}${c.critical === false ? ' (optional)' : ''}</p><p>${c.status === 'up' ? (c.detail ?? '') : (c.error ?? '')}</p><p>${c.latencyMs} ms</p></div>`,
  );
  for (const [channel, driver] of Object.entries(info.channels))
    cards.push(
      html`<div class="card"><h3>${channel} driver</h3><p>${driver === 'sandbox' ? html`<span class="badge wait">SANDBOX</span> no credentials set` : html`${badge('up')} ${driver}`}</p></div>`,
    );
  const ai = info.drivers.ai ?? 'offline';
  cards.push(
    html`<div class="card"><h3>language model</h3><p>${ai === 'offline' ? html`<span class="badge wait">OFFLINE</span> no key set: built-in answers` : html`${badge('up')} ${ai}`}</p></div>`,
  );
  return html`<div class="cards">${cards}</div>`;
}

function deliveryCharts(
  rows: Array<{ hour: string; channel: string; outcome: string; count: number }>,
  since: Date,
) {
  const hours: string[] = [];
  for (let t = new Date(since); t <= new Date(); t = new Date(t.getTime() + 3600_000))
    hours.push(t.toISOString().slice(0, 13));
  const charts = CHANNELS.map((channel) => {
    const series = ['delivered', 'sent', 'failed'].map((outcome) => ({
      name: outcome,
      colour: OUTCOME_COLOURS[outcome] as string,
      values: hours.map(
        (hour) =>
          rows.find((r) => r.hour === hour && r.channel === channel && r.outcome === outcome)?.count ?? 0,
      ),
    }));
    return barChart(
      `${channel.toUpperCase()} per hour (UTC)`,
      hours.map((h) => `${h.slice(11)}h`),
      series,
    );
  });
  return html`<div class="charts">${charts}</div>`;
}

function aiUsage(deps: PlatformPageDeps, usage: Awaited<ReturnType<typeof usageOn>>): SafeHtml {
  const budget = deps.ai.describe().dailyTokenBudget;
  const spent = usage.reduce((sum, u) => sum + Number(u.input_tokens) + Number(u.output_tokens), 0);
  const share = budget > 0 ? Math.min(100, Math.round((spent / budget) * 100)) : 0;
  return html`<p>${count(spent)} tokens of the daily budget of ${count(budget)} (${share}%).</p>
<progress max="100" value="${share}" aria-label="Share of today's token budget spent">${share}%</progress>
${table(
  'Tokens by purpose today (UTC)',
  [
    { label: 'Purpose', cell: (u) => u.purpose },
    { label: 'Calls', cell: (u) => count(u.calls), numeric: true },
    { label: 'Input tokens', cell: (u) => count(Number(u.input_tokens)), numeric: true },
    { label: 'Output tokens', cell: (u) => count(Number(u.output_tokens)), numeric: true },
  ],
  usage,
  'No language-model calls today.',
)}`;
}
