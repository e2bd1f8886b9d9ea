// Data access for the second opinion: models, the per-request checks, the history a check reads.
// Functions take a db or a transaction.
import { and, desc, eq, inArray, isNull, lt, ne, sql } from '../../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../../platform/db/transaction.ts';
import type { CreditSummary } from '../compute.ts';
import {
  type CreditCheckRow,
  type CreditModelRow,
  creditChecks,
  creditModels,
  creditRequests,
} from '../schema.ts';
import type { HistoryFeatures, RequestFeatures } from './features.ts';

export async function latestModel(db: DbOrTx): Promise<CreditModelRow | undefined> {
  const [row] = await db.select().from(creditModels).orderBy(desc(creditModels.version)).limit(1);
  return row;
}

/** Stores a new model as the next version. */
export async function insertModel(
  db: DbOrTx,
  input: Omit<CreditModelRow, 'version' | 'trainedAt'>,
): Promise<CreditModelRow> {
  const [row] = await db
    .insert(creditModels)
    .values({
      ...input,
      version: sql`(select coalesce(max(${creditModels.version}), 0) + 1 from ${creditModels})`,
    })
    .returning();
  return row as CreditModelRow;
}

/** The account's requests answered before `before` (another round of this request excluded). */
export async function accountHistory(
  db: DbOrTx,
  account: string,
  before: Date,
  requestId: string,
): Promise<HistoryFeatures> {
  // A person's correction is what the account was credited: history reads it over the computed.
  const ratio = sql`coalesce(${creditChecks.correctedCents}, ${creditChecks.creditCents})::float8 / ${creditChecks.costCents}`;
  const [row] = await db
    .select({
      count: sql<number>`count(*)::int`,
      mean: sql<number | null>`avg(${ratio})`,
      min: sql<number | null>`min(${ratio})`,
      max: sql<number | null>`max(${ratio})`,
    })
    .from(creditChecks)
    .where(
      and(
        eq(creditChecks.account, account),
        lt(creditChecks.requestedAt, before),
        ne(creditChecks.requestId, requestId),
        sql`${creditChecks.costCents} > 0`,
      ),
    );
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    count: row?.count ?? 0,
    meanRatio: number(row?.mean),
    minRatio: number(row?.min),
    maxRatio: number(row?.max),
  };
}

/**
 * Every check with features, oldest request first: what a model learns from. A held reply a person
 * corrected teaches the corrected credit: it is what the request should have been credited.
 */
export async function examplesInOrder(
  db: DbOrTx,
): Promise<Array<{ requestId: string; requestedAt: Date; features: RequestFeatures }>> {
  const rows = await db
    .select({
      requestId: creditChecks.requestId,
      requestedAt: creditChecks.requestedAt,
      features: creditChecks.features,
      correctedCents: creditChecks.correctedCents,
    })
    .from(creditChecks)
    .innerJoin(creditRequests, eq(creditRequests.id, creditChecks.requestId))
    .where(and(sql`${creditChecks.features} is not null`, eq(creditRequests.status, 'done')))
    .orderBy(creditChecks.requestedAt, creditChecks.requestId);
  return rows.map(({ correctedCents, features, ...row }) => {
    const read = features as RequestFeatures;
    return {
      ...row,
      features:
        correctedCents === null
          ? read
          : { ...read, creditCents: correctedCents, ratio: correctedCents / read.costCents },
    };
  });
}

export type CheckValues = Omit<
  CreditCheckRow,
  'checkedAt' | 'approvedBy' | 'approvedVia' | 'approvedAt' | 'correctedCents'
>;

/** Records a request's check; a new round replaces the last one (and its approval). */
export async function saveCheck(db: DbOrTx, values: CheckValues): Promise<void> {
  const reset = {
    approvedBy: null,
    approvedVia: null,
    approvedAt: null,
    correctedCents: null,
    checkedAt: sql`now()`,
  };
  await db
    .insert(creditChecks)
    .values(values)
    .onConflictDoUpdate({ target: creditChecks.requestId, set: { ...values, ...reset } });
}

/** Records checks in bulk; a request that has one already keeps it. */
export async function insertChecks(db: DbOrTx, rows: CheckValues[]): Promise<void> {
  if (rows.length) await db.insert(creditChecks).values(rows).onConflictDoNothing();
}

export async function checksFor(db: DbOrTx, ids: string[]): Promise<Map<string, CreditCheckRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select().from(creditChecks).where(inArray(creditChecks.requestId, ids));
  return new Map(rows.map((row) => [row.requestId, row]));
}

/** The ids of held replies nobody has approved yet, newest first (the console's "needs a person"). */
export async function heldAwaitingApproval(db: DbOrTx, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: creditChecks.requestId })
    .from(creditChecks)
    .where(and(eq(creditChecks.held, true), isNull(creditChecks.approvedAt)))
    .orderBy(desc(creditChecks.requestedAt))
    .limit(limit);
  return rows.map((row) => row.id);
}

export type ApprovalVia = 'slack' | 'api' | 'console';

/**
 * Marks a held reply approved (with a person's corrected amount, when they corrected it); undefined
 * when it is not held, or already approved.
 */
export async function approveCheck(
  db: DbOrTx,
  requestId: string,
  approval: { by: string; via: ApprovalVia; correctedCents?: number | null },
): Promise<CreditCheckRow | undefined> {
  const [row] = await db
    .update(creditChecks)
    .set({
      approvedBy: approval.by,
      approvedVia: approval.via,
      approvedAt: sql`now()`,
      correctedCents: approval.correctedCents ?? null,
    })
    .where(
      and(
        eq(creditChecks.requestId, requestId),
        eq(creditChecks.held, true),
        isNull(creditChecks.approvedAt),
      ),
    )
    .returning();
  return row;
}

/** Answered requests with no check yet (answered before checks existed, or inserted as history). */
export async function uncheckedRequests(
  db: DbOrTx,
  limit: number,
): Promise<Array<{ id: string; createdAt: Date; text: string; summary: CreditSummary }>> {
  const rows = await db
    .select({
      id: creditRequests.id,
      createdAt: creditRequests.createdAt,
      text: creditRequests.text,
      summary: creditRequests.summary,
    })
    .from(creditRequests)
    .leftJoin(creditChecks, eq(creditChecks.requestId, creditRequests.id))
    .where(and(eq(creditRequests.status, 'done'), isNull(creditChecks.requestId)))
    .orderBy(creditRequests.createdAt, creditRequests.id)
    .limit(limit);
  return rows as Array<{ id: string; createdAt: Date; text: string; summary: CreditSummary }>;
}

/** The channel synthetic history is recorded under: no real Slack channel has this id. */
export const SYNTHETIC_CHANNEL = 'C0SYNTHETIC';

/** Records answered requests as history (the sandbox's synthetic history); an existing one is left. */
export async function insertAnsweredRequests(
  db: DbOrTx,
  requests: Array<{ createdAt: Date; text: string; summary: CreditSummary }>,
): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < requests.length; i += 500) {
    const rows = requests.slice(i, i + 500).map((request) => {
      const micros = request.createdAt.getTime() * 1000;
      const ts = `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
      return {
        messageKey: `${SYNTHETIC_CHANNEL}:${ts}`,
        channel: SYNTHETIC_CHANNEL,
        ts,
        text: request.text,
        intake: 'sandbox' as const,
        status: 'done' as const,
        attempts: 1,
        amountCents: request.summary.amountCents,
        summary: request.summary,
        createdAt: request.createdAt,
        updatedAt: request.createdAt,
        finishedAt: request.createdAt,
      };
    });
    const added = await db
      .insert(creditRequests)
      .values(rows)
      .onConflictDoNothing({ target: creditRequests.messageKey })
      .returning({ id: creditRequests.id });
    inserted += added.length;
  }
  return inserted;
}
