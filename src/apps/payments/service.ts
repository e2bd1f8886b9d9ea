// What an operator page (the console's PayBot page) reads: sessions with where they stand, their
// charges and refunds, newest first, paged by an opaque cursor. Never card data: the card Stripe
// described (brand, last 4, expiry) is left out here, as are Stripe's client secrets.
import type { Database } from '../../platform/db/database.ts';
import { and, desc, eq, inArray, lt, or } from '../../platform/db/drizzle.ts';
import { invalidInput } from '../../platform/errors.ts';
import type { DialogState, Field, Status } from './dialog/state.ts';
import { refundsOf } from './refund-store.ts';
import { type RefundView, refundView } from './refunds.ts';
import { chatSessions, paymentAttempts } from './schema.ts';

export interface PaymentSummary {
  /** Our payment id: the idempotency key sent to Stripe (`paybot:<session>:charge:<attempt>`). */
  id: string;
  paymentIntentId: string | null;
  amountMinor: number;
  currency: string;
  invoiceId: string | null;
  /** Stripe's answer, then `succeeded` / `failed` from the webhook. */
  status: string;
  /** Refunded or being refunded (refunds not failed or canceled). */
  refundedMinor: number;
  error: string | null;
  createdAt: string;
  refunds: RefundView[];
}

export interface SessionSummary {
  id: string;
  status: Status;
  currentField: Field;
  /** Null once erased (retention or a person's request), or before the customer gave it. */
  name: string | null;
  receiptEmail: string | null;
  amountMinor: number | null;
  currency: string | null;
  invoiceId: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  erasedAt: string | null;
  payments: PaymentSummary[];
}

export interface SessionPage {
  sessions: SessionSummary[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next: string | null;
}

const encodeCursor = (createdAt: Date, id: string) =>
  Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()))
    throw invalidInput('The cursor is not one this API returned', [
      { field: 'cursor', message: 'not a cursor this API returned' },
    ]);
  return { createdAt, id };
}

/** Sessions, newest first: `limit` (1-200, default 50) per page, optionally only one status. */
export async function listSessions(
  db: Database,
  options: { cursor?: string; limit?: number; status?: Status } = {},
): Promise<SessionPage> {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), 200);
  const after = options.cursor ? decodeCursor(options.cursor) : null;
  const rows = await db.orm
    .select()
    .from(chatSessions)
    .where(
      and(
        options.status ? eq(chatSessions.status, options.status) : undefined,
        after
          ? or(
              lt(chatSessions.createdAt, after.createdAt),
              and(eq(chatSessions.createdAt, after.createdAt), lt(chatSessions.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(chatSessions.createdAt), desc(chatSessions.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const sessions = await withPayments(db, page);
  const last = page.at(-1);
  return { sessions, next: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

/** One session as listSessions shows it; null when there is none. */
export async function getSession(db: Database, id: string): Promise<SessionSummary | null> {
  const rows = await db.orm.select().from(chatSessions).where(eq(chatSessions.id, id));
  return (await withPayments(db, rows))[0] ?? null;
}

async function withPayments(
  db: Database,
  rows: Array<typeof chatSessions.$inferSelect>,
): Promise<SessionSummary[]> {
  if (rows.length === 0) return [];
  const attempts = await db.orm
    .select()
    .from(paymentAttempts)
    .where(
      inArray(
        paymentAttempts.sessionId,
        rows.map((row) => row.id),
      ),
    )
    .orderBy(paymentAttempts.createdAt);
  const refunds = await refundsOf(
    db.orm,
    attempts.flatMap((attempt) => (attempt.paymentIntentId ? [attempt.paymentIntentId] : [])),
  );
  return rows.map((row) => {
    const state = row.state as DialogState;
    return {
      id: row.id,
      status: row.status as Status,
      currentField: state.currentField,
      name: state.name ?? null,
      receiptEmail: state.receiptEmail ?? null,
      amountMinor: state.amountMinor ?? null,
      currency: state.currency ?? null,
      invoiceId: state.invoiceId ?? null,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      erasedAt: row.erasedAt?.toISOString() ?? null,
      payments: attempts
        .filter((attempt) => attempt.sessionId === row.id)
        .map((attempt) => ({
          id: attempt.idempotencyKey,
          paymentIntentId: attempt.paymentIntentId,
          amountMinor: attempt.amountMinor,
          currency: attempt.currency,
          invoiceId: attempt.invoiceId,
          status: attempt.status,
          refundedMinor: attempt.refundedMinor,
          error: attempt.error,
          createdAt: attempt.createdAt.toISOString(),
          refunds: refunds
            .filter((refund) => refund.paymentIntentId === attempt.paymentIntentId)
            .map(refundView),
        })),
    };
  });
}
