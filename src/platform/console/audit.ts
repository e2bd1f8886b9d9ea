// The audit log of console actions. Written by the console after each action, read by the audit
// page and by the pages of the things acted on (a message's page lists what operators did to it).

import { and, desc, eq, lt, or } from '../db/drizzle.ts';
import { auditLog } from '../db/schema.ts';
import type { DbOrTx } from '../db/transaction.ts';

export type AuditEntry = typeof auditLog.$inferSelect;

export async function recordAudit(
  db: DbOrTx,
  entry: Pick<AuditEntry, 'operator' | 'action' | 'target' | 'outcome' | 'detail'>,
): Promise<AuditEntry> {
  const [row] = await db.insert(auditLog).values(entry).returning();
  if (!row) throw new Error('audit entry was not written');
  return row;
}

export async function getAudit(db: DbOrTx, id: string): Promise<AuditEntry | undefined> {
  const [row] = await db.select().from(auditLog).where(eq(auditLog.id, id));
  return row;
}

/** Newest first, `limit` at a time; `before` is the last entry of the previous page. */
export async function listAudit(
  db: DbOrTx,
  filter: { target?: string; limit: number; before?: { at: Date; id: string } },
): Promise<AuditEntry[]> {
  const older = filter.before
    ? or(
        lt(auditLog.at, filter.before.at),
        and(eq(auditLog.at, filter.before.at), lt(auditLog.id, filter.before.id)),
      )
    : undefined;
  return db
    .select()
    .from(auditLog)
    .where(and(filter.target ? eq(auditLog.target, filter.target) : undefined, older))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(filter.limit);
}
