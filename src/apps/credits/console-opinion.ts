// CreditBot's second opinion in the console: each request's prediction, interval and flag, the
// held replies waiting for a person (approved here, recorded with who and when), and the analytics
// page (totals by week and month, by product and mode, the largest accounts, credit-to-cost ratios).
// Read through the same functions as GET /credits/requests and GET /credits/analytics.
import { barChart } from '../../platform/console/charts.ts';
import {
  actionForm,
  badge,
  count,
  details,
  link,
  section,
  table,
  time,
} from '../../platform/console/components.ts';
import { html, type SafeHtml } from '../../platform/console/html.ts';
import type { ConsoleUi } from '../../platform/console/ui.ts';
import type { Database } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { formatMoney } from '../../platform/money.ts';
import { parseDollars } from './correction.ts';
import { creditAnalytics } from './prediction/analytics.ts';
import { heldAwaitingApproval } from './prediction/store.ts';
import { getCreditRequest, type SecondOpinionView } from './prediction/views.ts';
import type { CreditService } from './service.ts';

const usd = (cents: number) => formatMoney(cents, 'USD');

/** A held reply nobody has approved yet. */
export const waitsForApproval = (opinion: SecondOpinionView) =>
  Boolean(opinion.hold && !opinion.hold.approvedAt);

/** The request page's section: what the model expected, whether it flagged, the hold. */
export function opinionSection(id: string, opinion: SecondOpinionView, csrf: string): SafeHtml {
  const p = opinion.prediction;
  const hold = opinion.hold;
  return section(
    'Second opinion',
    html`${details([
      [
        'Prediction',
        p
          ? `${usd(p.amountCents)} (requests like this were ${usd(p.lowCents)}-${usd(p.highCents)})`
          : (opinion.predictionNote ?? 'none'),
      ],
      ['Model version', p?.modelVersion ?? null],
      ['Flag', opinion.flag ? html`${badge('flagged', 'bad')} ${opinion.flag.reason}` : 'not flagged'],
      [
        'Reply',
        hold
          ? hold.approvedAt
            ? html`held, then ${hold.correctedCents === null ? 'approved' : `corrected to ${usd(hold.correctedCents)} and approved`} by ${hold.approvedBy ?? '?'} via ${hold.via ?? '?'} at ${time(hold.approvedAt)}`
            : html`${badge('held', 'wait')} waiting for a person to approve it`
          : 'sent as computed',
      ],
    ])}
${waitsForApproval(opinion) ? approveForm(id, csrf) : ''}`,
  );
}

/**
 * Approve as computed, or type the amount to post instead: the model never changes the amount, a
 * person may, and the reply says who did and from what.
 */
function approveForm(id: string, csrf: string): SafeHtml {
  const path = `/console/credits/${id}/approve`;
  return html`<p>${actionForm(path, 'Approve and send the reply', csrf, {}, 'primary')} The reply is posted exactly as computed; the model never changes the amount.</p>
${actionForm(path, 'Correct and send the reply', csrf, {}, 'plain', {
  name: 'amount',
  label: 'Or correct the credit to (US dollars)',
  placeholder: '3,200.00',
  inputmode: 'decimal',
})}`;
}

/** The corrected amount a form carries, in cents; null when it carries none (approve as computed). */
function correctionOf(form: Record<string, string>): number | null {
  const typed = form.amount?.trim();
  if (!typed) return null;
  const read = parseDollars(typed);
  if ('error' in read) throw new AppError('invalid_input', `Corrected credit: ${read.error}`);
  return read.cents;
}

/** One cell for the list: flagged, held, or nothing to say. */
export function opinionCell(opinion: SecondOpinionView): SafeHtml | string {
  if (waitsForApproval(opinion)) return badge('held', 'wait');
  if (opinion.flag) return badge('flagged', 'bad');
  return opinion.prediction ? 'in range' : '';
}

export function addOpinionConsole(ui: ConsoleUi, deps: { db: Database; service: CreditService }): void {
  ui.action({
    path: '/console/credits/:id/approve',
    name: 'credits.approve',
    confirm: async (view) => {
      const { row, opinion } = await getCreditRequest(deps.db, view.params.id ?? '');
      const computed = row.amountCents === null ? 'no amount' : usd(row.amountCents);
      const corrected = correctionOf(view.form);
      return corrected === null
        ? `Send the held reply of credit request ${row.id.slice(0, 8)} (${computed})? ${opinion.flag?.reason ?? ''}`
        : `Send the held reply of credit request ${row.id.slice(0, 8)} with ${usd(corrected)} in place of the computed ${computed}? ${opinion.flag?.reason ?? ''}`;
    },
    async run(view) {
      const { row } = await getCreditRequest(deps.db, view.params.id ?? '');
      const correctedCents = correctionOf(view.form);
      await deps.service.approve(row.id, { by: view.operator, via: 'console', correctedCents });
      return {
        message:
          correctedCents === null
            ? `Held reply of credit request ${row.id.slice(0, 8)} approved and sent.`
            : `Held reply of credit request ${row.id.slice(0, 8)} corrected to ${usd(correctedCents)} and sent.`,
        target: row.id,
        redirect: `/console/credits/${row.id}`,
      };
    },
  });

  ui.attention(async (limit) => {
    const held = await heldAwaitingApproval(deps.db.orm, limit);
    const requests = await Promise.all(held.map((id) => getCreditRequest(deps.db, id)));
    return requests.map(({ row, opinion }) => ({
      kind: 'credit reply held',
      title: `Credit request ${row.id.slice(0, 8)} in ${row.channel}`,
      detail: opinion.flag?.reason ?? 'held for approval',
      href: `/console/credits/${row.id}`,
      at: row.finishedAt ?? row.updatedAt,
    }));
  });

  ui.page({
    path: '/console/credits/analytics',
    title: 'CreditBot analytics',
    async render() {
      const since = new Date(Date.now() - 365 * 86_400_000);
      const a = await creditAnalytics(deps.db, { since });
      const weeks = a.byWeek.slice(-26);
      return html`<p>${link('/console/credits', 'Back to CreditBot')}. Answered requests of the last 12 months: ${count(a.requests)}, ${usd(a.creditCents)} credited; ${count(a.flagged)} flagged, ${count(a.held)} held.</p>
${section(
  'By week',
  barChart(
    'Credits per week (whole US dollars)',
    weeks.map((w) => w.period.slice(5)),
    [{ name: 'credited', values: weeks.map((w) => Math.round(w.creditCents / 100)) }],
  ),
)}
${section(
  'By month',
  table(
    'Credits per month',
    [
      { label: 'Month', cell: (m) => m.period.slice(0, 7) },
      { label: 'Requests', cell: (m) => count(m.requests), numeric: true },
      { label: 'Credited', cell: (m) => usd(m.creditCents), numeric: true },
    ],
    a.byMonth,
    'No answered requests.',
  ),
)}
<div class="grid2">
${section(
  'By product',
  table(
    'Credits by product',
    [
      { label: 'Product', cell: (p) => p.product },
      { label: 'Requests', cell: (p) => count(p.requests), numeric: true },
      { label: 'Credited', cell: (p) => usd(p.creditCents), numeric: true },
    ],
    a.byProduct,
  ),
)}
${section(
  'By Fraud Guard mode',
  table(
    'Credits and fraud cost by mode',
    [
      { label: 'Mode', cell: (m) => m.mode },
      { label: 'Requests', cell: (m) => count(m.requests), numeric: true },
      { label: 'Credited', cell: (m) => usd(m.creditCents), numeric: true },
      { label: 'Fraud cost', cell: (m) => usd(m.fraudCostCents), numeric: true },
    ],
    a.byMode,
  ),
)}
</div>
${section(
  'Largest accounts',
  table(
    'Accounts by credit',
    [
      { label: 'Account', cell: (x) => html`<code>${x.account}</code>` },
      { label: 'Requests', cell: (x) => count(x.requests), numeric: true },
      { label: 'Credited', cell: (x) => usd(x.creditCents), numeric: true },
      { label: 'Fraud cost', cell: (x) => usd(x.fraudCostCents), numeric: true },
    ],
    a.largestAccounts,
  ),
)}
${section(
  'Credit to fraud cost',
  barChart(
    'Requests by credit-to-cost ratio',
    a.ratioDistribution.map((r) => (r.to === null ? `${r.from}+` : `${r.from}-${r.to}`)),
    [{ name: 'requests', values: a.ratioDistribution.map((r) => r.requests) }],
  ),
)}`;
    },
  });
}
