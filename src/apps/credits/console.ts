// CreditBot's console pages: the requests with their status and amount, one request with its
// per-link table, skipped links and why, the stored summary and the notebook's output; retry of a
// failed one; the credits granted per day and week; and, with the sandbox Slack, a composer that
// posts a credit request with the sample Looker links. Read through the same store and service
// functions as the /credits API. Loaded only by processes that serve the console.
import { z } from 'zod';
import { barChart } from '../../platform/console/charts.ts';
import {
  actionForm,
  badge,
  count,
  details,
  filterForm,
  jsonBlock,
  link,
  pager,
  section,
  table,
  time,
} from '../../platform/console/components.ts';
import { html, queryString, type SafeHtml } from '../../platform/console/html.ts';
import type { ConsoleUi, PageView } from '../../platform/console/ui.ts';
import { invalidInput, notFound } from '../../platform/errors.ts';
import { formatMoney } from '../../platform/money.ts';
import type { CreditProgress, CreditSummary, LinkOutcome } from './compute.ts';
import { SANDBOX_CREDITS_CHANNEL } from './config.ts';
import { addOpinionConsole, opinionCell, opinionSection } from './console-opinion.ts';
import type { IntakeDeps } from './intake.ts';
import { listCreditRequests, opinionOf } from './prediction/views.ts';
import { sandboxLinks } from './sandbox-looker.ts';
import { CREDIT_REQUEST_STATUSES, type CreditRequestRow, type CreditRequestStatus } from './schema.ts';
import { type CreditService, postSandboxRequest } from './service.ts';
import { creditsPerDay, getRequest, listRequests } from './store.ts';

export interface CreditConsoleDeps {
  intake: IntakeDeps;
  service: CreditService;
  /** The sandbox Slack channel is in use (no Slack credentials): the composer is shown. */
  sandboxSlack: boolean;
}

const PAGE_SIZE = 50;
const DAYS = 30;
const WEEKS = 12;

const usd = (cents: number | null | undefined) =>
  cents === null || cents === undefined ? '—' : formatMoney(cents, 'USD');

export function addConsole(ui: ConsoleUi, deps: CreditConsoleDeps): void {
  const db = deps.intake.db;

  ui.page({
    path: '/console/credits',
    title: 'CreditBot',
    nav: 'CreditBot',
    live: true,
    async render(view) {
      const status = statusOf(view.query.status);
      const before = view.query.before ? instant(view.query.before) : undefined;
      const rows = await listCreditRequests(db, {
        limit: PAGE_SIZE + 1,
        ...(before ? { before } : {}),
        ...(status ? { status } : {}),
      });
      const page = rows.slice(0, PAGE_SIZE);
      const next = rows.length > PAGE_SIZE ? (page.at(-1)?.row.createdAt.toISOString() ?? null) : null;
      const now = Date.now();
      // One read of the days since the first week's Monday: the weeks are added up from them.
      const firstMonday = new Date(startOfWeek(new Date(now)).getTime() - (WEEKS - 1) * 7 * 86_400_000);
      const days = await creditsPerDay(db.orm, firstMonday);
      return html`${section(
        'Requests',
        html`${filterForm('/console/credits', [{ name: 'status', label: 'Status', options: [...CREDIT_REQUEST_STATUSES] }], view.query)}
${table(
  'Credit requests, newest first',
  [
    { label: 'Received', cell: ({ row: r }) => link(`/console/credits/${r.id}`, time(r.createdAt)) },
    { label: 'Status', cell: ({ row: r }) => statusBadge(r.status) },
    { label: 'Amount', cell: ({ row: r }) => usd(r.amountCents), numeric: true },
    { label: 'Second opinion', cell: ({ opinion }) => opinionCell(opinion) },
    { label: 'Channel', cell: ({ row: r }) => r.channel },
    { label: 'Intake', cell: ({ row: r }) => r.intake },
    { label: 'Attempts', cell: ({ row: r }) => r.attempts, numeric: true },
    { label: 'Message', cell: ({ row: r }) => excerpt(r.text) },
    { label: 'Error', cell: ({ row: r }) => r.error ?? '' },
  ],
  page,
  'No credit requests match.',
)}
${pager('/console/credits', view.query, next)}`,
      )}
${section('Credits granted', html`${creditCharts(days, now)}<p>${link('/console/credits/analytics', 'Analytics')}: totals by week and month, product and mode, the largest accounts, credit-to-cost ratios.</p>`)}`;
    },
  });

  ui.page({
    path: '/console/credits/:id',
    title: (view) => `Credit request ${view.params.id?.slice(0, 8) ?? ''}`,
    live: true,
    async render(view) {
      const row = await mustFind(deps, view.params.id);
      const opinion = await opinionOf(db, row);
      return html`${row.status === 'failed' ? html`<p>${actionForm(`/console/credits/${row.id}/retry`, 'Retry this request', view.csrf, {}, 'primary')}</p>` : ''}
${details([
  ['Status', statusBadge(row.status)],
  ['Amount', usd(row.amountCents)],
  ['Channel', row.channel],
  ['Message ts', row.ts],
  ['Intake', row.intake],
  ['Attempts', row.attempts],
  ['Round', row.round],
  ['Received', time(row.createdAt)],
  ['Finished', time(row.finishedAt)],
  ['Edited', time(row.editedAt)],
  ['Error', row.error],
])}
${section('Message', html`<pre class="text">${row.text}</pre>`)}
${opinionSection(row.id, opinion, view.csrf)}
${requestBody(row)}`;
    },
  });

  ui.action({
    path: '/console/credits/:id/retry',
    name: 'credits.retry',
    confirm: async (view) => {
      const row = await mustFind(deps, view.params.id);
      return `Compute credit request ${row.id.slice(0, 8)} again? It failed${row.error ? `: ${row.error}` : ''}.`;
    },
    async run(view) {
      const id = (await mustFind(deps, view.params.id)).id;
      const row = await deps.service.retry(id);
      return {
        message: `Credit request ${id.slice(0, 8)} queued again (round ${row.round}).`,
        target: id,
        redirect: `/console/credits/${id}`,
      };
    },
  });

  ui.attention(async (limit) => {
    const failed = await listRequests(db.orm, { limit, status: 'failed' });
    return failed.map((r) => ({
      kind: 'failed credit request',
      title: `Credit request ${r.id.slice(0, 8)} in ${r.channel}`,
      detail: r.error ?? 'failed',
      href: `/console/credits/${r.id}`,
      at: r.finishedAt ?? r.updatedAt,
    }));
  });

  addOpinionConsole(ui, { db, service: deps.service });

  if (!deps.sandboxSlack) return;
  ui.sandboxPanel(async (view) => composer(deps, view));
  ui.action({
    path: '/console/credits/sandbox-request',
    name: 'credits.sandbox_request',
    confirm: null,
    async run(view) {
      const chosen = sandboxLinks(deps.intake.config.lookerHost)
        .map((l, i) => (view.form[`link${i}`] === 'on' ? l.url : null))
        .filter((url): url is string => url !== null);
      const text = [(view.form.text ?? '').trim(), ...chosen].filter(Boolean).join(' ');
      if (!text) throw invalidInput('Write a message or choose a sample link.');
      if (text.length > 40_000) throw invalidInput('The message is longer than 40,000 characters.');
      const posted = await postSandboxRequest(
        deps.intake,
        deps.service.postSandboxMessage,
        view.form.channel ?? SANDBOX_CREDITS_CHANNEL.id,
        text,
      );
      const outcome =
        posted.outcome === 'ignored' ? `not a request (${posted.reason})` : `request ${posted.outcome}`;
      return {
        message: `Posted to ${posted.channel} as a person would (ts ${posted.ts}): ${outcome}. The answer arrives in its thread.`,
        target: 'id' in posted && posted.id ? posted.id : posted.ts,
        redirect: `/console/sandbox${queryString({ tab: 'slack', channel: posted.channel })}`,
      };
    },
  });
}

/** The composer on the sandbox page's Slack tab. */
function composer(deps: CreditConsoleDeps, view: PageView): SafeHtml {
  const links = sandboxLinks(deps.intake.config.lookerHost);
  return section(
    'Post a credit request',
    html`<form method="post" action="/console/credits/sandbox-request" class="stack">
<input type="hidden" name="_csrf" value="${view.csrf}">
<input type="hidden" name="channel" value="${SANDBOX_CREDITS_CHANNEL.id}">
<p>Posts to #${SANDBOX_CREDITS_CHANNEL.name} (${SANDBOX_CREDITS_CHANNEL.id}) as a person would; CreditBot answers in the message's thread below.</p>
<p><label for="credit-text">Message</label><br><textarea id="credit-text" name="text" rows="2" cols="60">Please process this credit request</textarea></p>
<fieldset><legend>Sample Looker links to add (the sandbox Looker)</legend>
${links.map(
  (l, i) =>
    html`<p><input type="checkbox" id="credit-link-${i}" name="link${i}"${i === 0 ? html` checked` : ''}> <label for="credit-link-${i}">${l.title}: <code>${l.url}</code></label></p>`,
)}
</fieldset>
<p><button type="submit" class="primary">Post the credit request</button></p>
</form>`,
    'credit-composer',
  );
}

function requestBody(row: CreditRequestRow): SafeHtml {
  if (!row.summary) return html`<p class="empty">No summary yet: the request has not been computed.</p>`;
  const summary = row.summary as Partial<CreditSummary & CreditProgress>;
  const links = summary.links ?? [];
  const notSkipped = links.filter((l) => l.status === 'credited' || l.status === 'failed');
  const skipped = links.filter((l) => l.status !== 'credited' && l.status !== 'failed');
  const notebooks = links.filter((l) => l.summaryText || l.notebook);
  return html`${
    summary.failure
      ? section(
          'Failure',
          details([
            ['Link', summary.failure.link],
            ['Code', summary.failure.code],
            ['Reason', summary.failure.reason],
          ]),
        )
      : section(
          'Result',
          details([
            ['Amount', summary.amountCents !== undefined ? usd(summary.amountCents) : summary.amount],
            ['Product', summary.product ?? null],
            ['Calculator', summary.calculator ?? null],
            ['Links credited', summary.credited ?? null],
            ['Links skipped', summary.skipped ?? null],
            ['Computed in', summary.durationMs !== undefined ? `${count(summary.durationMs)} ms` : null],
          ]),
        )
  }
${section(
  'Links',
  table(
    'Each link of the message, as computed',
    [
      { label: 'Link', cell: (l: LinkOutcome) => html`<a href="${l.url}" rel="noreferrer">${l.link}</a>` },
      {
        label: 'Status',
        cell: (l) =>
          badge(l.status, l.status === 'credited' ? 'good' : l.status === 'failed' ? 'bad' : 'plain'),
      },
      { label: 'Query', cell: (l) => l.queryId ?? '' },
      { label: 'Product', cell: (l) => l.product ?? '' },
      { label: 'Calculator', cell: (l) => l.calculator ?? '' },
      { label: 'Credit', cell: (l) => usd(l.creditCents), numeric: true },
      { label: 'Time', cell: (l) => `${count(l.durationMs)} ms`, numeric: true },
      { label: 'Reason', cell: (l) => l.reason ?? '' },
    ],
    notSkipped,
    'No link was computed.',
  ),
)}
${section(
  'Skipped links',
  table(
    'Links not credited, and why',
    [
      { label: 'Link', cell: (l: LinkOutcome) => html`<a href="${l.url}" rel="noreferrer">${l.link}</a>` },
      { label: 'Why', cell: (l) => badge(l.status, 'plain') },
      { label: 'Reason', cell: (l) => l.reason ?? '' },
    ],
    skipped,
    'No link was skipped.',
  ),
)}
${
  summary.table?.length
    ? section(
        'Summary table',
        table(
          'The credit by Fraud Guard mode',
          [
            { label: 'Mode', cell: (r) => r.mode },
            { label: 'Traffic share', cell: (r) => r.traffic_prop, numeric: true },
            { label: 'Messages', cell: (r) => count(r.msg_count), numeric: true },
            { label: 'Fraud cost', cell: (r) => usd(r.fraud_cost), numeric: true },
            { label: 'Block rate', cell: (r) => r.block_rate, numeric: true },
            { label: 'Credit', cell: (r) => usd(r.credit), numeric: true },
          ],
          summary.table,
        ),
      )
    : ''
}
${
  notebooks.length
    ? section(
        'Notebook output',
        html`${notebooks.map(
          (l) =>
            html`<h3>${l.link}</h3>${
              l.notebook
                ? details([
                    ['Notebook', l.notebook.path],
                    ['sha256', html`<code>${l.notebook.sha256}</code>`],
                    ['Parameters injected', l.notebook.injected.join(', ')],
                    ['Heading', l.notebook.heading],
                    ['Kernel time', l.kernelMs !== undefined ? `${count(l.kernelMs)} ms` : null],
                  ])
                : ''
            }${l.summaryText ? html`<pre class="text">${l.summaryText}</pre>` : ''}${
              l.notebook?.cells.length
                ? html`<details><summary>The summary cells (source and output)</summary>${l.notebook.cells.map(
                    (cell) =>
                      html`<p>Cell ${cell.executionCount ?? ''}</p><pre class="text">${cell.source}</pre><pre class="text">${cell.output}</pre>`,
                  )}</details>`
                : ''
            }`,
        )}`,
      )
    : ''
}
${section('Stored summary', html`<details><summary>The summary as stored (JSON)</summary>${jsonBlock(row.summary)}</details>`)}`;
}

type Day = Awaited<ReturnType<typeof creditsPerDay>>[number];

function creditCharts(days: Day[], now: number): SafeHtml {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const lastDays: string[] = [];
  for (let i = DAYS - 1; i >= 0; i--)
    lastDays.push(new Date(now - i * 86_400_000).toISOString().slice(0, 10));
  const monday = startOfWeek(new Date(now));
  const weeks: Array<{ period: string; requests: number; amountCents: number }> = [];
  for (let i = WEEKS - 1; i >= 0; i--) {
    const start = monday.getTime() - i * 7 * 86_400_000;
    const week = { period: new Date(start).toISOString().slice(0, 10), requests: 0, amountCents: 0 };
    for (let d = 0; d < 7; d++) {
      const day = byDay.get(new Date(start + d * 86_400_000).toISOString().slice(0, 10));
      week.requests += day?.requests ?? 0;
      week.amountCents += day?.amountCents ?? 0;
    }
    weeks.push(week);
  }
  const dollars = (cents: number) => Math.round(cents / 100);
  const total = weeks.reduce((sum, w) => sum + w.amountCents, 0);
  const answered = weeks.reduce((sum, w) => sum + w.requests, 0);
  return html`<p>${usd(total)} granted in ${count(answered)} answered request${answered === 1 ? '' : 's'} over the last ${WEEKS} weeks.</p>
${barChart(
  'Credits per day (UTC, whole US dollars)',
  lastDays.map((d) => d.slice(5)),
  [{ name: 'credited', values: lastDays.map((d) => dollars(byDay.get(d)?.amountCents ?? 0)) }],
)}
${barChart(
  'Credits per week (weeks from Monday, whole US dollars)',
  weeks.map((w) => w.period.slice(5)),
  [{ name: 'credited', values: weeks.map((w) => dollars(w.amountCents)) }],
)}
${table(
  'Credits per week, exact',
  [
    { label: 'Week of', cell: (w) => w.period },
    { label: 'Requests answered', cell: (w) => count(w.requests), numeric: true },
    { label: 'Credited', cell: (w) => usd(w.amountCents), numeric: true },
  ],
  weeks.filter((w) => w.requests > 0).reverse(),
  'No credits granted in this time.',
)}`;
}

function startOfWeek(date: Date): Date {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000);
}

/** A request's status with its colour (`done` is CreditBot's word for answered). */
const statusBadge = (status: CreditRequestStatus) => badge(status, status === 'done' ? 'good' : undefined);

const excerpt = (text: string) => (text.length > 80 ? `${text.slice(0, 79)}…` : text);

function statusOf(value: string | undefined): CreditRequestStatus | undefined {
  if (!value) return undefined;
  if (!(CREDIT_REQUEST_STATUSES as readonly string[]).includes(value))
    throw invalidInput(`Status ${value} is not one of ${CREDIT_REQUEST_STATUSES.join(', ')}`);
  return value as CreditRequestStatus;
}

function instant(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw invalidInput('`before` is not a date and time');
  return date;
}

async function mustFind(deps: CreditConsoleDeps, id: string | undefined): Promise<CreditRequestRow> {
  const row = id && z.uuid().safeParse(id).success ? await getRequest(deps.intake.db.orm, id) : undefined;
  if (!row) throw notFound(`Credit request ${id ?? ''}`);
  return row;
}
