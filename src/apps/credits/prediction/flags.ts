// When a computed credit needs a person's look, and why, in plain words. Two independent checks:
// - outside the interval: the computed credit is below or above what the model gives requests like
//   this one ("computed $48,000.00; requests like this were $3,100.00-$5,400.00");
// - outside the account's history: with at least HISTORY_MIN_REQUESTS earlier requests, the credit's
//   share of the fraud cost is more than HISTORY_RATIO_MARGIN outside the lowest-to-highest share
//   those requests had (a steady account suddenly credited in full, as a pumped account would be).
// A flag never changes the amount: it tells the operator, and may hold the reply for approval.
import { formatMoney } from '../../../platform/money.ts';
import type { Example, Prediction } from './model.ts';

export const HISTORY_MIN_REQUESTS = 3;
/** Ten points of the fraud cost. */
export const HISTORY_RATIO_MARGIN = 0.1;

export type FlagKind = 'outside_interval' | 'ratio_history';

export interface Flag {
  reason: string;
  kinds: FlagKind[];
}

/** An interval bound people can read: three significant figures, rounded outward. */
function roughly(cents: number, direction: 'down' | 'up'): string {
  if (cents < 1000) return formatMoney(Math.max(0, cents), 'USD');
  const step = 10 ** (Math.floor(Math.log10(cents)) - 2);
  const rounded = (direction === 'down' ? Math.floor(cents / step) : Math.ceil(cents / step)) * step;
  return formatMoney(rounded, 'USD');
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

export function flagOf(
  example: Example,
  prediction: Pick<Prediction, 'lowCents' | 'highCents'> | null,
): Flag | null {
  const reasons: string[] = [];
  const kinds: FlagKind[] = [];
  const { features, history } = example;
  if (
    prediction &&
    (features.creditCents < prediction.lowCents || features.creditCents > prediction.highCents)
  ) {
    kinds.push('outside_interval');
    reasons.push(
      `computed ${formatMoney(features.creditCents, 'USD')}; requests like this were ${roughly(prediction.lowCents, 'down')}-${roughly(prediction.highCents, 'up')}`,
    );
  }
  if (history.count >= HISTORY_MIN_REQUESTS && history.minRatio !== null && history.maxRatio !== null) {
    const { ratio } = features;
    if (ratio < history.minRatio - HISTORY_RATIO_MARGIN || ratio > history.maxRatio + HISTORY_RATIO_MARGIN) {
      kinds.push('ratio_history');
      reasons.push(
        `the credit is ${percent(ratio)} of the fraud cost (${formatMoney(features.costCents, 'USD')}); this account's ${history.count} earlier requests were ${percent(history.minRatio)}-${percent(history.maxRatio)}`,
      );
    }
  }
  return kinds.length ? { reason: reasons.join('; '), kinds } : null;
}
