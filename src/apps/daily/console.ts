// The daily messages app's console pages: subscribers (search, zone, window, paused, opted out),
// today's plan per hour with its delivery status, the opt-out and opt-in history, one subscriber
// with their messages, and "plan now". Read through the same store functions as the /subscribers
// API (and the platform's consent log). Loaded only by processes that serve the console.
import { z } from 'zod';
import { listConsentEvents } from '../../platform/channels/suppression.ts';
import { barChart } from '../../platform/console/charts.ts';
import {
  actionForm,
  badge,
  count,
  details,
  filterForm,
  link,
  section,
  table,
  time,
} from '../../platform/console/components.ts';
import { html, queryString, type SafeHtml } from '../../platform/console/html.ts';
import type { ConsoleUi } from '../../platform/console/ui.ts';
import type { Database } from '../../platform/db/database.ts';
import { invalidInput, notFound } from '../../platform/errors.ts';
import type { PlanResult } from './planning.ts';
import { subscriberFilter, subscriberQuery } from './routes.ts';
import {
  getListedSubscriber,
  type ListedSubscriber,
  listSubscribers,
  messageHistory,
  planByHour,
} from './store.ts';
import { presentSubscriber } from './subscribers.ts';

export interface DailyConsoleDeps {
  db: Database;
  plan: () => Promise<PlanResult>;
}

const PAGE_SIZE = 50;
const CONSENT_PAGE = 50;
/** The statuses of a day's messages, in the order they are charted. */
/** The plan shown: the last hours' sends with their delivery, and what is planned for the next day. */
const PLAN_BEHIND_HOURS = 12;
const PLAN_AHEAD_HOURS = 24;
const PLAN_STATUSES = ['planned', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed'];

export function addConsole(ui: ConsoleUi, deps: DailyConsoleDeps): void {
  const { db } = deps;

  ui.page({
    path: '/console/daily',
    title: 'Daily messages',
    nav: 'Daily',
    live: true,
    async render(view) {
      const query = filtersOf(view.query);
      const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      const from = new Date(hour - PLAN_BEHIND_HOURS * 3_600_000);
      const [subscribers, plan, consent] = await Promise.all([
        listSubscribers(db.orm, subscriberQuery(query)),
        planByHour(db.orm, from, new Date(hour + PLAN_AHEAD_HOURS * 3_600_000)),
        listConsentEvents(db.orm, { limit: 10 }),
      ]);
      const next = subscribers.length === query.limit ? (subscribers.at(-1)?.id ?? null) : null;
      return html`<p>${actionForm('/console/daily/plan', 'Plan now', view.csrf, {}, 'primary')} Plans the next local day for every subscriber whose window has not been planned yet (once a day each: planning again adds nothing).</p>
${section(
  'Subscribers',
  html`${filterForm(
    '/console/daily',
    [
      { name: 'q', label: 'Phone or name', type: 'search', placeholder: '+1415' },
      { name: 'timeZone', label: 'Time zone', placeholder: 'America/New_York' },
      { name: 'window', label: 'Window', placeholder: '09:00-17:00' },
      { name: 'paused', label: 'Paused', options: ['true', 'false'] },
      { name: 'optedOut', label: 'Opted out', options: ['true', 'false'] },
    ],
    view.query,
  )}
${table(
  'Subscribers, by id',
  [
    { label: 'Phone', cell: (s) => link(`/console/daily/subscribers/${s.id}`, s.phone) },
    { label: 'Name', cell: (s) => s.name ?? '' },
    { label: 'Time zone', cell: (s) => s.timeZone },
    { label: 'Window', cell: (s) => presentSubscriber(s).window },
    { label: 'Language', cell: (s) => s.language },
    { label: 'State', cell: (s) => stateOf(s) },
  ],
  subscribers,
  'No subscriber matches.',
)}
${
  next || query.after
    ? html`<nav class="pager" aria-label="Pages">${query.after ? html`<a href="/console/daily${queryString({ ...view.query, after: undefined })}">First</a> ` : ''}${next ? html`<a href="/console/daily${queryString({ ...view.query, after: next })}" rel="next">Next</a>` : ''}</nav>`
    : ''
}`,
  'subscribers',
)}
${section('Today’s plan', planChart(plan, from), 'plan')}
${section(
  'Opt-outs and opt-ins',
  html`${consentTable(consent)}<p>${link('/console/daily/consent', 'The whole consent history')}</p>`,
  'consent',
)}`;
    },
  });

  ui.page({
    path: '/console/daily/subscribers/:id',
    title: (view) => `Subscriber ${view.params.id?.slice(0, 8) ?? ''}`,
    live: true,
    async render(view) {
      const id = view.params.id;
      const row = id && z.uuid().safeParse(id).success ? await getListedSubscriber(db.orm, id) : undefined;
      if (!row) throw notFound(`Subscriber ${id ?? ''}`);
      const [messages, consent] = await Promise.all([
        messageHistory(db.orm, row.id, { limit: 30 }),
        listConsentEvents(db.orm, { phone: row.phone, limit: 20 }),
      ]);
      const shown = presentSubscriber(row);
      return html`${details([
        ['Phone', row.phone],
        ['Name', row.name],
        ['Time zone', row.timeZone],
        ['Window', shown.window],
        ['Language', row.language],
        ['State', stateOf(row)],
        ['Opted out', row.optedOutAt ? html`${time(row.optedOutAt)} (${row.optOutReason ?? ''})` : 'no'],
        ['Paused until', row.pausedUntil],
        ['Subscribed', time(row.createdAt)],
      ])}
${section(
  'Messages',
  table(
    'Planned and sent, newest first',
    [
      { label: 'Local date', cell: (m) => m.localDate },
      { label: 'Send at', cell: (m) => time(m.sendAt) },
      {
        label: 'Status',
        cell: (m) => badge(m.status ?? (m.queuedAt ? 'removed' : 'planned'), m.status ? undefined : 'plain'),
      },
      { label: 'Text', cell: (m) => m.body },
      { label: 'Written by', cell: (m) => m.source },
      { label: 'Outbox', cell: (m) => (m.outboxId ? link(`/console/outbox/${m.outboxId}`, 'message') : '') },
      { label: 'Error', cell: (m) => m.error ?? '' },
    ],
    messages,
    'Nothing planned for this subscriber yet.',
  ),
)}
${section('Opt-outs and opt-ins', consentTable(consent))}`;
    },
  });

  ui.page({
    path: '/console/daily/consent',
    title: 'Consent history',
    live: true,
    async render(view) {
      const before = cursorOf(view.query.before);
      const events = await listConsentEvents(db.orm, {
        limit: CONSENT_PAGE + 1,
        ...(view.query.phone ? { phone: view.query.phone } : {}),
        ...(before ? { before } : {}),
      });
      const page = events.slice(0, CONSENT_PAGE);
      const last = page.at(-1);
      const next = events.length > CONSENT_PAGE && last ? `${last.createdAt.toISOString()}|${last.id}` : null;
      return html`<p>Every opt-out and opt-in of every number (all apps honour the suppression list), as carriers and regulators ask it kept.</p>
${filterForm('/console/daily/consent', [{ name: 'phone', label: 'Phone (E.164)', placeholder: '+14155550100' }], view.query)}
${consentTable(page)}
${next ? html`<nav class="pager" aria-label="Pages"><a href="/console/daily/consent${queryString({ ...view.query, before: next })}" rel="next">Older</a></nav>` : ''}`;
    },
  });

  ui.action({
    path: '/console/daily/plan',
    name: 'daily.plan',
    confirm: async () =>
      'Plan the next local day for every subscriber now? Messages are written and their send times chosen.',
    async run() {
      const result = await deps.plan();
      return {
        message: `Planned ${result.planned} message${result.planned === 1 ? '' : 's'} (${result.released} queued now, ${result.overQuota} over the daily quota, ${result.personalised} personalised) in ${result.durationMs} ms.`,
        redirect: '/console/daily',
      };
    },
  });
}

function filtersOf(query: Record<string, string | undefined>) {
  const parsed = subscriberFilter.safeParse({
    ...Object.fromEntries(Object.entries(query).filter(([k, v]) => v && k !== 'done')),
    limit: String(PAGE_SIZE),
  });
  if (!parsed.success)
    throw invalidInput(
      `Filter not understood: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

function stateOf(row: ListedSubscriber): SafeHtml {
  if (row.optedOutAt) return badge('opted out', 'bad');
  const today = new Date().toISOString().slice(0, 10);
  if (row.paused) return badge('paused', 'wait');
  if (row.pausedUntil && row.pausedUntil >= today) return badge(`paused to ${row.pausedUntil}`, 'wait');
  return badge('active', 'good');
}

function planChart(rows: Awaited<ReturnType<typeof planByHour>>, from: Date): SafeHtml {
  const hours = Array.from({ length: PLAN_BEHIND_HOURS + PLAN_AHEAD_HOURS }, (_, i) =>
    new Date(from.getTime() + i * 3_600_000).toISOString().slice(0, 13),
  );
  const statuses = [
    ...PLAN_STATUSES,
    ...[...new Set(rows.map((r) => r.status))].filter((s) => !PLAN_STATUSES.includes(s)),
  ];
  const totals = statuses
    .map((status) => ({
      status,
      count: rows.filter((r) => r.status === status).reduce((a, r) => a + r.count, 0),
    }))
    .filter((t) => t.count > 0);
  const series = totals.map(({ status }) => ({
    name: status,
    values: hours.map((h) => rows.find((r) => r.hour === h && r.status === status)?.count ?? 0),
  }));
  return html`${barChart(
    `Messages per hour, the last ${PLAN_BEHIND_HOURS} and the next ${PLAN_AHEAD_HOURS} hours (UTC send time)`,
    hours.map((h) => `${h.slice(11)}h`),
    series.length ? series : [{ name: 'planned', values: hours.map(() => 0) }],
  )}
${table(
  `Delivery status of the messages sent in the last ${PLAN_BEHIND_HOURS} and planned for the next ${PLAN_AHEAD_HOURS} hours`,
  [
    { label: 'Status', cell: (t) => badge(t.status) },
    { label: 'Messages', cell: (t) => count(t.count), numeric: true },
  ],
  totals,
  'Nothing sent or planned in these hours.',
)}`;
}

function consentTable(events: Awaited<ReturnType<typeof listConsentEvents>>): SafeHtml {
  return table(
    'Opt-outs and opt-ins, newest first',
    [
      { label: 'When', cell: (e) => time(e.createdAt) },
      {
        label: 'Phone',
        cell: (e) => link(`/console/daily/consent${queryString({ phone: e.phone })}`, e.phone),
      },
      {
        label: 'Event',
        cell: (e) =>
          badge(e.event === 'opt_out' ? 'opted out' : 'opted in', e.event === 'opt_out' ? 'bad' : 'good'),
      },
      { label: 'Source', cell: (e) => e.source },
      { label: 'Detail', cell: (e) => e.detail ?? '' },
    ],
    events,
    'No opt-out or opt-in yet.',
  );
}

function cursorOf(value: string | undefined): { at: Date; id: string } | undefined {
  if (!value) return undefined;
  const [at, id] = value.split('|');
  const date = new Date(at ?? '');
  if (!id || !z.uuid().safeParse(id).success || Number.isNaN(date.getTime()))
    throw invalidInput('`before` is not a cursor this page gave');
  return { at: date, id };
}
