// The outbox: every message any bot sent or will send, filtered and paged; one message with its
// content as the person sees it, its attempts and history; retry and cancel.
import { z } from 'zod';
import type { OutboxJobs } from '../../channels/outbox/jobs.ts';
import { cancelMessage, RETRYABLE, retryMessage } from '../../channels/outbox/operator.ts';
import { type MessageQuery, pageOfMessages } from '../../channels/outbox/routes.ts';
import { getMessage } from '../../channels/outbox/store.ts';
import { OUTBOX_STATUSES, type OutboxRow } from '../../channels/schema.ts';
import { countSegments } from '../../channels/sms/segments.ts';
import { invalidInput, notFound } from '../../errors.ts';
import type { JobSystem } from '../../jobs/job-system.ts';
import { listAudit } from '../audit.ts';
import {
  actionForm,
  badge,
  details,
  filterForm,
  jsonBlock,
  link,
  pager,
  section,
  table,
  time,
} from '../components.ts';
import { html, type SafeHtml } from '../html.ts';
import type { ActionDefinition, PageDefinition } from '../ui.ts';
import type { PlatformPageDeps } from './deps.ts';

const PAGE_SIZE = 50;

const filters = z.object({
  status: z.enum(OUTBOX_STATUSES).optional(),
  channel: z.enum(['sms', 'email', 'slack']).optional(),
  key: z.string().max(500).optional(),
  to: z.string().max(320).optional(),
  since: z.string().max(40).optional(),
  until: z.string().max(40).optional(),
  before: z.string().max(200).optional(),
});

/** The filter form's values as the service function's query; a bad value is a 400 the page shows. */
function messageQuery(query: Record<string, string | undefined>): MessageQuery {
  const parsed = filters.safeParse(Object.fromEntries(Object.entries(query).filter(([, v]) => v)));
  if (!parsed.success)
    throw invalidInput(
      `Filter not understood: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const { key, since, until, ...rest } = parsed.data;
  return {
    ...rest,
    // A typed key is a prefix: what operators search for is "everything of invoice 42".
    ...(key ? { key: key.endsWith('*') ? key : `${key}*` } : {}),
    ...(since ? { since: instant(since, 'since') } : {}),
    ...(until ? { until: instant(until, 'until') } : {}),
    limit: PAGE_SIZE,
  };
}

/** A datetime-local value (read as UTC) or an ISO instant. */
function instant(value: string, field: string): string {
  const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(date.getTime())) throw invalidInput(`\`${field}\` is not a date and time`);
  return date.toISOString();
}

export function outboxPages(deps: PlatformPageDeps): {
  pages: PageDefinition[];
  actions: ActionDefinition[];
} {
  const list: PageDefinition = {
    path: '/console/outbox',
    title: 'Outbox',
    nav: 'Outbox',
    live: true,
    async render(view) {
      const { messages, next } = await pageOfMessages(deps.db, messageQuery(view.query));
      return html`${filterForm(
        '/console/outbox',
        [
          { name: 'status', label: 'Status', options: [...OUTBOX_STATUSES] },
          { name: 'channel', label: 'Channel', options: ['sms', 'email', 'slack'] },
          { name: 'key', label: 'Key starts with', placeholder: 'invoice:42' },
          { name: 'to', label: 'Recipient', placeholder: '+14155550100' },
          { name: 'since', label: 'From (UTC)', type: 'datetime-local' },
          { name: 'until', label: 'Until (UTC)', type: 'datetime-local' },
        ],
        view.query,
      )}
${table(
  'Messages, newest first',
  [
    { label: 'Created', cell: (m) => link(`/console/outbox/${m.id}`, time(m.createdAt)) },
    { label: 'Channel', cell: (m) => m.channel },
    { label: 'To', cell: (m) => m.recipient },
    { label: 'Status', cell: (m) => badge(m.status) },
    { label: 'Attempts', cell: (m) => m.attempts, numeric: true },
    { label: 'Key', cell: (m) => html`<code>${m.dedupeKey}</code>` },
    { label: 'Last error', cell: (m) => m.lastError ?? '' },
  ],
  messages,
  'No messages match.',
)}
${pager('/console/outbox', view.query, next)}`;
    },
  };

  const one: PageDefinition = {
    path: '/console/outbox/:id',
    title: (view) => `Message ${view.params.id?.slice(0, 8) ?? ''}`,
    live: true,
    async render(view) {
      const row = await mustFind(deps, view.params.id);
      const audit = await listAudit(deps.db.orm, { target: row.id, limit: 20 });
      const actions: SafeHtml[] = [];
      if (RETRYABLE.includes(row.status))
        actions.push(actionForm(`/console/outbox/${row.id}/retry`, 'Retry', view.csrf, {}, 'primary'));
      if (row.status === 'queued')
        actions.push(actionForm(`/console/outbox/${row.id}/cancel`, 'Cancel', view.csrf, {}, 'danger'));
      return html`${actions.length ? html`<p>${actions}</p>` : ''}
${details([
  ['Status', badge(row.status)],
  ['Channel', row.channel],
  ['To', row.recipient],
  ['From', row.sender],
  ['Dedupe key', html`<code>${row.dedupeKey}</code>`],
  ['Attempts', row.attempts],
  ['Driver', row.driver],
  ['Provider id', row.providerId],
  ['Error code', row.errorCode],
  ['Last error', row.lastError],
  ['Send after', time(row.sendAfter)],
])}
${section('Content', preview(row))}
${section(
  'History',
  table(
    'What happened to this message',
    [
      { label: 'When', cell: (e) => time(e.at) },
      { label: 'What', cell: (e) => e.what },
    ],
    history(row, audit),
  ),
)}
${section('Metadata', jsonBlock(row.meta))}`;
    },
  };

  const operatorDeps = { db: deps.db, jobs: deps.jobs as unknown as JobSystem<OutboxJobs> };
  const retry: ActionDefinition = {
    path: '/console/outbox/:id/retry',
    name: 'outbox.retry',
    confirm: async (view) => {
      const row = await mustFind(deps, view.params.id);
      return `Send this ${row.channel} message to ${row.recipient} again? It is ${row.status}${row.lastError ? ` (${row.lastError})` : ''}.`;
    },
    async run(view) {
      const id = (await mustFind(deps, view.params.id)).id;
      const row = await retryMessage(operatorDeps, id, view.operator);
      return {
        message: `Message ${row.dedupeKey} queued again.`,
        target: id,
        redirect: `/console/outbox/${id}`,
      };
    },
  };
  const cancel: ActionDefinition = {
    path: '/console/outbox/:id/cancel',
    name: 'outbox.cancel',
    confirm: async (view) => {
      const row = await mustFind(deps, view.params.id);
      return `Cancel this ${row.channel} message to ${row.recipient}? It will not be sent.`;
    },
    async run(view) {
      const id = (await mustFind(deps, view.params.id)).id;
      const row = await cancelMessage(operatorDeps, id, view.operator);
      return {
        message: `Message ${row.dedupeKey} cancelled.`,
        target: id,
        redirect: `/console/outbox/${id}`,
      };
    },
  };
  return { pages: [list, one], actions: [retry, cancel] };
}

async function mustFind(deps: PlatformPageDeps, id: string | undefined): Promise<OutboxRow> {
  const row = id && z.uuid().safeParse(id).success ? await getMessage(deps.db.orm, id) : undefined;
  if (!row) throw notFound(`Outbox message ${id ?? ''}`);
  return row;
}

/** The message as its recipient sees it: SMS text and segments, the email rendered, Slack text. */
export function preview(row: Pick<OutboxRow, 'channel' | 'content'>): SafeHtml {
  const content = row.content as Record<string, unknown>;
  if (row.channel === 'sms') {
    const body = String(content.body ?? '');
    const segments = countSegments(body);
    return html`<pre class="text">${body}</pre><p>${segments.segments} segment${segments.segments === 1 ? '' : 's'} (${segments.encoding}, ${body.length} characters)</p>`;
  }
  if (row.channel === 'email') {
    return html`${details([['Subject', String(content.subject ?? '')]])}
${typeof content.html === 'string' ? html`<h3>HTML part</h3><iframe class="email" sandbox="" title="The email's HTML part" srcdoc="${content.html}"></iframe>` : ''}
<h3>Text part</h3><pre class="text">${String(content.text ?? '')}</pre>`;
  }
  return html`<pre class="text">${String(content.text ?? '')}</pre>${content.threadTs ? html`<p>In thread ${String(content.threadTs)}</p>` : ''}`;
}

/** The row's timeline from its own timestamps, with what operators did to it. */
function history(row: OutboxRow, audit: Awaited<ReturnType<typeof listAudit>>) {
  const events: Array<{ at: Date; what: string }> = [{ at: row.createdAt, what: 'queued' }];
  if (row.attemptStartedAt)
    events.push({ at: row.attemptStartedAt, what: `attempt ${row.attempts} started` });
  if (row.sentAt)
    events.push({
      at: row.sentAt,
      what: `sent through ${row.driver ?? 'the provider'}${row.providerId ? ` (${row.providerId})` : ''}`,
    });
  if (row.deliveredAt) events.push({ at: row.deliveredAt, what: 'delivered' });
  if (!['queued', 'sent', 'delivered'].includes(row.status))
    events.push({ at: row.updatedAt, what: `${row.status}${row.lastError ? `: ${row.lastError}` : ''}` });
  for (const entry of audit)
    events.push({
      at: entry.at,
      what: `${entry.action} by ${entry.operator} (${entry.outcome}${entry.detail ? `: ${entry.detail}` : ''})`,
    });
  return events.sort((a, b) => a.at.getTime() - b.at.getTime());
}
