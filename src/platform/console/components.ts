// The console's building blocks: tables, badges, times, pagers and action buttons, shared by the
// platform's pages and the apps'. Plain functions returning SafeHtml.
import { scrubText } from '../redact.ts';
import { html, queryString, type SafeHtml } from './html.ts';

export interface Column<T> {
  label: string;
  cell: (row: T) => SafeHtml | string | number | null | undefined;
  /** Numbers and amounts line up on the right. */
  numeric?: boolean;
}

export function table<T>(
  caption: string,
  columns: Column<T>[],
  rows: T[],
  empty = 'Nothing here yet.',
): SafeHtml {
  if (!rows.length) return html`<p class="empty">${empty}</p>`;
  // Focusable and named: a table wider than a phone scrolls in its box, and keyboards must reach it.
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="${caption}"><table>
<caption>${caption}</caption>
<thead><tr>${columns.map((c) => html`<th scope="col"${c.numeric ? html` class="num"` : ''}>${c.label}</th>`)}</tr></thead>
<tbody>${rows.map(
    (row) =>
      html`<tr>${columns.map((c) => html`<td${c.numeric ? html` class="num"` : ''}>${c.cell(row)}</td>`)}</tr>`,
  )}</tbody>
</table></div>`;
}

const TONES: Record<string, string> = {
  delivered: 'good',
  sent: 'good',
  answered: 'good',
  succeeded: 'good',
  ready: 'good',
  up: 'good',
  completed: 'good',
  queued: 'wait',
  sending: 'wait',
  pending: 'wait',
  created: 'wait',
  active: 'wait',
  retry: 'wait',
  processing: 'wait',
  failed: 'bad',
  undelivered: 'bad',
  down: 'bad',
  error: 'bad',
  handed_off: 'bad',
};

/** A status word with its colour; the word itself carries the meaning (never colour alone). */
export const badge = (status: string, tone = TONES[status] ?? 'plain'): SafeHtml =>
  html`<span class="badge ${tone}">${status.replaceAll('_', ' ')}</span>`;

/** A time as the operator reads it (UTC, to the second), with the exact instant for machines. */
export function time(at: Date | string | null | undefined): SafeHtml | string {
  if (!at) return '—';
  const date = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) return '—';
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

export const link = (href: string, text: string | SafeHtml): SafeHtml => html`<a href="${href}">${text}</a>`;

/** The "Older" link of a keyset-paged list (the `next` cursor of the service function). */
export function pager(
  base: string,
  query: Record<string, string | undefined>,
  next: string | null,
): SafeHtml {
  const first = query.before
    ? html`<a href="${base}${queryString({ ...query, before: undefined })}">Newest</a>`
    : '';
  const older = next
    ? html`<a href="${base}${queryString({ ...query, before: next })}" rel="next">Older</a>`
    : '';
  return first || older ? html`<nav class="pager" aria-label="Pages">${first} ${older}</nav>` : html``;
}

/**
 * A button that POSTs an action (the console asks to confirm it where the action says so).
 * `fields` are sent with it as hidden inputs.
 */
export function actionForm(
  path: string,
  label: string,
  csrf: string,
  fields: Record<string, string> = {},
  tone: 'primary' | 'danger' | 'plain' = 'plain',
  /** A box the operator fills in before pressing the button (required when given). */
  input?: { name: string; label: string; placeholder?: string; inputmode?: 'decimal' | 'text' },
): SafeHtml {
  const box = input
    ? html`<label for="${`in-${input.name}`}">${input.label}</label>
<input id="${`in-${input.name}`}" name="${input.name}" inputmode="${input.inputmode ?? 'text'}" required${
        input.placeholder ? html` placeholder="${input.placeholder}"` : ''
      } autocomplete="off">
`
    : '';
  return html`<form method="post" action="${path}" class="inline">
<input type="hidden" name="_csrf" value="${csrf}">${Object.entries(fields).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )}${box}<button type="submit" class="${tone}">${label}</button></form>`;
}

export interface FilterField {
  name: string;
  label: string;
  /** A select with these options (the first is "any"), or a text box when absent. */
  options?: string[];
  type?: 'text' | 'search' | 'datetime-local' | 'date';
  placeholder?: string;
}

/** A GET form of filters that keeps the current values. */
export function filterForm(
  path: string,
  fields: FilterField[],
  query: Record<string, string | undefined>,
): SafeHtml {
  return html`<form method="get" action="${path}" class="filters" role="search">
${fields.map((field) => {
  const id = `f-${field.name}`;
  const value = query[field.name] ?? '';
  const control = field.options
    ? html`<select id="${id}" name="${field.name}"><option value="">any</option>${field.options.map(
        (o) => html`<option${o === value ? html` selected` : ''}>${o}</option>`,
      )}</select>`
    : html`<input id="${id}" name="${field.name}" type="${field.type ?? 'text'}" value="${value}"${
        field.placeholder ? html` placeholder="${field.placeholder}"` : ''
      }>`;
  return html`<label for="${id}">${field.label}</label>${control}`;
})}
<button type="submit">Filter</button> <a href="${path}">Clear</a>
</form>`;
}

/** Label/value pairs of one record. */
export function details(pairs: Array<[string, SafeHtml | string | number | null | undefined]>): SafeHtml {
  return html`<dl class="details">${pairs.map(([term, value]) => html`<dt>${term}</dt><dd>${value ?? '—'}</dd>`)}</dl>`;
}

export const section = (title: string, body: SafeHtml, id?: string): SafeHtml =>
  html`<section${id ? html` id="${id}"` : ''} aria-labelledby="${slug(title)}"><h2 id="${slug(title)}">${title}</h2>${body}</section>`;

const slug = (text: string) => `h-${text.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

/**
 * JSON shown for reading (a summary, a payload, a job's error), pretty-printed, escaped, and passed
 * through the scrubber every outgoing text goes through (no configured secret or card number).
 */
export const jsonBlock = (value: unknown): SafeHtml =>
  html`<pre class="json">${scrubText(JSON.stringify(value, null, 2) ?? 'null')}</pre>`;

/** The number of a count, with thousands separators. */
export const count = (value: number | bigint): string => Number(value).toLocaleString('en-US');
