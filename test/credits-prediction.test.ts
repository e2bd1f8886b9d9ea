// CreditBot's second opinion on SYNTHETIC history (src/apps/credits/prediction/synthetic.ts): the
// generator is deterministic, features come from the stored summary, and a model trained on the
// older requests flags every planted anomaly in the newer ones while leaving ordinary requests
// alone. The thresholds: the interval aims to hold 99.5% of ordinary requests (COVERAGE), a ratio more than
// 10 points outside the account's own history is flagged (HISTORY_RATIO_MARGIN). Over generated
// histories no planted anomaly may be missed, and at most 3% of ordinary requests may be flagged
// by a model trained on 320 requests (its notebook calibration group is about 50 requests, whose
// split-conformal level is n/(n+1), about 98%); at most 2% in cross-validation over 1,200.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtinCredit } from '../src/apps/credits/calculators/builtin.ts';
import { evaluateModel } from '../src/apps/credits/prediction/evaluate.ts';
import { featuresOf, withHistory } from '../src/apps/credits/prediction/features.ts';
import { flagOf, HISTORY_RATIO_MARGIN } from '../src/apps/credits/prediction/flags.ts';
import { COVERAGE, fitModel, predict } from '../src/apps/credits/prediction/model.ts';
import { DEFAULT_BLOCK_RATES, syntheticHistory } from '../src/apps/credits/prediction/synthetic.ts';

const examplesOf = (history: ReturnType<typeof syntheticHistory>) =>
  withHistory(
    history.map((request) => {
      const read = featuresOf(request.summary, request.text);
      if (!('features' in read)) throw new Error(read.missing);
      return { features: read.features, anomaly: request.anomaly };
    }),
  );

/** Trains on the older 40% (before the first planted anomaly) and checks each later request. */
function replay(seed: number, count: number) {
  const examples = examplesOf(syntheticHistory({ seed, count }));
  const cut = Math.floor(count * 0.4);
  const model = fitModel(examples.slice(0, cut));
  const later = examples.slice(cut).map((example) => ({
    example,
    flag: flagOf(example, predict(model, example)),
  }));
  const anomalies = later.filter((r) => r.example.anomaly);
  const ordinary = later.filter((r) => !r.example.anomaly);
  return { model, anomalies, ordinary, falseFlags: ordinary.filter((r) => r.flag) };
}

describe('synthetic history', () => {
  it('is the same for the same seed, and another for another seed', () => {
    const a = syntheticHistory({ seed: 5, count: 120 });
    expect(syntheticHistory({ seed: 5, count: 120 })).toEqual(a);
    expect(syntheticHistory({ seed: 6, count: 120 })).not.toEqual(a);
    expect(a.map((r) => r.createdAt.getTime())).toEqual(
      [...a].map((r) => r.createdAt.getTime()).sort((x, y) => x - y),
    );
  });

  it('plants the anomalies it says, and says so in every text', () => {
    const history = syntheticHistory({ seed: 1, count: 600 });
    const planted = history.filter((r) => r.anomaly).map((r) => r.anomaly);
    expect(planted.length).toBe(6);
    expect(new Set(planted)).toEqual(new Set(['inflated_credit', 'ignored_block_rate', 'pumped_account']));
    expect(history.every((r) => r.text.startsWith('SYNTHETIC'))).toBe(true);
  });

  it('computes ordinary builtin credits exactly as the builtin calculator does', () => {
    const builtin = syntheticHistory({ seed: 3, count: 200 }).filter(
      (r) => !r.anomaly && r.summary.calculator === 'builtin',
    );
    expect(builtin.length).toBeGreaterThan(50);
    for (const { summary } of builtin) {
      const rows = summary.table.map((row) => ({
        fraud_guard_mode: row.mode,
        msg_count: row.msg_count,
        fraud_cost: (row.fraud_cost / 100).toFixed(2),
      }));
      expect(builtinCredit(rows, DEFAULT_BLOCK_RATES).creditCents).toBe(summary.amountCents);
    }
  });
});

describe('features from the stored summary', () => {
  it('reads per-mode messages, cost, block rate and traffic share, the account, and the ratios', () => {
    const [request] = syntheticHistory({ seed: 9, count: 1 });
    const read = featuresOf(request?.summary as never, request?.text ?? '');
    if (!('features' in read)) throw new Error(read.missing);
    const { features } = read;
    const table = request?.summary.table ?? [];
    expect(features.costCents).toBe(table.reduce((s, r) => s + r.fraud_cost, 0));
    expect(features.messages).toBe(table.reduce((s, r) => s + r.msg_count, 0));
    expect(features.creditCents).toBe(request?.summary.amountCents);
    expect(features.account).toBe(request?.account);
    for (const row of table) {
      expect(features.modes[row.mode]).toMatchObject({
        messages: row.msg_count,
        costCents: row.fraud_cost,
        blockRate: Number(row.block_rate),
      });
    }
    expect(features.ratio).toBeCloseTo(features.creditCents / features.costCents, 12);
  });

  it('says why there are none when the summary has no per-mode table', () => {
    const [request] = syntheticHistory({ seed: 9, count: 1 });
    const summary = { ...(request?.summary as never as object), table: [] };
    expect(featuresOf(summary as never, '')).toEqual({
      missing: 'the summary has no per-mode table (fraud cost by Fraud Guard mode)',
    });
  });

  it("gives each request the account's earlier requests only", () => {
    const examples = examplesOf(syntheticHistory({ seed: 2, count: 300 }));
    const seen = new Map<string, number[]>();
    for (const { features, history } of examples) {
      const earlier = seen.get(features.account ?? '') ?? [];
      expect(history.count).toBe(earlier.length);
      if (earlier.length) expect(history.minRatio).toBe(Math.min(...earlier));
      seen.set(features.account ?? '', [...earlier, features.ratio]);
    }
  });
});

describe('the model and its flags', () => {
  it('flags every planted anomaly and at most 3% of ordinary requests, over generated histories', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const { anomalies, ordinary, falseFlags } = replay(seed, 800);
        expect(anomalies.length).toBeGreaterThanOrEqual(3);
        for (const { example, flag } of anomalies)
          expect(flag, `${example.anomaly} (seed ${seed})`).not.toBeNull();
        expect(falseFlags.length / ordinary.length).toBeLessThanOrEqual(0.03);
      }),
      { numRuns: 12 },
    );
  });

  it('says why in plain words: the computed amount and what requests like it were', () => {
    const { anomalies } = replay(20, 800);
    const inflated = anomalies.find((r) => r.example.anomaly === 'inflated_credit');
    expect(inflated?.flag?.kinds).toContain('outside_interval');
    expect(inflated?.flag?.reason).toMatch(
      /^computed \$[\d,]+\.\d\d; requests like this were \$[\d,]+\.\d\d-\$[\d,]+\.\d\d/,
    );
    const pumped = anomalies.find((r) => r.example.anomaly === 'pumped_account');
    expect(pumped?.flag?.kinds).toEqual(['ratio_history']);
    expect(pumped?.flag?.reason).toMatch(
      /^the credit is \d+\.\d% of the fraud cost \(\$[\d,.]+\); this account's \d+ earlier requests were \d+\.\d%-\d+\.\d%$/,
    );
    expect(HISTORY_RATIO_MARGIN).toBe(0.1);
  });

  it('never moves the computed amount: the prediction is beside it', () => {
    const examples = examplesOf(syntheticHistory({ seed: 4, count: 200 }));
    const model = fitModel(examples.slice(0, 100));
    for (const example of examples.slice(100)) {
      const before = structuredClone(example);
      predict(model, example);
      flagOf(example, predict(model, example));
      expect(example).toEqual(before);
    }
  });

  it('holds about COVERAGE of ordinary requests in time-ordered cross-validation', () => {
    const examples = examplesOf(syntheticHistory({ seed: 11, count: 1200, anomalies: 0 }));
    const { overall, folds } = evaluateModel(examples);
    expect(folds).toHaveLength(5);
    expect(folds.every((f, i) => i === 0 || f.trainedOn > (folds[i - 1]?.trainedOn ?? 0))).toBe(true);
    expect(overall.tested).toBe(1200 - 200);
    expect(overall.coverage).toBeGreaterThanOrEqual(COVERAGE - 0.02);
    expect(overall.flagged / overall.tested).toBeLessThanOrEqual(0.02);
  });
});
