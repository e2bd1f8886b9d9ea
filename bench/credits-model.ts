// CreditBot's second opinion at size, on SYNTHETIC history (src/apps/credits/prediction/synthetic.ts):
// training time and memory for 10,000 past requests, prediction latency per request (in memory, and
// the whole check against a database holding that history: the account's history and the newest
// model read per request), and precision and recall on the planted anomalies with the MAE. Each
// figure beside a baseline measured in the same run: the block-rate formula alone (no regression,
// the same intervals) for the model, and a `select 1` round trip for the database check.
//
//   node bench/credits-model.ts [--requests 10000] [--checks 500] [--db pglite|postgres]
import { parseArgs } from 'node:util';
import { checkCredit } from '../src/apps/credits/prediction/check.ts';
import { replayHistory } from '../src/apps/credits/prediction/demo.ts';
import { evaluateModel } from '../src/apps/credits/prediction/evaluate.ts';
import { featuresOf, withHistory } from '../src/apps/credits/prediction/features.ts';
import { flagOf } from '../src/apps/credits/prediction/flags.ts';
import { fitModel, predict } from '../src/apps/credits/prediction/model.ts';
import { insertAnsweredRequests } from '../src/apps/credits/prediction/store.ts';
import { syntheticHistory } from '../src/apps/credits/prediction/synthetic.ts';
import { trainCreditModel } from '../src/apps/credits/prediction/train.ts';
import { formatMoney } from '../src/platform/money.ts';
import { median, positiveIntArg, postgresReachable, round, withScratchDatabase } from './support.ts';

const { values } = parseArgs({
  options: { requests: { type: 'string' }, checks: { type: 'string' }, db: { type: 'string' } },
});
const count = positiveIntArg(values.requests, 10_000, 'requests');
const checks = positiveIntArg(values.checks, 500, 'checks');
const backend = values.db === 'postgres' ? 'postgres' : 'pglite';
if (backend === 'postgres' && !(await postgresReachable())) {
  console.log('PostgreSQL is not reachable (BENCH_DATABASE_URL): skipped');
  process.exit(0);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

function timed<T>(fn: () => T): { value: T; ms: number; heapMiB: number } {
  globalThis.gc?.();
  const heap = process.memoryUsage().heapUsed;
  const started = performance.now();
  const value = fn();
  return {
    value,
    ms: round(performance.now() - started, 1),
    heapMiB: mib(process.memoryUsage().heapUsed - heap),
  };
}

console.log(`SYNTHETIC history: ${count} generated credit requests (seed 20), nothing real.`);
const history = syntheticHistory({ count, seed: 20 });
const features = timed(() =>
  withHistory(
    history.map((request) => {
      const read = featuresOf(request.summary, request.text);
      if (!('features' in read)) throw new Error(read.missing);
      return { features: read.features, anomaly: request.anomaly };
    }),
  ),
);
const examples = features.value;
const model = timed(() => fitModel(examples));
const baseline = timed(() => fitModel(examples, undefined, true));
const cv = timed(() => evaluateModel(examples));
console.log(
  '\nTraining on',
  count,
  'requests (heap growth while it ran; GC first when run with --expose-gc):',
);
console.log(`  features + history   ${features.ms} ms, ${features.heapMiB} MiB`);
console.log(
  `  model fit            ${model.ms} ms, ${model.heapMiB} MiB   (baseline, formula only: ${baseline.ms} ms, ${baseline.heapMiB} MiB)`,
);
console.log(`  5-fold time-ordered CV ${cv.ms} ms`);
console.log(`  process RSS          ${mib(process.memoryUsage().rss)} MiB`);

// Per request, in memory: predict and flag.
const sample = examples.slice(-Math.min(2000, examples.length));
const latencies = (m: typeof model.value) => {
  const times: number[] = [];
  for (const example of sample) {
    const started = performance.now();
    flagOf(example, predict(m, example));
    times.push((performance.now() - started) * 1000);
  }
  return times.sort((a, b) => a - b);
};
latencies(model.value);
const inModel = latencies(model.value);
const inBaseline = latencies(baseline.value);
console.log('\nPrediction + flag per request, in memory (microseconds):');
console.log(`  model     p50 ${round(median(inModel), 2)}  p99 ${round(percentile(inModel, 0.99), 2)}`);
console.log(`  baseline  p50 ${round(median(inBaseline), 2)}  p99 ${round(percentile(inBaseline, 0.99), 2)}`);

// Quality: trained on the older 40%, checking the newer 60% one by one.
const replayed = replayHistory(history);
const formulaReplay = (() => {
  const cut = Math.floor(examples.length * 0.4);
  const formula = fitModel(examples.slice(0, cut), undefined, true);
  let caught = 0;
  let missed = 0;
  let falseFlags = 0;
  let absolute = 0;
  let width = 0;
  for (const example of examples.slice(cut)) {
    const prediction = predict(formula, example);
    width += (prediction.highCents - prediction.lowCents) / example.features.costCents;
    absolute += Math.abs(prediction.amountCents - example.features.creditCents);
    const flagged = Boolean(flagOf(example, prediction));
    if (example.anomaly) flagged ? caught++ : missed++;
    else if (flagged) falseFlags++;
  }
  const n = examples.length - cut;
  return { caught, missed, falseFlags, mae: Math.round(absolute / n), width: width / n };
})();
const modelMae = Math.round(
  replayed.checked.reduce(
    (sum, c) => sum + Math.abs(c.prediction.amountCents - c.request.summary.amountCents),
    0,
  ) / replayed.checked.length,
);
const { counts } = replayed;
const modelWidth =
  replayed.checked.reduce(
    (sum, c) =>
      sum +
      (c.prediction.highCents - c.prediction.lowCents) /
        c.request.summary.table.reduce((total, row) => total + row.fraud_cost, 0),
    0,
  ) / replayed.checked.length;
console.log(
  `\nPlanted anomalies, model trained on the older 40% checking the newer ${replayed.checked.length}:`,
);
console.log(
  `  model     precision ${round(replayed.precision * 100, 1)}%  recall ${round(replayed.recall * 100, 1)}%  (${counts.caught} caught, ${counts.missed} missed, ${counts.falseFlags} ordinary flagged)  MAE ${formatMoney(modelMae, 'USD')}  mean interval ${round(modelWidth * 100, 1)}% of the fraud cost`,
);
const fp = formulaReplay;
console.log(
  `  baseline  precision ${round((fp.caught / Math.max(1, fp.caught + fp.falseFlags)) * 100, 1)}%  recall ${round((fp.caught / Math.max(1, fp.caught + fp.missed)) * 100, 1)}%  (${fp.caught} caught, ${fp.missed} missed, ${fp.falseFlags} ordinary flagged)  MAE ${formatMoney(fp.mae, 'USD')}  mean interval ${round(fp.width * 100, 1)}% of the fraud cost`,
);
console.log(
  `  cross-validation: MAE ${formatMoney(cv.value.overall.maeCents, 'USD')}, coverage ${round(cv.value.overall.coverage * 100, 1)}%, ${cv.value.overall.flagged} of ${cv.value.overall.tested} flagged`,
);

// The whole check, as the service runs it, against a database holding the history.
await withScratchDatabase(
  backend,
  async (db) => {
    const loadStarted = performance.now();
    await insertAnsweredRequests(db.orm, history);
    const settings = {
      minRequests: 30,
      retrainCron: null,
      holdOutliers: false,
      approvers: [],
      approveReaction: 'x',
    };
    const trainStarted = performance.now();
    const result = await trainCreditModel(db, settings, 'cli');
    const trainMs = round(performance.now() - trainStarted);
    console.log(
      `\nIn ${backend}: ${count} requests stored in ${round(trainStarted - loadStarted)} ms; \`credits model train\` (features recorded, CV, fit, stored) ${trainMs} ms${result.trained ? `, version ${result.version}` : ''}`,
    );
    const rows = await db.query<{ id: string; created_at: Date; text: string; summary: never }>(
      `select id, created_at, text, summary from credit_requests order by created_at desc limit ${checks}`,
    );
    const checkTimes: number[] = [];
    const pingTimes: number[] = [];
    for (const row of rows) {
      let started = performance.now();
      await checkCredit(
        db.orm,
        settings,
        { id: row.id, createdAt: new Date(row.created_at), text: row.text },
        row.summary,
      );
      checkTimes.push(performance.now() - started);
      started = performance.now();
      await db.query('select 1');
      pingTimes.push(performance.now() - started);
    }
    checkTimes.sort((a, b) => a - b);
    pingTimes.sort((a, b) => a - b);
    console.log(`Check per request (history + model read, predict, flag), ${rows.length} requests (ms):`);
    console.log(
      `  check     p50 ${round(median(checkTimes), 2)}  p99 ${round(percentile(checkTimes, 0.99), 2)}`,
    );
    console.log(
      `  select 1  p50 ${round(median(pingTimes), 2)}  p99 ${round(percentile(pingTimes, 0.99), 2)}  (baseline)`,
    );
  },
  { migrate: true },
);
