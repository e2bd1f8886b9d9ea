// Time-ordered cross-validation: how the model would have done on requests it had not seen. The
// history (oldest first) is cut into folds + 1 blocks; fold k trains (fit and calibration, as
// `train` does) on every block before k and is scored on block k, so no fold ever learns from the
// future. Per fold and overall: the mean absolute error of the predicted credit, the share of
// computed credits inside the interval, and how many requests would have been flagged.
import { flagOf } from './flags.ts';
import { COVERAGE, type Example, fitModel, predict } from './model.ts';

export interface FoldResult {
  fold: number;
  trainedOn: number;
  tested: number;
  maeCents: number;
  coverage: number;
  flagged: number;
}

export interface Evaluation {
  requests: number;
  folds: FoldResult[];
  overall: { tested: number; maeCents: number; coverage: number; flagged: number };
}

export function evaluateModel(examples: Example[], folds = 5, coverage = COVERAGE): Evaluation {
  const block = Math.floor(examples.length / (folds + 1));
  const results: FoldResult[] = [];
  let absolute = 0;
  let inside = 0;
  let flagged = 0;
  let tested = 0;
  for (let k = 1; k <= folds && block >= 2; k++) {
    const train = examples.slice(0, k * block);
    const test = examples.slice(k * block, k === folds ? examples.length : (k + 1) * block);
    if (train.length < 4 || test.length === 0) continue;
    const model = fitModel(train, coverage);
    let foldAbsolute = 0;
    let foldInside = 0;
    let foldFlagged = 0;
    for (const example of test) {
      const prediction = predict(model, example);
      const credit = example.features.creditCents;
      foldAbsolute += Math.abs(prediction.amountCents - credit);
      if (credit >= prediction.lowCents && credit <= prediction.highCents) foldInside += 1;
      if (flagOf(example, prediction)) foldFlagged += 1;
    }
    results.push({
      fold: k,
      trainedOn: train.length,
      tested: test.length,
      maeCents: Math.round(foldAbsolute / test.length),
      coverage: foldInside / test.length,
      flagged: foldFlagged,
    });
    absolute += foldAbsolute;
    inside += foldInside;
    flagged += foldFlagged;
    tested += test.length;
  }
  return {
    requests: examples.length,
    folds: results,
    overall: {
      tested,
      maeCents: tested ? Math.round(absolute / tested) : 0,
      coverage: tested ? inside / tested : 0,
      flagged,
    },
  };
}
