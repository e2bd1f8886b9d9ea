// What an operator may do to a message (the console's buttons and the API's POSTs call these):
// send a failed one again, or cancel one still waiting. Each changes the row only from the state
// it names, so a message being sent right now is never touched.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.ts';
import { and, eq, inArray, sql } from '../../db/drizzle.ts';
import { type DbOrTx, withTransaction } from '../../db/transaction.ts';
import { AppError, notFound } from '../../errors.ts';
import type { JobSystem } from '../../jobs/job-system.ts';
import { type OutboxStatus, outboxMessages } from '../schema.ts';
import { DELIVERY_UNKNOWN } from './deliver.ts';
import type { OutboxJobs } from './jobs.ts';
import { getMessage } from './store.ts';

export interface OperatorDeps {
  db: Database;
  jobs: JobSystem<OutboxJobs>;
}

/** States a retry starts from: the provider refused it, or said it never arrived. */
export const RETRYABLE: readonly OutboxStatus[] = ['failed', 'undelivered'];

export async function retryMessage(deps: OperatorDeps, id: string, operator: string) {
  return withTransaction(deps.db, async (tx) => {
    const rows = await tx
      .update(outboxMessages)
      .set({
        status: 'queued',
        attempts: 0,
        // Retrying a message failed as delivery unknown is the operator's choice to risk a duplicate:
        // without this, the read-back that could not decide would fail it again at once.
        unconfirmedSince: sql`case when ${outboxMessages.errorCode} = ${DELIVERY_UNKNOWN} then null else ${outboxMessages.unconfirmedSince} end`,
        errorCode: null,
        lastError: null,
        sendAfter: null,
        meta: sql`${outboxMessages.meta} || ${JSON.stringify({ retriedBy: operator, retriedAt: new Date().toISOString() })}::jsonb`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(outboxMessages.id, id), inArray(outboxMessages.status, [...RETRYABLE])))
      .returning({ id: outboxMessages.id, dedupeKey: outboxMessages.dedupeKey });
    const row = rows[0];
    // Read in the transaction: on PGlite (one connection) a read beside it would wait for it forever.
    if (!row)
      throw await refusal(tx, id, 'retried', 'only a failed or undelivered message can be sent again');
    // A key of its own: an earlier job of this row (completed, or dead) must not hold it back.
    await deps.jobs.send('outbox.deliver', { id }, { tx, singletonKey: `${id}:retry:${randomUUID()}` });
    return row;
  });
}

export async function cancelMessage(deps: Pick<OperatorDeps, 'db'>, id: string, operator: string) {
  const rows = await deps.db.orm
    .update(outboxMessages)
    .set({
      status: 'cancelled',
      errorCode: null,
      lastError: `cancelled by ${operator}`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(outboxMessages.id, id), eq(outboxMessages.status, 'queued')))
    .returning({ id: outboxMessages.id, dedupeKey: outboxMessages.dedupeKey });
  const row = rows[0];
  if (!row) throw await refusal(deps.db.orm, id, 'cancelled', 'only a queued message can be cancelled');
  return row;
}

async function refusal(db: DbOrTx, id: string, verb: string, rule: string) {
  const row = await getMessage(db, id);
  if (!row) return notFound(`Outbox message ${id}`);
  return new AppError('conflict', `Message ${id} is ${row.status}, so it was not ${verb}: ${rule}.`);
}

/** Messages per channel and outcome in each hour since `since` (the overview's chart). */
export async function hourlyDelivery(db: Database, since: Date) {
  return db.query<{ hour: string; channel: string; outcome: string; count: number }>(
    `select to_char(date_trunc('hour', created_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24') as hour, channel,
            case when status in ('delivered') then 'delivered'
                 when status in ('sent') then 'sent'
                 when status in ('failed', 'undelivered') then 'failed'
                 else 'other' end as outcome,
            count(*)::int as count
       from outbox_messages where created_at >= $1
      group by 1, 2, 3`,
    [since.toISOString()],
  );
}

/** Messages waiting per channel and status right now (queued and sending). */
export async function outboxBacklog(db: Database) {
  return db.query<{ channel: string; status: string; count: number }>(
    `select channel, status, count(*)::int as count from outbox_messages
      where status in ('queued', 'sending') group by 1, 2`,
  );
}
