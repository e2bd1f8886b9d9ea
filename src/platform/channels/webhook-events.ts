import type { DbOrTx } from '../db/transaction.ts';
import { webhookEvents } from './schema.ts';

/** Records a provider event id; false when it was seen before (a retry or a replay). */
export async function firstSighting(db: DbOrTx, provider: string, eventId: string): Promise<boolean> {
  const inserted = await db
    .insert(webhookEvents)
    .values({ provider, eventId })
    .onConflictDoNothing()
    .returning();
  return inserted.length > 0;
}
