// What a check knows of one answered request, read from its stored summary: per Fraud Guard mode
// the message count, fraud cost, block rate and traffic share (the summary table, in cents), the
// product, the calculator and the credit; the account it is for (the SIDs its queries' SQL named,
// else those in the message). History (the account's earlier requests) is added by the caller,
// which knows the order of requests.
import { accountSids, type CreditSummary } from '../compute.ts';

export const KNOWN_MODES = ['off', 'basic', 'standard', 'maximum'] as const;

export interface ModeFeatures {
  messages: number;
  costCents: number;
  /** 0 to 1. */
  blockRate: number;
  trafficShare: number;
}

export interface RequestFeatures {
  costCents: number;
  creditCents: number;
  messages: number;
  product: string;
  calculator: string;
  modes: Record<string, ModeFeatures>;
  /** Credit over fraud cost. */
  ratio: number;
  /** What the block rates alone say: the cost share of each mode times (1 - its block rate). */
  expectedRatio: number;
  /** The account SID(s), sorted and joined; null when neither SQL nor message names one. */
  account: string | null;
}

/** The account's earlier answered requests: how many, and their credit-to-cost ratios. */
export interface HistoryFeatures {
  count: number;
  /** null when there are none. */
  meanRatio: number | null;
  minRatio: number | null;
  maxRatio: number | null;
}

export const NO_HISTORY: HistoryFeatures = { count: 0, meanRatio: null, minRatio: null, maxRatio: null };

/** The history of earlier ratios, as the check reads it. */
export function historyOf(ratios: number[]): HistoryFeatures {
  if (ratios.length === 0) return NO_HISTORY;
  return {
    count: ratios.length,
    meanRatio: ratios.reduce((sum, r) => sum + r, 0) / ratios.length,
    minRatio: Math.min(...ratios),
    maxRatio: Math.max(...ratios),
  };
}

const addRatio = (history: HistoryFeatures, ratio: number): HistoryFeatures => ({
  count: history.count + 1,
  meanRatio: ((history.meanRatio ?? 0) * history.count + ratio) / (history.count + 1),
  minRatio: Math.min(history.minRatio ?? ratio, ratio),
  maxRatio: Math.max(history.maxRatio ?? ratio, ratio),
});

/** The features, or why the summary does not give them. */
export function featuresOf(
  summary: CreditSummary,
  text: string,
): { features: RequestFeatures } | { missing: string } {
  if (!Array.isArray(summary.table) || summary.table.length === 0)
    return { missing: 'the summary has no per-mode table (fraud cost by Fraud Guard mode)' };
  const modes: Record<string, ModeFeatures> = {};
  let costCents = 0;
  let messages = 0;
  for (const row of summary.table) {
    const entry = modes[row.mode] ?? { messages: 0, costCents: 0, blockRate: 0, trafficShare: 0 };
    entry.messages += Number(row.msg_count) || 0;
    entry.costCents += Number(row.fraud_cost) || 0;
    entry.blockRate = Number(row.block_rate) || 0;
    modes[row.mode] = entry;
    costCents += Number(row.fraud_cost) || 0;
    messages += Number(row.msg_count) || 0;
  }
  if (costCents <= 0) return { missing: 'the summary shows no fraud cost' };
  let expectedRatio = 0;
  for (const entry of Object.values(modes)) {
    entry.trafficShare = messages > 0 ? entry.messages / messages : 0;
    expectedRatio += (entry.costCents / costCents) * (1 - entry.blockRate);
  }
  const linked = summary.links.flatMap((link) => (link.status === 'credited' ? (link.accounts ?? []) : []));
  const sids = [...new Set(linked.length ? linked : accountSids(text))].sort();
  return {
    features: {
      costCents,
      creditCents: summary.amountCents,
      messages,
      product: summary.product ?? 'none',
      calculator: summary.calculator ?? 'none',
      modes,
      ratio: summary.amountCents / costCents,
      expectedRatio,
      account: sids.length ? sids.join(',') : null,
    },
  };
}

/** Each request's history: the ratios of the same account's requests before it (input in time order). */
export function withHistory<T extends { features: RequestFeatures }>(
  ordered: T[],
): Array<T & { history: HistoryFeatures }> {
  const seen = new Map<string, HistoryFeatures>();
  return ordered.map((item) => {
    const key = item.features.account;
    const history = (key && seen.get(key)) || NO_HISTORY;
    if (key) seen.set(key, addRatio(history, item.features.ratio));
    return { ...item, history };
  });
}
