// Data access for credit requests and polling cursors. Functions take a db or a transaction.
import { and, desc, eq, gte, inArray, lt, ne, sql } from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import type { CreditProgress, CreditSummary } from './compute.ts';
import {
  type CreditIntake,
  type CreditRequestRow,
  type CreditRequestStatus,
  creditPollCursors,
  creditRequests,
} from './schema.ts';

export const messageKey = (channel: string, ts: string) => `${channel}:${ts}`;

/** Records a request; undefined when this message is already one (another intake mode, a retry, a replay). */
export async function insertRequest(
  db: DbOrTx,
  input: { channel: string; ts: string; threadTs?: string | null; text: string; intake: CreditIntake },
): Promise<CreditRequestRow | undefined> {
  const [row] = await db
    .insert(creditRequests)
    .values({ ...input, messageKey: messageKey(input.channel, input.ts) })
    .onConflictDoNothing({ target: creditRequests.messageKey })
    .returning();
  return row;
}

export async function getRequest(db: DbOrTx, id: string): Promise<CreditRequestRow | undefined> {
  const [row] = await db.select().from(creditRequests).where(eq(creditRequests.id, id));
  return row;
}

export async function getRequestByKey(db: DbOrTx, key: string): Promise<CreditRequestRow | undefined> {
  const [row] = await db.select().from(creditRequests).where(eq(creditRequests.messageKey, key));
  return row;
}

/**
 * Takes a request for processing: only one that is queued, or processing (a worker that died
 * mid-way, whose job came back), and never one already answered or failed.
 */
export async function claimRequest(db: DbOrTx, id: string): Promise<CreditRequestRow | undefined> {
  const [row] = await db
    .update(creditRequests)
    .set({ status: 'processing', attempts: sql`${creditRequests.attempts} + 1`, updatedAt: sql`now()` })
    .where(and(eq(creditRequests.id, id), inArray(creditRequests.status, ['queued', 'processing'])))
    .returning();
  return row;
}

/**
 * Marks a processing request done; false when it was not processing (someone else finished it)
 * or its text is no longer the text computed (an edit arrived meanwhile: see requeueIfEdited).
 */
export async function completeRequest(
  db: DbOrTx,
  id: string,
  summary: CreditSummary,
  computedText: string,
): Promise<boolean> {
  const rows = await db
    .update(creditRequests)
    .set({
      status: 'done',
      amountCents: summary.amountCents,
      summary,
      error: null,
      updatedAt: sql`now()`,
      finishedAt: sql`now()`,
    })
    .where(
      and(
        eq(creditRequests.id, id),
        eq(creditRequests.status, 'processing'),
        eq(creditRequests.text, computedText),
      ),
    )
    .returning({ id: creditRequests.id });
  return rows.length > 0;
}

/** Marks a processing request failed, keeping what was done for each link it got through. */
export async function failRequest(
  db: DbOrTx,
  id: string,
  error: string,
  progress?: CreditProgress,
  computedText?: string,
): Promise<CreditRequestRow | undefined> {
  const [row] = await db
    .update(creditRequests)
    .set({
      status: 'failed',
      error,
      ...(progress ? { summary: progress } : {}),
      updatedAt: sql`now()`,
      finishedAt: sql`now()`,
    })
    .where(
      and(
        eq(creditRequests.id, id),
        eq(creditRequests.status, 'processing'),
        computedText === undefined ? undefined : eq(creditRequests.text, computedText),
      ),
    )
    .returning();
  return row;
}

/** An edit before the request was taken: it is computed for the edited text. */
export async function replaceQueuedText(db: DbOrTx, id: string, text: string): Promise<boolean> {
  const rows = await db
    .update(creditRequests)
    .set({ text, updatedAt: sql`now()` })
    .where(and(eq(creditRequests.id, id), eq(creditRequests.status, 'queued')))
    .returning({ id: creditRequests.id });
  return rows.length > 0;
}

/**
 * An edit while the request is being computed (with CREDITS_ACCEPT_EDITS): the new text is
 * stored, the computation under way cannot complete for the old one, and it starts again.
 */
export async function replaceProcessingText(db: DbOrTx, id: string, text: string): Promise<boolean> {
  const rows = await db
    .update(creditRequests)
    .set({ text, updatedAt: sql`now()` })
    .where(and(eq(creditRequests.id, id), eq(creditRequests.status, 'processing')))
    .returning({ id: creditRequests.id });
  return rows.length > 0;
}

/** An answered (or failed) request whose message was edited, computed again for the new text. */
export async function requeueEdited(
  db: DbOrTx,
  id: string,
  text: string,
  from: Array<'done' | 'failed'>,
): Promise<CreditRequestRow | undefined> {
  const [row] = await db
    .update(creditRequests)
    .set({
      status: 'queued',
      text,
      round: sql`${creditRequests.round} + 1`,
      editedAt: sql`now()`,
      amountCents: null,
      summary: null,
      error: null,
      finishedAt: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(creditRequests.id, id), inArray(creditRequests.status, from)))
    .returning();
  return row;
}

/** The computation of `computedText` ended but the message now says something else: again. */
export async function requeueIfEdited(
  db: DbOrTx,
  id: string,
  computedText: string,
): Promise<CreditRequestRow | undefined> {
  const [row] = await db
    .update(creditRequests)
    .set({
      status: 'queued',
      round: sql`${creditRequests.round} + 1`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(creditRequests.id, id),
        eq(creditRequests.status, 'processing'),
        ne(creditRequests.text, computedText),
      ),
    )
    .returning();
  return row;
}

/** Notes a transient failure that will be retried. */
export async function noteError(db: DbOrTx, id: string, error: string): Promise<void> {
  await db.update(creditRequests).set({ error, updatedAt: sql`now()` }).where(eq(creditRequests.id, id));
}

/** A failed request goes back to the queue for a new round; undefined when it is not failed. */
export async function requeueRequest(db: DbOrTx, id: string): Promise<CreditRequestRow | undefined> {
  const [row] = await db
    .update(creditRequests)
    .set({
      status: 'queued',
      round: sql`${creditRequests.round} + 1`,
      error: null,
      finishedAt: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(creditRequests.id, id), eq(creditRequests.status, 'failed')))
    .returning();
  return row;
}

/** Newest first; `before` is the createdAt of the previous page's last row (the API's list and the console's). */
export async function listRequests(
  db: DbOrTx,
  options: { limit: number; before?: Date; status?: CreditRequestStatus },
): Promise<CreditRequestRow[]> {
  return db
    .select()
    .from(creditRequests)
    .where(
      and(
        options.before ? lt(creditRequests.createdAt, options.before) : undefined,
        options.status ? eq(creditRequests.status, options.status) : undefined,
      ),
    )
    .orderBy(desc(creditRequests.createdAt), desc(creditRequests.id))
    .limit(options.limit);
}

/** Credits granted (answered requests and their amounts) per UTC day since `since`, by day. */
export async function creditsPerDay(
  db: DbOrTx,
  since: Date,
): Promise<Array<{ day: string; requests: number; amountCents: number }>> {
  const rows = await db
    .select({
      // A date cast groups by hash; formatting each row's time first cost more than the scan.
      day: sql<string>`((${creditRequests.finishedAt} at time zone 'UTC')::date)::text`,
      requests: sql<number>`count(*)::int`,
      amountCents: sql<string>`coalesce(sum(${creditRequests.amountCents}), 0)::text`,
    })
    .from(creditRequests)
    .where(and(eq(creditRequests.status, 'done'), gte(creditRequests.finishedAt, since)))
    .groupBy(sql`1`);
  return rows
    .map((r) => ({ day: r.day, requests: Number(r.requests), amountCents: Number(r.amountCents) }))
    .sort((a, b) => a.day.localeCompare(b.day));
}

export async function getCursor(db: DbOrTx, channel: string): Promise<string | undefined> {
  const [row] = await db.select().from(creditPollCursors).where(eq(creditPollCursors.channel, channel));
  return row?.latestTs;
}

/** Moves the cursor forward only (two overlapping passes cannot move it back). */
export async function advanceCursor(db: DbOrTx, channel: string, latestTs: string): Promise<void> {
  await db
    .insert(creditPollCursors)
    .values({ channel, latestTs })
    .onConflictDoUpdate({
      target: creditPollCursors.channel,
      set: {
        latestTs: sql`case when ${creditPollCursors.latestTs}::numeric < excluded.latest_ts::numeric then excluded.latest_ts else ${creditPollCursors.latestTs} end`,
        updatedAt: sql`now()`,
      },
    });
}
