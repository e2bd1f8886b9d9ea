// Training and evaluating on the requests in the database: answered requests without a check (from
// before checks existed, or loaded as history) get their features recorded first; then the model is
// fitted on all of them in time order and stored as the next version, with the cross-validation of
// the same history. Below CREDITS_MODEL_MIN_REQUESTS nothing is trained, and the answer says why.
import type { Database } from '../../../platform/db/database.ts';
import { sql } from '../../../platform/db/drizzle.ts';
import { withTransaction } from '../../../platform/db/transaction.ts';
import type { CreditModelSettings } from '../config.ts';
import { type Evaluation, evaluateModel } from './evaluate.ts';
import { featuresOf, withHistory } from './features.ts';
import { fitModel, MODEL_KIND } from './model.ts';
import { examplesInOrder, insertChecks, insertModel, uncheckedRequests } from './store.ts';

/** The advisory lock that orders model versions (any constant no other lock in the service uses). */
const MODEL_VERSION_LOCK = 2_020_120_001;

export type TrainTrigger = 'schedule' | 'start' | 'api' | 'cli';

export type TrainResult =
  | { trained: true; version: number; requests: number; evaluation: Evaluation }
  | { trained: false; requests: number; reason: string };

/** Records the features of answered requests that have no check; returns how many. */
export async function recordMissingFeatures(db: Database): Promise<number> {
  let recorded = 0;
  for (;;) {
    const batch = await uncheckedRequests(db.orm, 500);
    if (batch.length === 0) return recorded;
    const rows = batch.map((request) => {
      const read = request.summary ? featuresOf(request.summary, request.text) : { missing: 'no summary' };
      const features = 'features' in read ? read.features : null;
      return {
        requestId: request.id,
        requestedAt: request.createdAt,
        account: features?.account ?? null,
        costCents: features?.costCents ?? null,
        creditCents: request.summary?.amountCents ?? 0,
        features,
        prediction: null,
        predictionNote: 'no prediction: answered before it was checked',
        replyNote: null,
        flagReason: null,
        flagKinds: null,
        held: false,
      };
    });
    await insertChecks(db.orm, rows);
    recorded += rows.length;
  }
}

async function loadExamples(db: Database) {
  await recordMissingFeatures(db);
  return withHistory(await examplesInOrder(db.orm));
}

const tooFew = (count: number, settings: CreditModelSettings) =>
  `${count} answered request(s) with a per-mode table; a model needs ${settings.minRequests} (CREDITS_MODEL_MIN_REQUESTS)`;

export async function trainCreditModel(
  db: Database,
  settings: CreditModelSettings,
  trigger: TrainTrigger,
): Promise<TrainResult> {
  const examples = await loadExamples(db);
  if (examples.length < settings.minRequests)
    return { trained: false, requests: examples.length, reason: tooFew(examples.length, settings) };
  const evaluation = evaluateModel(examples);
  const model = fitModel(examples);
  // Two trainings at once (the schedule and a person) each get a version of their own.
  const row = await withTransaction(db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MODEL_VERSION_LOCK})`);
    return insertModel(tx, {
      kind: MODEL_KIND,
      parameters: model,
      evaluation,
      requests: examples.length,
      trainedThrough: examples.at(-1)?.requestedAt ?? null,
      trigger,
    });
  });
  return { trained: true, version: row.version, requests: examples.length, evaluation };
}

export async function evaluateCreditModel(
  db: Database,
  settings: CreditModelSettings,
): Promise<
  { evaluated: true; evaluation: Evaluation } | { evaluated: false; requests: number; reason: string }
> {
  const examples = await loadExamples(db);
  if (examples.length < settings.minRequests)
    return { evaluated: false, requests: examples.length, reason: tooFew(examples.length, settings) };
  return { evaluated: true, evaluation: evaluateModel(examples) };
}
