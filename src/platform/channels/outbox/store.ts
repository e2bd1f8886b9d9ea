// Data access for outbox rows. Status only moves forward (queued -> sending -> sent -> delivered /
// undelivered), whatever order provider callbacks arrive in.
import type { SQL } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { and, desc, eq, gte, like, lt, or, sql } from '../../db/drizzle.ts';
import type { DbOrTx } from '../../db/transaction.ts';
import { errorText } from '../../redact.ts';
import { type OutboxRow, type OutboxStatus, outboxMessages } from '../schema.ts';
import type { Channel } from '../types.ts';

/** How far along a status is; a callback never moves a row to a lower rank. */
export const STATUS_RANK: Record<OutboxStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
  suppressed: 3,
  cancelled: 3,
};

export async function getMessage(db: DbOrTx, id: string): Promise<OutboxRow | undefined> {
  const [row] = await db.select().from(outboxMessages).where(eq(outboxMessages.id, id));
  return row;
}

export interface ListFilter {
  status?: OutboxStatus;
  channel?: Channel;
  /** Exact dedupe key, or a prefix when it ends with `*`. */
  key?: string;
  /** Exact recipient (E.164 number, email address, Slack channel). */
  to?: string;
  /** Created at or after / before these instants. */
  since?: Date;
  until?: Date;
  limit: number;
  /**
   * Rows created before this one (keyset pagination, newest first). `createdAt` is the database's
   * own value to the microsecond (`exactCreatedAt`): a JavaScript Date keeps milliseconds only, and
   * the rows one transaction enqueues (a scan's alerts) share one created_at, so a cursor rounded to
   * the millisecond skipped every row of that transaction after the page's last.
   */
  before?: { createdAt: string; id: string };
}

/** A row's created_at as PostgreSQL holds it, to the microsecond, in UTC ISO 8601 (for a cursor). */
export async function exactCreatedAt(db: DbOrTx, id: string): Promise<string | undefined> {
  const [row] = await db
    .select({
      at: sql<string>`to_char(${outboxMessages.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(outboxMessages)
    .where(eq(outboxMessages.id, id));
  return row?.at;
}

export async function listMessages(db: DbOrTx, filter: ListFilter): Promise<OutboxRow[]> {
  const conditions: SQL[] = [];
  if (filter.status) conditions.push(eq(outboxMessages.status, filter.status));
  if (filter.channel) conditions.push(eq(outboxMessages.channel, filter.channel));
  if (filter.key?.endsWith('*')) {
    const prefix = filter.key.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
    conditions.push(like(outboxMessages.dedupeKey, `${prefix}%`));
  } else if (filter.key) conditions.push(eq(outboxMessages.dedupeKey, filter.key));
  if (filter.to) conditions.push(eq(outboxMessages.recipient, filter.to));
  if (filter.since) conditions.push(gte(outboxMessages.createdAt, filter.since));
  if (filter.until) conditions.push(lt(outboxMessages.createdAt, filter.until));
  if (filter.before) {
    const { createdAt, id } = filter.before;
    const at = sql`${createdAt}::timestamptz`;
    const older = or(
      lt(outboxMessages.createdAt, at),
      and(eq(outboxMessages.createdAt, at), lt(outboxMessages.id, id)),
    );
    if (older) conditions.push(older);
  }
  return db
    .select()
    .from(outboxMessages)
    .where(and(...conditions))
    .orderBy(desc(outboxMessages.createdAt), desc(outboxMessages.id))
    .limit(filter.limit);
}

/** Records what a provider callback says, if it moves the row forward. Returns the updated row. */
export async function applyProviderStatus(
  db: DbOrTx,
  where: { driver: string; providerId: string },
  update: {
    status: 'sent' | 'delivered' | 'undelivered' | 'failed';
    errorCode?: string | null;
    error?: string | null;
  },
): Promise<OutboxRow | undefined> {
  const rank = STATUS_RANK[update.status];
  const [row] = await db
    .update(outboxMessages)
    .set({
      status: update.status,
      updatedAt: sql`now()`,
      ...(update.status === 'delivered' ? { deliveredAt: sql`now()` } : {}),
      ...(update.errorCode !== undefined ? { errorCode: update.errorCode } : {}),
      // A provider's own words (a bounce reason) may quote what it was sent: scrubbed like our errors.
      ...(update.error !== undefined
        ? { lastError: update.error === null ? null : errorText(update.error) }
        : {}),
    })
    .where(
      and(
        eq(outboxMessages.driver, where.driver),
        eq(outboxMessages.providerId, where.providerId),
        sql`(case ${outboxMessages.status} when 'queued' then 0 when 'sending' then 1 when 'sent' then 2 else 3 end) < ${rank}`,
      ),
    )
    .returning();
  return row;
}

/**
 * Queued rows due, and untouched, for longer than `seconds`: a delivery would have claimed them by
 * now unless its job was lost (a restored backup) or is held by a worker that died before the claim.
 */
export async function findStaleQueued(db: Database, seconds: number, limit: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `select id from outbox_messages
      where status = 'queued' and coalesce(send_after, created_at) < now() - make_interval(secs => $1)
        and updated_at < now() - make_interval(secs => $1)
      order by created_at limit $2`,
    [seconds, limit],
    'outbox_stale_queued',
  );
  return rows.map((row) => row.id);
}

/**
 * Rows in `sending` whose attempt stopped renewing its lease: its worker died or lost the database.
 * No lease at all: a row an older version left sending (migration 0008 gives those one). Written so
 * the partial index on lease_expires_at answers it.
 */
export async function findLapsedLeases(
  db: Database,
  limit: number,
): Promise<Array<{ id: string; attemptId: string | null }>> {
  return db.query<{ id: string; attemptId: string | null }>(
    `select id, attempt_id as "attemptId" from outbox_messages
      where status = 'sending' and (lease_expires_at < now() or lease_expires_at is null)
      order by lease_expires_at limit $1`,
    [limit],
  );
}
