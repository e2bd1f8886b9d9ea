// The invoices app's console pages: invoices awaiting review, the scans (matched, queued, already
// queued, rejected, invalid recipients), each invoice's alerts with their delivery from the outbox,
// "scan now", and the NOTIFICATION_RECIPIENTS entries nobody can be told at. Read through the same
// store and scan functions as the /invoices API. Loaded only by processes that serve the console.
import type { Config } from '../../config.ts';
import { pageOfMessages } from '../../platform/channels/outbox/routes.ts';
import {
  actionForm,
  badge,
  count,
  details,
  link,
  pager,
  section,
  table,
  time,
} from '../../platform/console/components.ts';
import { html, queryString, type SafeHtml } from '../../platform/console/html.ts';
import type { ConsoleUi } from '../../platform/console/ui.ts';
import type { Database } from '../../platform/db/database.ts';
import { notFound } from '../../platform/errors.ts';
import { formatMoney } from '../../platform/money.ts';
import { invoiceId } from './invoice-input.ts';
import { parseRecipients } from './recipients.ts';
import type { InvoiceScanRow } from './schema.ts';
import { countNeedingReview, getInvoice, listInvoices, listScans } from './store.ts';

export interface InvoiceConsoleDeps {
  db: Database;
  config: Pick<Config, 'invoices' | 'sms'>;
  /** Where invoices come from (Switchboard's table, or a team's own database). */
  sourceKind: 'local' | 'external';
  scan: (trigger: InvoiceScanRow['trigger']) => Promise<InvoiceScanRow>;
}

const PAGE_SIZE = 50;
const SCANS = 20;

export function addConsole(ui: ConsoleUi, deps: InvoiceConsoleDeps): void {
  const { db } = deps;
  const recipients = () => parseRecipients(deps.config.invoices.recipients, deps.config.sms.defaultRegion);

  ui.page({
    path: '/console/invoices',
    title: 'Invoices',
    nav: 'Invoices',
    live: true,
    async render(view) {
      const after = view.query.after ? invoiceId.safeParse(view.query.after).data : undefined;
      const [awaiting, total, scans] = await Promise.all([
        listInvoices(db.orm, { status: 'NEEDS_REVIEW', limit: PAGE_SIZE, ...(after ? { after } : {}) }),
        countNeedingReview(db.orm),
        listScans(db.orm, SCANS),
      ]);
      const list = recipients();
      const next = awaiting.length === PAGE_SIZE ? (awaiting.at(-1)?.id ?? null) : null;
      return html`<p>${actionForm('/console/invoices/scan', 'Scan now', view.csrf, {}, 'primary')} Finds every invoice needing review and queues an alert per recipient and channel (once per invoice: a second scan queues nothing new).</p>
${section(
  'Awaiting review',
  html`${deps.sourceKind === 'external' ? html`<p>Invoices are read from the team’s own database (INVOICE_SOURCE_URL): this list shows Switchboard’s own table only.</p>` : ''}
<p>${count(total)} invoice${total === 1 ? '' : 's'} need${total === 1 ? 's' : ''} review.</p>
${table(
  'Invoices needing review, by id',
  [
    { label: 'Invoice', cell: (i) => link(`/console/invoices/${encodeURIComponent(i.id)}`, i.id) },
    { label: 'Vendor', cell: (i) => i.vendorName },
    { label: 'Total', cell: (i) => formatMoney(i.totalMinor, i.currency), numeric: true },
    { label: 'Updated', cell: (i) => time(i.updatedAt) },
  ],
  awaiting,
  'No invoice needs review.',
)}
${
  next || after
    ? html`<nav class="pager" aria-label="Pages">${after ? html`<a href="/console/invoices">First</a> ` : ''}${next ? html`<a href="/console/invoices${queryString({ after: next })}" rel="next">Next</a>` : ''}</nav>`
    : ''
}`,
  'awaiting',
)}
${section(
  'Scans',
  table(
    'Recent scans, newest first',
    [
      { label: 'Started', cell: (s) => time(s.startedAt) },
      { label: 'Trigger', cell: (s) => s.trigger },
      { label: 'Matched', cell: (s) => count(s.matched), numeric: true },
      { label: 'Queued', cell: (s) => count(s.enqueued), numeric: true },
      { label: 'Already queued', cell: (s) => count(s.duplicates), numeric: true },
      { label: 'Rejected', cell: (s) => count(s.rejected), numeric: true },
      { label: 'Invalid recipients', cell: (s) => count(s.invalidRecipients), numeric: true },
      {
        label: 'Took',
        cell: (s) => (s.durationMs === null ? '' : `${count(s.durationMs)} ms`),
        numeric: true,
      },
      {
        label: 'Outcome',
        cell: (s) => (s.error ? badge('failed') : s.finishedAt ? badge('completed') : badge('active')),
      },
      { label: 'Error', cell: (s) => s.error ?? '' },
    ],
    scans,
    'No scan yet.',
  ),
  'scans',
)}
${section('Recipients', recipientList(list), 'recipients')}`;
    },
  });

  ui.page({
    path: '/console/invoices/:id',
    title: (view) => `Invoice ${view.params.id ?? ''}`,
    live: true,
    async render(view) {
      const id = invoiceId.safeParse(view.params.id).data;
      if (!id) throw notFound(`Invoice ${view.params.id ?? ''}`);
      // Every alert of the invoice: its dedupe keys are `invoice:<id>:<channel>:<recipient>`.
      const [invoice, alerts] = await Promise.all([
        getInvoice(db.orm, id),
        pageOfMessages(db, {
          key: `invoice:${id}:*`,
          limit: PAGE_SIZE,
          ...(view.query.before ? { before: view.query.before } : {}),
        }),
      ]);
      if (!invoice && !alerts.messages.length) throw notFound(`Invoice ${id}`);
      return html`${
        invoice
          ? details([
              [
                'Status',
                badge(invoice.matchedStatus, invoice.matchedStatus === 'NEEDS_REVIEW' ? 'wait' : 'plain'),
              ],
              ['Vendor', invoice.vendorName],
              ['Total', formatMoney(invoice.totalMinor, invoice.currency)],
              [
                'Link',
                invoice.invoiceLink
                  ? html`<a href="${invoice.invoiceLink}" rel="noreferrer">${invoice.invoiceLink}</a>`
                  : null,
              ],
              ['Created', time(invoice.createdAt)],
              ['Updated', time(invoice.updatedAt)],
            ])
          : html`<p>This invoice is not in Switchboard’s table (it came from the team’s own database).</p>`
      }
${section(
  'Alerts',
  html`${table(
    'Alerts for this invoice and their delivery, newest first',
    [
      { label: 'Queued', cell: (m) => link(`/console/outbox/${m.id}`, time(m.createdAt)) },
      { label: 'Channel', cell: (m) => m.channel },
      { label: 'To', cell: (m) => m.recipient },
      { label: 'Status', cell: (m) => badge(m.status) },
      { label: 'Attempts', cell: (m) => m.attempts, numeric: true },
      { label: 'Sent', cell: (m) => time(m.sentAt) },
      { label: 'Delivered', cell: (m) => time(m.deliveredAt) },
      { label: 'Last error', cell: (m) => m.lastError ?? '' },
    ],
    alerts.messages,
    'No alert queued for this invoice yet.',
  )}
${pager(`/console/invoices/${encodeURIComponent(id)}`, view.query, alerts.next)}
<p>${link(`/console/outbox${queryString({ key: `invoice:${id}:` })}`, 'These alerts in the outbox')}</p>`,
)}`;
    },
  });

  ui.action({
    path: '/console/invoices/scan',
    name: 'invoices.scan',
    confirm: async () =>
      'Scan for invoices needing review now? Each new one gets an alert per recipient and channel.',
    async run() {
      const scan = await deps.scan('console');
      const summary = `matched ${scan.matched}, queued ${scan.enqueued}, already queued ${scan.duplicates}, rejected ${scan.rejected}, invalid recipients ${scan.invalidRecipients}`;
      return {
        message: scan.error ? `Scan failed: ${scan.error} (${summary}).` : `Scan done: ${summary}.`,
        target: scan.id,
        redirect: '/console/invoices',
      };
    },
  });

  ui.attention(async (limit) => {
    const { invalid } = recipients();
    if (!invalid.length) return [];
    const [last] = await listScans(db.orm, 1);
    return invalid.slice(0, limit).map((bad) => ({
      kind: 'invalid recipient',
      title: `NOTIFICATION_RECIPIENTS entry “${bad.entry}”`,
      detail: `${bad.reason}: skipped by every scan, so nobody is told there`,
      href: '/console/invoices#recipients',
      at: last?.startedAt ?? new Date(),
    }));
  });
}

function recipientList(list: ReturnType<typeof parseRecipients>): SafeHtml {
  return html`${table(
    'Who each scan tells (NOTIFICATION_RECIPIENTS)',
    [
      { label: 'Channel', cell: (r) => r.channel },
      { label: 'Address', cell: (r) => r.address },
    ],
    list.valid,
    'Nobody: NOTIFICATION_RECIPIENTS has no valid entry, so invoices are scanned but nobody is told.',
  )}
${
  list.invalid.length
    ? table(
        'Invalid entries, skipped by every scan',
        [
          { label: 'Entry', cell: (r) => html`<code>${r.entry}</code>` },
          { label: 'Why', cell: (r) => r.reason },
        ],
        list.invalid,
      )
    : html`<p>Every entry is a valid email address or phone number.</p>`
}`;
}
