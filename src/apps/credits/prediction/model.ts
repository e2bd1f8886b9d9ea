// The second opinion: a regression of the credit-to-cost ratio on a request's features, with a
// split-conformal interval. The requests are taken in time order; the older 60% fit the ratio and
// the newest 40%, which the fit never saw, give the interval.
// - The fit: what the block rates alone say (each mode's cost share times one minus its block rate)
//   plus a weighted ridge regression of the difference on the features. The penalty pulls toward
//   that formula, so a small history predicts about what the block rates say, and a larger one
//   learns how each calculator departs from it. A request's weight grows with the log of its fraud
//   cost, so a miss on a large credit counts for more (the cost-weighted shape of the goodwill-credit
//   model the issue cites). A request missed by more than OUTLIER_MISS is left out of a second fit:
//   one wrong notebook in the history must not teach the model that wrong is normal.
// - The interval: per calculator kind (builtin credits follow the formula to the cent, notebooks
//   less closely), the absolute misses' (n+1) x COVERAGE-th smallest (the largest when the set is
//   too small for that), outliers left out, never narrower than MIN_HALF_WIDTH.
// The predicted credit is the ratio times the request's fraud cost. It is a check on the computed
// amount, never a replacement for it.
import type { HistoryFeatures, RequestFeatures } from './features.ts';
import { KNOWN_MODES } from './features.ts';
import { dot, fitRidge } from './ridge.ts';

export const MODEL_KIND = 'ratio-ridge-split-conformal/1';
/** Share of ordinary requests the interval should hold. */
export const COVERAGE = 0.995;
/** Interval half-width floor, as a ratio (2 points of the fraud cost). */
export const MIN_HALF_WIDTH = 0.02;
/** A miss (as a ratio of the fraud cost) beyond which a request is an outlier, not ordinary spread. */
export const OUTLIER_MISS = 0.25;
const CALIBRATION_SHARE = 0.4;
const LAMBDA = 1;

export interface Example {
  features: RequestFeatures;
  history: HistoryFeatures;
}

export interface CreditModel {
  kind: typeof MODEL_KIND;
  featureNames: string[];
  coefficients: number[];
  /** The conformal half-width, as a ratio of the fraud cost, per calculator kind (`all`: the rest). */
  halfWidths: Record<string, number>;
  coverage: number;
  trainedOn: number;
  calibratedOn: number;
}

export interface Prediction {
  amountCents: number;
  lowCents: number;
  highCents: number;
  ratio: number;
}

export const FEATURE_NAMES = [
  'intercept',
  'expected_ratio',
  'notebook',
  'notebook_x_expected_ratio',
  ...KNOWN_MODES.map((m) => `cost_share_${m}`),
  'cost_share_other',
  ...KNOWN_MODES.map((m) => `notebook_x_cost_share_${m}`),
  'product_psms',
  'product_mixed',
  'log_fraud_cost',
  'log_cost_per_message',
  'history_mean_ratio_minus_expected',
  'has_history',
];

export function featureVector({ features: f, history: h }: Example): number[] {
  const share = (mode: string) => (f.modes[mode]?.costCents ?? 0) / f.costCents;
  const known = KNOWN_MODES.reduce((sum, m) => sum + share(m), 0);
  const notebook = f.calculator.includes('notebook') ? 1 : 0;
  const dollars = f.costCents / 100;
  return [
    1,
    f.expectedRatio,
    notebook,
    notebook * f.expectedRatio,
    ...KNOWN_MODES.map(share),
    Math.max(0, 1 - known),
    ...KNOWN_MODES.map((m) => notebook * share(m)),
    f.product === 'psms' ? 1 : 0,
    f.product === 'mixed' ? 1 : 0,
    Math.log10(1 + dollars) / 5,
    f.messages > 0 ? Math.log10(dollars / f.messages + 1e-4) / 4 : 0,
    // How far the account's credits have run from the block-rate formula, bounded so that one wrong
    // credit in its history cannot drag its next predictions far.
    h.meanRatio === null ? 0 : Math.max(-OUTLIER_MISS, Math.min(OUTLIER_MISS, h.meanRatio - f.expectedRatio)),
    h.count > 0 ? 1 : 0,
  ];
}

const weightOf = (e: Example) => 1 + Math.log10(1 + e.features.costCents / 100);

/** The ratio the model gives a request (before the interval). */
export const predictRatio = (model: Pick<CreditModel, 'coefficients'>, e: Example) =>
  Math.max(0, e.features.expectedRatio + dot(model.coefficients, featureVector(e)));

/** The calibration group a request falls in. */
const groupOf = (e: Example) => (e.features.calculator === 'builtin' ? 'builtin' : 'notebook');

const miss = (model: Pick<CreditModel, 'coefficients'>, e: Example) =>
  Math.abs(e.features.ratio - predictRatio(model, e));

function fitCoefficients(examples: Example[]): number[] {
  const solve = (rows: Example[]) =>
    fitRidge(
      rows.map(featureVector),
      rows.map((e) => e.features.ratio - e.features.expectedRatio),
      rows.map(weightOf),
      LAMBDA,
    );
  const first = solve(examples);
  const ordinary = examples.filter((e) => miss({ coefficients: first }, e) <= OUTLIER_MISS);
  return ordinary.length >= 2 && ordinary.length < examples.length ? solve(ordinary) : first;
}

function halfWidth(misses: number[], coverage: number): number | null {
  const ordinary = misses.filter((m) => m <= OUTLIER_MISS).sort((a, b) => a - b);
  if (ordinary.length === 0) return null;
  const k = Math.min(ordinary.length, Math.ceil((ordinary.length + 1) * coverage));
  return Math.max(MIN_HALF_WIDTH, ordinary[k - 1] ?? 0);
}

/**
 * Fits on `examples` in time order (oldest first); needs at least 4 of them. `formulaOnly`: no
 * regression, the block-rate formula with the same intervals (the benchmark's baseline).
 */
export function fitModel(examples: Example[], coverage = COVERAGE, formulaOnly = false): CreditModel {
  if (examples.length < 4) throw new Error(`a model needs at least 4 requests, not ${examples.length}`);
  const calibratedOn = Math.max(2, Math.round(examples.length * CALIBRATION_SHARE));
  const fit = examples.slice(0, examples.length - calibratedOn);
  const calibration = examples.slice(examples.length - calibratedOn);
  const coefficients = formulaOnly ? FEATURE_NAMES.map(() => 0) : fitCoefficients(fit);
  const misses = calibration.map((e) => ({ group: groupOf(e), miss: miss({ coefficients }, e) }));
  const halfWidths: Record<string, number> = {
    all:
      halfWidth(
        misses.map((m) => m.miss),
        coverage,
      ) ?? OUTLIER_MISS,
  };
  for (const group of ['builtin', 'notebook']) {
    const inGroup = misses.filter((m) => m.group === group).map((m) => m.miss);
    const width = inGroup.length >= 2 ? halfWidth(inGroup, coverage) : null;
    if (width !== null) halfWidths[group] = width;
  }
  return {
    kind: MODEL_KIND,
    featureNames: FEATURE_NAMES,
    coefficients,
    halfWidths,
    coverage,
    trainedOn: fit.length,
    calibratedOn,
  };
}

export function predict(model: CreditModel, e: Example): Prediction {
  const ratio = predictRatio(model, e);
  const cost = e.features.costCents;
  const width = model.halfWidths[groupOf(e)] ?? model.halfWidths.all ?? OUTLIER_MISS;
  return {
    amountCents: Math.round(ratio * cost),
    lowCents: Math.max(0, Math.floor((ratio - width) * cost)),
    highCents: Math.ceil((ratio + width) * cost),
    ratio,
  };
}

/** A stored model's parameters, read back; null when they are not of this kind (an older model). */
export function modelFrom(parameters: unknown): CreditModel | null {
  const model = parameters as Partial<CreditModel> | null;
  if (!model || model.kind !== MODEL_KIND || !Array.isArray(model.coefficients)) return null;
  if (model.coefficients.length !== FEATURE_NAMES.length || typeof model.halfWidths !== 'object') return null;
  return model as CreditModel;
}
