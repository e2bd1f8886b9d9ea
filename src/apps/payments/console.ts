// PayBot's console pages: chat sessions with their status and current field, one session with its
// payments (Stripe ids and states), the payments, and hand-offs (sessions PayBot gave to a person)
// as needs-a-person items; a link to the test chat at /pay. Card data is never shown: it is never
// stored (a session knows only Stripe's ids and the card's brand), and the pages show the brand alone.
//
// Sessions and a session's payments and refunds are read through service.ts, as GET
// /payments/sessions reads them; the list of every charge (no API of its own) is read here. Loaded
// only by processes that serve the console.
import { z } from 'zod';
import { badge, details, filterForm, link, section, table, time } from '../../platform/console/components.ts';
import { html, queryString, type SafeHtml } from '../../platform/console/html.ts';
import type { ConsoleUi } from '../../platform/console/ui.ts';
import type { Database } from '../../platform/db/database.ts';
import { and, desc, eq, lt, or } from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import { invalidInput, notFound } from '../../platform/errors.ts';
import { formatMoney } from '../../platform/money.ts';
import type { DialogState, Status } from './dialog/state.ts';
import type { RefundView } from './refunds.ts';
import { chatSessions, paymentAttempts } from './schema.ts';
import { getSession, listSessions as listSessionPage, type SessionSummary } from './service.ts';

const PAGE_SIZE = 50;
const STATUSES = ['collecting', 'confirming', 'completed', 'error'] as const;
/** A session PayBot handed to a person (too many failed tries, or no Stripe to charge with). */
const HANDED_OFF = 'error';

type Cursor = { at: Date; id: string };

export type PaymentAttemptRow = typeof paymentAttempts.$inferSelect;

/** Charge attempts, newest first: one session's, or everyone's. */
export async function listAttempts(
  db: DbOrTx,
  filter: { sessionId?: string; limit: number; before?: Cursor },
): Promise<PaymentAttemptRow[]> {
  const older = filter.before
    ? or(
        lt(paymentAttempts.createdAt, filter.before.at),
        and(
          eq(paymentAttempts.createdAt, filter.before.at),
          lt(paymentAttempts.idempotencyKey, filter.before.id),
        ),
      )
    : undefined;
  return db
    .select()
    .from(paymentAttempts)
    .where(and(filter.sessionId ? eq(paymentAttempts.sessionId, filter.sessionId) : undefined, older))
    .orderBy(desc(paymentAttempts.createdAt), desc(paymentAttempts.idempotencyKey))
    .limit(filter.limit);
}

export function addConsole(ui: ConsoleUi, deps: { db: Database }): void {
  const { db } = deps;

  ui.page({
    path: '/console/paybot',
    title: 'PayBot',
    nav: 'PayBot',
    live: true,
    async render(view) {
      const status = view.query.status;
      if (status && !(STATUSES as readonly string[]).includes(status))
        throw invalidInput(`Status ${status} is not one of ${STATUSES.join(', ')}`);
      const paymentsBefore = cursorOf(view.query.paymentsBefore);
      // Sessions through the same read as GET /payments/sessions (its cursor, its order).
      const [sessions, attempts] = await Promise.all([
        listSessionPage(db, {
          limit: PAGE_SIZE,
          ...(status ? { status: status as Status } : {}),
          ...(view.query.before ? { cursor: view.query.before } : {}),
        }),
        listAttempts(db.orm, { limit: PAGE_SIZE + 1, ...(paymentsBefore ? { before: paymentsBefore } : {}) }),
      ]);
      const attemptPage = attempts.slice(0, PAGE_SIZE);
      const lastAttempt = attemptPage.at(-1);
      const nextSessions = sessions.next;
      const nextAttempts =
        attempts.length > PAGE_SIZE && lastAttempt
          ? cursor(lastAttempt.createdAt, lastAttempt.idempotencyKey)
          : null;
      return html`<p>Try it: ${link('/pay', 'the test chat (/pay)')} talks to PayBot as a customer would. Card details are typed only into Stripe’s own form: PayBot, and this console, never see them.</p>
${section(
  'Sessions',
  html`${filterForm('/console/paybot', [{ name: 'status', label: 'Status', options: [...STATUSES] }], view.query)}
${sessionTable(sessions.sessions)}
${nextSessions ? html`<nav class="pager" aria-label="Sessions pages"><a href="/console/paybot${queryString({ ...view.query, before: nextSessions })}" rel="next">Older sessions</a></nav>` : ''}`,
  'sessions',
)}
${section(
  'Payments',
  html`${attemptTable(attemptPage)}
${nextAttempts ? html`<nav class="pager" aria-label="Payments pages"><a href="/console/paybot${queryString({ ...view.query, paymentsBefore: nextAttempts })}" rel="next">Older payments</a></nav>` : ''}`,
  'payments',
)}`;
    },
  });

  ui.page({
    path: '/console/paybot/sessions/:id',
    title: (view) => `PayBot session ${view.params.id ?? ''}`,
    live: true,
    async render(view) {
      const id = view.params.id ?? '';
      const [row] = /^[\w.:-]{1,100}$/.test(id)
        ? await db.orm.select().from(chatSessions).where(eq(chatSessions.id, id))
        : [];
      if (!row) throw notFound(`PayBot session ${id}`);
      const state = row.state as DialogState;
      const [attempts, summary] = await Promise.all([
        listAttempts(db.orm, { sessionId: row.id, limit: PAGE_SIZE }),
        // The same read as GET /payments/sessions/:id: the session's payments with their refunds.
        getSession(db, row.id),
      ]);
      return html`${details([
        ['Status', statusBadge(row.status)],
        ['Current field', state.currentField],
        ['Name', state.name ?? null],
        ['Amount', amountOf(state)],
        ['Invoice', state.invoiceId ?? null],
        ['Card', cardOf(state)],
        ['Charge status', state.chargeStatus ?? null],
        ['Attempt', state.attempt],
        ['Failed tries at this field', state.retries],
        ['PaymentIntent', row.paymentIntentId ? html`<code>${row.paymentIntentId}</code>` : null],
        ['Checkout Session', row.checkoutSessionId ? html`<code>${row.checkoutSessionId}</code>` : null],
        ['Started', time(row.createdAt)],
        ['Last message', time(row.updatedAt)],
        ['Expires', time(row.expiresAt)],
      ])}
${row.status === HANDED_OFF ? html`<p class="notice error" role="note">PayBot handed this customer to a person: it answers every further message with PAYMENTS_HANDOFF_MESSAGE.</p>` : ''}
${section('Payments', attemptTable(attempts))}
${section('Refunds', refundTable(summary?.payments.flatMap((p) => p.refunds) ?? []))}`;
    },
  });

  ui.attention(async (limit) => {
    const { sessions } = await listSessionPage(db, { status: HANDED_OFF, limit });
    return sessions.map((session) => ({
      kind: 'PayBot hand-off',
      title: `Session ${session.id}`,
      detail: `handed to a person at the ${session.currentField} step${session.name ? ` (${session.name})` : ''}`,
      href: `/console/paybot/sessions/${encodeURIComponent(session.id)}`,
      at: new Date(session.updatedAt),
    }));
  });
}

function sessionTable(rows: SessionSummary[]): SafeHtml {
  return table(
    'Chat sessions, newest first',
    [
      {
        label: 'Session',
        cell: (r) => link(`/console/paybot/sessions/${encodeURIComponent(r.id)}`, r.id),
      },
      { label: 'Status', cell: (r) => statusBadge(r.status) },
      { label: 'Current field', cell: (r) => r.currentField },
      { label: 'Name', cell: (r) => r.name ?? (r.erasedAt ? 'erased' : '') },
      {
        label: 'Amount',
        cell: (r) => (r.amountMinor !== null && r.currency ? formatMoney(r.amountMinor, r.currency) : '—'),
        numeric: true,
      },
      { label: 'Payments', cell: (r) => r.payments.length, numeric: true },
      { label: 'Last message', cell: (r) => time(r.updatedAt) },
    ],
    rows,
    'No chat sessions yet.',
  );
}

/** Refunds (POST /payments/:id/refunds, or made in Stripe's dashboard) and how Stripe answered. */
function refundTable(rows: RefundView[]): SafeHtml {
  return table(
    'Refunds of this session’s payments, as Stripe reported them',
    [
      { label: 'Requested', cell: (r) => time(r.createdAt) },
      { label: 'PaymentIntent', cell: (r) => html`<code>${r.paymentIntentId}</code>` },
      {
        label: 'Refund',
        cell: (r) => (r.stripeRefundId ? html`<code>${r.stripeRefundId}</code>` : 'not yet at Stripe'),
      },
      { label: 'Amount', cell: (r) => formatMoney(r.amountMinor, r.currency), numeric: true },
      { label: 'Status', cell: (r) => badge(r.status) },
      { label: 'Reason', cell: (r) => r.reason ?? '' },
      { label: 'From', cell: (r) => r.source },
      { label: 'Failure', cell: (r) => r.failureReason ?? '' },
    ],
    rows,
    'No refunds.',
  );
}

function attemptTable(rows: PaymentAttemptRow[]): SafeHtml {
  return table(
    'Charges sent to Stripe, newest first',
    [
      { label: 'When', cell: (a) => time(a.createdAt) },
      {
        label: 'Session',
        cell: (a) => link(`/console/paybot/sessions/${encodeURIComponent(a.sessionId)}`, a.sessionId),
      },
      { label: 'Amount', cell: (a) => formatMoney(a.amountMinor, a.currency), numeric: true },
      { label: 'Invoice', cell: (a) => a.invoiceId ?? '' },
      {
        label: 'PaymentIntent',
        cell: (a) => (a.paymentIntentId ? html`<code>${a.paymentIntentId}</code>` : ''),
      },
      { label: 'Idempotency key', cell: (a) => html`<code>${a.idempotencyKey}</code>` },
      { label: 'State', cell: (a) => badge(a.status) },
      { label: 'Error', cell: (a) => a.error ?? '' },
    ],
    rows,
    'No payments yet.',
  );
}

const statusBadge = (status: string) =>
  status === HANDED_OFF ? badge('handed_off') : badge(status, status === 'completed' ? 'good' : 'wait');

const amountOf = (state: DialogState) =>
  state.amountMinor !== undefined && state.currency ? formatMoney(state.amountMinor, state.currency) : '—';

/** The card's brand only: even the last four digits stay in Stripe's dashboard. */
const cardOf = (state: DialogState) => (state.card ? `${state.card.brand} card given` : 'not yet');

const cursor = (at: Date, id: string) => `${at.toISOString()}|${id}`;

function cursorOf(value: string | undefined): Cursor | undefined {
  if (!value) return undefined;
  const split = value.indexOf('|');
  const date = new Date(value.slice(0, split));
  const id = value.slice(split + 1);
  if (split < 0 || !z.string().min(1).max(200).safeParse(id).success || Number.isNaN(date.getTime()))
    throw invalidInput('This page link’s cursor is not one the console gave');
  return { at: date, id };
}
