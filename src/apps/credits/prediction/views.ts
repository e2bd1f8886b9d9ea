// What the API and the console show of a request's second opinion, and the service functions the
// console's pages call (the routes call the same ones): a request with its prediction and flag, a
// page of them, and the held replies.
import type { Database } from '../../../platform/db/database.ts';
import { notFound } from '../../../platform/errors.ts';
import type { CreditCheckRow, CreditRequestRow } from '../schema.ts';
import { getRequest, listRequests } from '../store.ts';
import type { PredictionView } from './check.ts';
import { checksFor } from './store.ts';

export interface SecondOpinionView {
  /** null below the minimum history (or without a per-mode table): `predictionNote` says why. */
  prediction: PredictionView | null;
  predictionNote: string | null;
  flag: { reason: string; kinds: string[] } | null;
  /**
   * Set when the reply was held for approval: who approved it, when, how (null while waiting), and
   * the amount they corrected it to (null: posted as computed).
   */
  hold: {
    approvedBy: string | null;
    approvedAt: Date | null;
    via: string | null;
    correctedCents: number | null;
  } | null;
}

export function secondOpinionView(
  row: CreditRequestRow,
  check: CreditCheckRow | undefined,
): SecondOpinionView {
  // A request being recomputed (an edit, a retry) shows no check of an earlier round.
  if (!check || row.status !== 'done')
    return {
      prediction: null,
      predictionNote:
        row.status === 'done'
          ? 'no prediction: answered before it was checked'
          : `no prediction: the request is ${row.status}`,
      flag: null,
      hold: null,
    };
  return {
    prediction: (check.prediction as PredictionView | null) ?? null,
    predictionNote: check.predictionNote,
    flag: check.flagReason
      ? { reason: check.flagReason, kinds: (check.flagKinds as string[] | null) ?? [] }
      : null,
    hold: check.held
      ? {
          approvedBy: check.approvedBy,
          approvedAt: check.approvedAt,
          via: check.approvedVia,
          correctedCents: check.correctedCents,
        }
      : null,
  };
}

export interface RequestWithOpinion {
  row: CreditRequestRow;
  opinion: SecondOpinionView;
}

/** A page of requests, newest first, each with its prediction and flag. */
export async function listCreditRequests(
  db: Database,
  options: Parameters<typeof listRequests>[1],
): Promise<RequestWithOpinion[]> {
  const rows = await listRequests(db.orm, options);
  const checks = await checksFor(
    db.orm,
    rows.map((row) => row.id),
  );
  return rows.map((row) => ({ row, opinion: secondOpinionView(row, checks.get(row.id)) }));
}

/** The second opinion on a row already read. */
export async function opinionOf(db: Database, row: CreditRequestRow): Promise<SecondOpinionView> {
  return secondOpinionView(row, (await checksFor(db.orm, [row.id])).get(row.id));
}

export async function getCreditRequest(db: Database, id: string): Promise<RequestWithOpinion> {
  const row = await getRequest(db.orm, id);
  if (!row) throw notFound(`Credit request ${id}`);
  const check = (await checksFor(db.orm, [id])).get(id);
  return { row, opinion: secondOpinionView(row, check) };
}
