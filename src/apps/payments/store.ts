// Data access for PayBot: sessions, API keys, charge attempts, and the invoices it settles.
// Functions take a db or a transaction; callers own the unit of work.
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import type { DialogState } from './dialog/state.ts';
import { type ChatSessionRow, chatApiKeys, chatSessions, paymentAttempts } from './schema.ts';

export interface StoredSession {
  state: DialogState;
  version: number;
  expired: boolean;
}

export async function loadSession(db: DbOrTx, id: string): Promise<StoredSession | null> {
  const [row] = await db
    .select({
      state: chatSessions.state,
      version: chatSessions.version,
      expired: sql<boolean>`${chatSessions.expiresAt} <= now()`,
    })
    .from(chatSessions)
    .where(eq(chatSessions.id, id));
  return row ? { state: row.state as DialogState, version: row.version, expired: row.expired } : null;
}

/**
 * Writes a turn's new state if nobody else wrote since it was read (`version`); false means
 * another replica answered a message of this session meanwhile, and the turn must be redone.
 */
export async function saveSession(
  db: DbOrTx,
  id: string,
  state: DialogState,
  readVersion: number | null,
  ttlMs: number,
): Promise<boolean> {
  const fields = {
    state,
    status: state.status,
    paymentIntentId: state.paymentIntentId ?? null,
    checkoutSessionId: state.checkoutSessionId ?? null,
    updatedAt: sql`now()`,
    expiresAt: sql`now() + ${`${ttlMs} milliseconds`}::interval`,
  };
  if (readVersion === null) {
    const rows = await db
      .insert(chatSessions)
      .values({ id, version: 1, ...fields } as unknown as typeof chatSessions.$inferInsert)
      .onConflictDoNothing()
      .returning({ id: chatSessions.id });
    return rows.length > 0;
  }
  const rows = await db
    .update(chatSessions)
    .set({ ...fields, version: readVersion + 1 })
    .where(and(eq(chatSessions.id, id), eq(chatSessions.version, readVersion)))
    .returning({ id: chatSessions.id });
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

export async function deleteExpiredSessions(db: DbOrTx): Promise<number> {
  const rows = await db
    .delete(chatSessions)
    .where(sql`${chatSessions.expiresAt} < now() - interval '1 day'`)
    .returning({ id: chatSessions.id });
  return rows.length;
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

export async function recordAttempt(
  db: DbOrTx,
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
  await db
    .insert(paymentAttempts)
    .values({ ...attempt, error: attempt.error ?? null })
    .onConflictDoUpdate({
      target: paymentAttempts.idempotencyKey,
      set: {
        paymentIntentId: sql`coalesce(excluded.payment_intent_id, ${paymentAttempts.paymentIntentId})`,
        status: sql`excluded.status`,
        error: sql`excluded.error`,
        updatedAt: sql`now()`,
      },
    });
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
