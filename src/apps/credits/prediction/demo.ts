// `switchboard credits model demo`: the second opinion on SYNTHETIC history, in memory (nothing is
// stored or sent). A model trained on the older 40% of the history (before any planted anomaly)
// checks each newer request in turn, as the service would; the report gives the time-ordered
// cross-validation, precision and recall on the planted anomalies, and a few flags in plain words.
import { formatMoney } from '../../../platform/money.ts';
import { type Evaluation, evaluateModel } from './evaluate.ts';
import { featuresOf, withHistory } from './features.ts';
import { type Flag, flagOf } from './flags.ts';
import { type CreditModel, fitModel, type Prediction, predict } from './model.ts';
import { type AnomalyKind, type SyntheticRequest, syntheticHistory } from './synthetic.ts';

export interface Replay {
  model: CreditModel;
  evaluation: Evaluation;
  checked: Array<{ request: SyntheticRequest; prediction: Prediction; flag: Flag | null }>;
  /** Planted anomalies flagged, planted ones missed, ordinary requests flagged, ordinary not. */
  counts: { caught: number; missed: number; falseFlags: number; ordinary: number };
  precision: number;
  recall: number;
}

export function replayHistory(history: SyntheticRequest[], trainShare = 0.4): Replay {
  const examples = withHistory(
    history.map((request) => {
      const read = featuresOf(request.summary, request.text);
      if (!('features' in read)) throw new Error(read.missing);
      return { features: read.features, request };
    }),
  );
  const cut = Math.max(4, Math.floor(examples.length * trainShare));
  const model = fitModel(examples.slice(0, cut));
  const checked = examples.slice(cut).map((example) => {
    const prediction = predict(model, example);
    return { request: example.request, prediction, flag: flagOf(example, prediction) };
  });
  const caught = checked.filter((c) => c.request.anomaly && c.flag).length;
  const missed = checked.filter((c) => c.request.anomaly && !c.flag).length;
  const falseFlags = checked.filter((c) => !c.request.anomaly && c.flag).length;
  const ordinary = checked.filter((c) => !c.request.anomaly && !c.flag).length;
  return {
    model,
    evaluation: evaluateModel(examples),
    checked,
    counts: { caught, missed, falseFlags, ordinary },
    precision: caught + falseFlags ? caught / (caught + falseFlags) : 1,
    recall: caught + missed ? caught / (caught + missed) : 1,
  };
}

export const evaluationLines = (evaluation: Evaluation): string[] => [
  'fold  trained on  tested  MAE           coverage  flagged',
  ...evaluation.folds.map(
    (f) =>
      `${String(f.fold).padEnd(6)}${String(f.trainedOn).padEnd(12)}${String(f.tested).padEnd(8)}${formatMoney(f.maeCents, 'USD').padEnd(14)}${`${(f.coverage * 100).toFixed(1)}%`.padEnd(10)}${f.flagged}`,
  ),
  `all   ${''.padEnd(12)}${String(evaluation.overall.tested).padEnd(8)}${formatMoney(evaluation.overall.maeCents, 'USD').padEnd(14)}${`${(evaluation.overall.coverage * 100).toFixed(1)}%`.padEnd(10)}${evaluation.overall.flagged}`,
];

export function demoReport(options: { count: number; seed: number }): string[] {
  const history = syntheticHistory(options);
  const replay = replayHistory(history);
  const { counts } = replay;
  const planted = new Map<AnomalyKind, number>();
  for (const r of history) if (r.anomaly) planted.set(r.anomaly, (planted.get(r.anomaly) ?? 0) + 1);
  const examples = replay.checked.filter((c) => c.flag).slice(0, 6);
  return [
    `SYNTHETIC history: ${history.length} generated credit requests (seed ${options.seed}), nothing real.`,
    `Planted anomalies: ${[...planted].map(([kind, n]) => `${n} ${kind}`).join(', ')}.`,
    '',
    'Time-ordered cross-validation (5 folds, each trained only on the requests before it):',
    ...evaluationLines(replay.evaluation),
    '',
    `Checking the newer ${replay.checked.length} requests with a model trained on the older ${history.length - replay.checked.length}:`,
    `  planted anomalies flagged ${counts.caught} of ${counts.caught + counts.missed} (recall ${(replay.recall * 100).toFixed(0)}%)`,
    `  ordinary requests flagged ${counts.falseFlags} of ${counts.falseFlags + counts.ordinary} (precision ${(replay.precision * 100).toFixed(0)}%)`,
    '',
    'Some flags, as the operator reads them:',
    ...examples.map(
      (c) =>
        `  ${c.request.createdAt.toISOString().slice(0, 10)} ${c.request.anomaly ?? 'ordinary'}: ${c.flag?.reason}`,
    ),
  ];
}
