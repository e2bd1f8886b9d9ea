// Data access for PayBot: sessions, API keys, charge attempts, and the invoices it settles.
// Functions take a db or a transaction, so callers own the unit of work; the chat turn's statements
// (its session's read and write, the charge attempt) take the Database itself: they are single
// statements, prepared once per connection.

import type { Database } from '../../platform/db/database.ts';
import { and, eq, isNull, sql } from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import type { DialogState } from './dialog/state.ts';
import { type ChatSessionRow, chatApiKeys, chatSessions, paymentAttempts } from './schema.ts';

export interface StoredSession {
  state: DialogState;
  version: number;
  expired: boolean;
  /** Messages this session has had in its current rate-limit minute (0 when that minute is over). */
  messagesThisMinute: number;
  /** Seconds until that minute is over (for Retry-After). */
  windowSecondsLeft: number;
}

// A chat turn reads and writes its session once each, on every message: these two statements are the
// hot path of POST /chat, so they are plain SQL prepared once per connection (`name`), not rebuilt by
// the query builder on each call. The rate-limit window rides along in the same row and statement.
const WINDOW_OPEN = `window_started_at > now() - interval '1 minute'`;

const LOAD_SESSION = `select state, version, expires_at <= now() as expired,
  case when ${WINDOW_OPEN} then window_messages else 0 end as messages_this_minute,
  greatest(0, ceil(extract(epoch from window_started_at + interval '1 minute' - now())))::int as window_seconds_left
  from chat_sessions where id = $1`;

const INSERT_SESSION = `insert into chat_sessions (id, version, state, status, payment_intent_id,
  checkout_session_id, updated_at, expires_at, window_started_at, window_messages)
  values ($1, 1, $2::jsonb, $3, $4, $5, now(), now() + $6 * interval '1 millisecond', now(), 1)
  on conflict (id) do nothing returning id`;

const UPDATE_SESSION = `update chat_sessions set state = $3::jsonb, status = $4, payment_intent_id = $5,
  checkout_session_id = $6, version = version + 1, updated_at = now(),
  expires_at = now() + $7 * interval '1 millisecond',
  window_messages = case when ${WINDOW_OPEN} then window_messages + 1 else 1 end,
  window_started_at = case when ${WINDOW_OPEN} then window_started_at else now() end,
  erased_at = null
  where id = $1 and version = $2 returning id`;

type SessionSql = Pick<Database, 'query'>;

export async function loadSession(db: SessionSql, id: string): Promise<StoredSession | null> {
  const [row] = await db.query<{
    state: DialogState;
    version: number;
    expired: boolean;
    messages_this_minute: number;
    window_seconds_left: number;
  }>(LOAD_SESSION, [id], 'paybot_load_session');
  if (!row) return null;
  return {
    state: row.state,
    version: row.version,
    expired: row.expired,
    messagesThisMinute: row.messages_this_minute,
    windowSecondsLeft: row.window_seconds_left,
  };
}

/**
 * Writes a turn's new state if nobody else wrote since it was read (`version`), and counts the message
 * in the session's rate-limit minute; false means another replica answered a message of this session
 * meanwhile, and the turn must be redone.
 */
export async function saveSession(
  db: SessionSql,
  id: string,
  state: DialogState,
  readVersion: number | null,
  ttlMs: number,
): Promise<boolean> {
  const fields = [
    JSON.stringify(state),
    state.status,
    state.paymentIntentId ?? null,
    state.checkoutSessionId ?? null,
    ttlMs,
  ];
  const rows =
    readVersion === null
      ? await db.query(INSERT_SESSION, [id, ...fields], 'paybot_insert_session')
      : await db.query(UPDATE_SESSION, [id, readVersion, ...fields], 'paybot_update_session');
  return rows.length > 0;
}

/** A webhook's change to a session, under a row lock (webhooks and chat turns may race). */
export async function updateSessionLocked(
  tx: DbOrTx,
  where: { paymentIntentId: string } | { checkoutSessionId: string } | { id: string },
  change: (state: DialogState) => DialogState,
): Promise<ChatSessionRow | null> {
  const condition =
    'id' in where
      ? eq(chatSessions.id, where.id)
      : 'paymentIntentId' in where
        ? eq(chatSessions.paymentIntentId, where.paymentIntentId)
        : eq(chatSessions.checkoutSessionId, where.checkoutSessionId);
  const [row] = await tx.select().from(chatSessions).where(condition).for('update');
  if (!row) return null;
  const state = change(row.state as DialogState);
  const [updated] = await tx
    .update(chatSessions)
    .set({
      state,
      status: state.status,
      paymentIntentId: state.paymentIntentId ?? null,
      checkoutSessionId: state.checkoutSessionId ?? null,
      version: row.version + 1,
      updatedAt: sql`now()`,
    })
    .where(eq(chatSessions.id, row.id))
    .returning();
  return updated ?? null;
}

/** Whether a session ever sent a charge to Stripe (then its row is kept for accounting). */
const hasAttempts = sql`exists (select 1 from ${paymentAttempts} where ${paymentAttempts.sessionId} = ${chatSessions.id})`;

/**
 * Sessions that never sent a charge, a day after they expired (so the customer hears why in the
 * meantime): nothing in them is needed, so they are deleted. Sessions with a charge attempt are the
 * retention job's (erasure.ts).
 */
export async function deleteExpiredSessions(db: DbOrTx): Promise<number> {
  const rows = await db
    .delete(chatSessions)
    .where(and(sql`${chatSessions.expiresAt} < now() - interval '1 day'`, sql`not ${hasAttempts}`))
    .returning({ id: chatSessions.id });
  return rows.length;
}

export type ErasureTarget = { sessionId: string } | { email: string } | { retentionDays: number };

/** Sessions to erase, locked: one by id, every one with a receipt address, or those past retention. */
export async function lockSessionsToErase(
  tx: DbOrTx,
  target: ErasureTarget,
  limit: number,
): Promise<Array<{ id: string; state: DialogState; version: number; hasAttempts: boolean }>> {
  const condition =
    'sessionId' in target
      ? eq(chatSessions.id, target.sessionId)
      : 'email' in target
        ? sql`lower(${chatSessions.state}->>'receiptEmail') = lower(${target.email})`
        : and(
            isNull(chatSessions.erasedAt),
            sql`greatest(${chatSessions.expiresAt}, ${chatSessions.updatedAt}) < now() - ${target.retentionDays} * interval '1 day'`,
            hasAttempts,
          );
  const rows = await tx
    .select({
      id: chatSessions.id,
      state: chatSessions.state,
      version: chatSessions.version,
      hasAttempts: sql<boolean>`${hasAttempts}`,
    })
    .from(chatSessions)
    .where(condition)
    .orderBy(chatSessions.id)
    .limit(limit)
    // The job skips rows a webhook holds (it comes back next hour); a person's request waits for them.
    .for('update', 'retentionDays' in target ? { of: chatSessions, skipLocked: true } : { of: chatSessions });
  return rows.map((row) => ({
    ...row,
    state: row.state as DialogState,
    hasAttempts: Boolean(row.hasAttempts),
  }));
}

/** Keeps the row with `state` (the accounting fields only), marked erased and expired. */
export async function markSessionErased(tx: DbOrTx, id: string, state: DialogState): Promise<void> {
  await tx
    .update(chatSessions)
    .set({
      state,
      version: sql`${chatSessions.version} + 1`,
      erasedAt: sql`now()`,
      expiresAt: sql`least(${chatSessions.expiresAt}, now())`,
      updatedAt: sql`now()`,
    })
    .where(eq(chatSessions.id, id));
}

export async function deleteSession(tx: DbOrTx, id: string): Promise<void> {
  await tx.delete(chatSessions).where(eq(chatSessions.id, id));
}

// --- API keys ---

export async function insertApiKey(db: DbOrTx, name: string, keyHash: string): Promise<string> {
  const [row] = await db.insert(chatApiKeys).values({ name, keyHash }).returning({ id: chatApiKeys.id });
  return row?.id as string;
}

export async function findActiveKey(
  db: DbOrTx,
  keyHash: string,
): Promise<{ id: string; name: string } | null> {
  const [row] = await db
    .select({ id: chatApiKeys.id, name: chatApiKeys.name })
    .from(chatApiKeys)
    .where(and(eq(chatApiKeys.keyHash, keyHash), isNull(chatApiKeys.revokedAt)));
  return row ?? null;
}

export async function countActiveKeys(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ count: sql<string>`count(*)` })
    .from(chatApiKeys)
    .where(isNull(chatApiKeys.revokedAt));
  return Number(row?.count ?? 0);
}

export async function revokeApiKey(db: DbOrTx, id: string): Promise<boolean> {
  const rows = await db
    .update(chatApiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(chatApiKeys.id, id), isNull(chatApiKeys.revokedAt)))
    .returning({ id: chatApiKeys.id });
  return rows.length > 0;
}

// --- charge attempts ---

// Once per charge, after Stripe answered: prepared once per connection like the session statements
// above, instead of the query builder building the same upsert on every charge.
const RECORD_ATTEMPT = `insert into payment_attempts (idempotency_key, session_id, payment_intent_id,
  amount_minor, currency, invoice_id, status, error) values ($1, $2, $3, $4, $5, $6, $7, $8)
  on conflict (idempotency_key) do update set
  payment_intent_id = coalesce(excluded.payment_intent_id, payment_attempts.payment_intent_id),
  status = excluded.status, error = excluded.error, updated_at = now()`;

export async function recordAttempt(
  db: SessionSql,
  attempt: {
    idempotencyKey: string;
    sessionId: string;
    paymentIntentId: string | null;
    amountMinor: number;
    currency: string;
    invoiceId: string | null;
    status: string;
    error?: string | null;
  },
): Promise<void> {
  await db.query(
    RECORD_ATTEMPT,
    [
      attempt.idempotencyKey,
      attempt.sessionId,
      attempt.paymentIntentId,
      attempt.amountMinor,
      attempt.currency,
      attempt.invoiceId,
      attempt.status,
      attempt.error ?? null,
    ],
    'paybot_record_attempt',
  );
}

export async function settleAttempt(
  db: DbOrTx,
  paymentIntentId: string,
  status: 'succeeded' | 'failed',
  error: string | null,
): Promise<void> {
  await db
    .update(paymentAttempts)
    .set({ status, error, updatedAt: sql`now()` })
    .where(eq(paymentAttempts.paymentIntentId, paymentIntentId));
}

// --- invoices ---
// The invoices table belongs to the invoices app, and apps never import each other. PayBot needs
// two facts about it (what an invoice asks for; that it is now paid), so it keeps its own two queries
// against the table's stable columns instead of a platform hook: the table is the contract the two
// apps share, the queries are visible here, and a schema change to those columns fails this app's
// tests rather than breaking at run time through an indirection.

export interface PayableInvoice {
  id: string;
  amountMinor: number;
  currency: string;
  matchedStatus: string;
}

export async function findInvoice(db: DbOrTx, id: string): Promise<PayableInvoice | null> {
  const result = await db.execute(
    sql`select id, total_minor, currency, matched_status from invoices where id = ${id}`,
  );
  const row = rowsOf<Record<string, unknown>>(result)[0];
  if (!row) return null;
  return {
    id: String(row.id),
    amountMinor: Number(row.total_minor),
    currency: String(row.currency),
    matchedStatus: String(row.matched_status),
  };
}

/** Marks an invoice paid; true when it changed (a replayed webhook changes nothing). */
export async function markInvoicePaid(db: DbOrTx, id: string): Promise<boolean> {
  const result = await db.execute(
    sql`update invoices set matched_status = 'PAID', updated_at = now() where id = ${id} and matched_status <> 'PAID' returning id`,
  );
  return rowsOf(result).length > 0;
}

/** Rows of a raw `execute`: node-postgres returns a result object, PGlite through drizzle the same shape. */
export function rowsOf<Row = unknown>(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[];
  return ((result as { rows?: Row[] }).rows ?? []) as Row[];
}
