// The second opinion on one answered request: its features, the account's history, the newest
// model's prediction (none below CREDITS_MODEL_MIN_REQUESTS, with the reason) and the flag. It reads
// only; the caller records it in the transaction that answers the request. The computed amount is
// an input here and is never changed.
import type { DbOrTx } from '../../../platform/db/transaction.ts';
import type { CreditSummary } from '../compute.ts';
import type { CreditModelSettings } from '../config.ts';
import { featuresOf, type HistoryFeatures, NO_HISTORY } from './features.ts';
import { type Flag, flagOf } from './flags.ts';
import { modelFrom, predict } from './model.ts';
import { accountHistory, type CheckValues, latestModel } from './store.ts';

export interface PredictionView {
  amountCents: number;
  lowCents: number;
  highCents: number;
  modelVersion: number;
}

export interface CreditCheck {
  values: CheckValues;
  prediction: PredictionView | null;
  /** Why there is no prediction. */
  note: string | null;
  flag: Flag | null;
  history: HistoryFeatures;
}

/**
 * The thread's line when there is no prediction: the people who asked should know the amount was
 * not checked against history, and why, in words short enough for a Slack reply.
 */
export const noPredictionLine = {
  unreadable: (missing: string) => `No second opinion on this amount: ${missing}.`,
  noModel: (minRequests: number) =>
    `No second opinion on this amount yet: no model has been trained (one needs ${minRequests} answered requests).`,
  tooFewRequests: (learnt: number, minRequests: number) =>
    `No second opinion on this amount yet: the model has learnt from ${learnt} of the ${minRequests} answered requests it needs.`,
};

export async function checkCredit(
  db: DbOrTx,
  settings: CreditModelSettings,
  request: { id: string; createdAt: Date; text: string },
  summary: CreditSummary,
): Promise<CreditCheck> {
  const read = featuresOf(summary, request.text);
  const base = {
    requestId: request.id,
    requestedAt: request.createdAt,
    creditCents: summary.amountCents,
    flagReason: null,
    flagKinds: null,
    held: false,
  };
  if (!('features' in read)) {
    const note = `no prediction: ${read.missing}`;
    return {
      values: {
        ...base,
        account: null,
        costCents: null,
        features: null,
        prediction: null,
        predictionNote: note,
        replyNote: noPredictionLine.unreadable(read.missing),
      },
      prediction: null,
      note,
      flag: null,
      history: NO_HISTORY,
    };
  }
  const { features } = read;
  const history = features.account
    ? await accountHistory(db, features.account, request.createdAt, request.id)
    : NO_HISTORY;
  const stored = await latestModel(db);
  const model = stored ? modelFrom(stored.parameters) : null;
  let prediction: PredictionView | null = null;
  let note: string | null = null;
  let replyNote: string | null = null;
  if (!stored || !model) {
    replyNote = noPredictionLine.noModel(settings.minRequests);
    note = `no prediction yet: no model has been trained (predictions start once ${settings.minRequests} requests are answered, CREDITS_MODEL_MIN_REQUESTS; \`switchboard credits model train\` trains one)`;
  } else if (stored.requests < settings.minRequests) {
    replyNote = noPredictionLine.tooFewRequests(stored.requests, settings.minRequests);
    note = `no prediction: model ${stored.version} learnt from ${stored.requests} requests, fewer than CREDITS_MODEL_MIN_REQUESTS (${settings.minRequests})`;
  } else {
    const { amountCents, lowCents, highCents } = predict(model, { features, history });
    prediction = { amountCents, lowCents, highCents, modelVersion: stored.version };
  }
  const flag = flagOf({ features, history }, prediction);
  return {
    values: {
      ...base,
      account: features.account,
      costCents: features.costCents,
      features,
      prediction,
      predictionNote: note,
      replyNote,
      flagReason: flag?.reason ?? null,
      flagKinds: flag?.kinds ?? null,
      held: Boolean(flag && settings.holdOutliers),
    },
    prediction,
    note,
    flag,
    history,
  };
}
