// SYNTHETIC credit-request history, for tests, the sandbox, the benchmark and
// `switchboard credits model demo`. Nothing here is real traffic or a real account: the shapes are
// made up to look like SMS toll-fraud credits, and every figure comes from a seeded generator.
//
// - Accounts (AC + 32 hex digits) each have a product (Verify 70%, PSMS 30%), a calculator (Verify:
//   half builtin, half a notebook; PSMS: builtin), a Fraud Guard profile (one mode, or a mix of two
//   whose shares wobble by a few points from request to request) and a typical fraud cost.
// - A request's fraud cost is log-normal around its account's typical cost (sigma 0.6), its message
//   count follows from a cost per message of about $0.05-0.40; busy accounts ask more often.
// - The builtin calculator gives the credit exactly (calculators/builtin.ts with the block rates);
//   the notebook applies its own observed block rates: a steady offset per mode from the expected
//   ones (NOTEBOOK_OFFSETS) and up to 2 points of noise, while its table shows the expected rates.
// - Planted anomalies, each marked with its kind: `inflated_credit` (a notebook's credit ten times
//   what its table says, a unit mix-up), `ignored_block_rate` (the full fraud cost credited in a
//   standard or maximum mode) and `pumped_account` (an account with a steady history suddenly asks
//   for twenty times its usual cost, all of it with Fraud Guard off: computed correctly, unusual).
import { formatMoney } from '../../../platform/money.ts';
import { builtinCredit, type SummaryRow } from '../calculators/builtin.ts';
import type { CreditSummary, LinkOutcome } from '../compute.ts';
import { type Random, seededRandom } from './random.ts';

export type AnomalyKind = 'inflated_credit' | 'ignored_block_rate' | 'pumped_account';
export const ANOMALY_KINDS: AnomalyKind[] = ['inflated_credit', 'ignored_block_rate', 'pumped_account'];

export interface SyntheticRequest {
  createdAt: Date;
  account: string;
  text: string;
  summary: CreditSummary;
  /** Set on a planted anomaly. */
  anomaly: AnomalyKind | null;
}

export interface HistoryOptions {
  seed?: number;
  count?: number;
  /** Planted anomalies (spread over the later 60% of the history); default 1 in 100, at least 3. */
  anomalies?: number;
  /** The first request's time; the history spans `days` from there. */
  start?: Date;
  days?: number;
  /** Basis points per mode (CREDITS_BLOCK_RATES). */
  blockRates?: Record<string, number>;
  host?: string;
}

export const DEFAULT_BLOCK_RATES: Record<string, number> = {
  off: 0,
  basic: 4160,
  standard: 6500,
  maximum: 8500,
};

/** How far the notebook's observed block rates sit from the expected ones, in basis points. */
export const NOTEBOOK_OFFSETS: Record<string, number> = { off: 0, basic: 300, standard: -500, maximum: 200 };

interface Account {
  sid: string;
  product: 'verify' | 'psms';
  calculator: 'builtin' | 'notebook';
  /** Fraud Guard modes and their usual share of the traffic. */
  modes: Array<[string, number]>;
  /** ln of the typical fraud cost in dollars. */
  mu: number;
  costPerMessage: number;
  weight: number;
  requests: number;
  /** An anomaly was planted on it: the next one goes to another account, so each stands out. */
  planted: boolean;
}

const PROFILES: Array<[number, Array<[string, number]>]> = [
  [0.35, [['basic', 1]]],
  [0.2, [['standard', 1]]],
  [0.1, [['maximum', 1]]],
  [0.15, [['off', 1]]],
  [
    0.1,
    [
      ['basic', 0.7],
      ['off', 0.3],
    ],
  ],
  [
    0.1,
    [
      ['standard', 0.6],
      ['maximum', 0.4],
    ],
  ],
];

const hex = (random: Random, digits: number) =>
  Array.from({ length: digits }, () => random.int(0, 15).toString(16)).join('');

function makeAccount(random: Random): Account {
  let roll = random.next();
  let modes = PROFILES[0]?.[1] ?? [];
  for (const [p, profile] of PROFILES) {
    if (roll < p) {
      modes = profile;
      break;
    }
    roll -= p;
  }
  const product = random.next() < 0.7 ? 'verify' : 'psms';
  return {
    sid: `AC${hex(random, 32)}`,
    product,
    calculator: product === 'verify' && random.next() < 0.5 ? 'notebook' : 'builtin',
    modes,
    mu: Math.log(3000) + random.normal(),
    costPerMessage: 0.05 + random.next() * 0.35,
    // A few busy accounts and many occasional ones.
    weight: 1 / (1 + random.int(0, 9)),
    requests: 0,
    planted: false,
  };
}

const dollars = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** The summary a request like this would store (one Look, one query, its per-mode table). */
function summaryFor(
  random: Random,
  account: Account,
  modes: Array<[string, number]>,
  costCents: number,
  blockRates: Record<string, number>,
  anomaly: AnomalyKind | null,
  n: number,
  host: string,
  createdAt: Date,
): CreditSummary {
  const rows = modes.map(([mode, share]) => {
    const cents = Math.max(1, Math.round(costCents * share));
    return {
      fraud_guard_mode: mode,
      msg_count: Math.max(1, Math.round(cents / 100 / account.costPerMessage)),
      fraud_cost: dollars(cents),
    };
  });
  const { table: exact } = builtinCredit(rows, blockRates);
  const table: SummaryRow[] = exact.map((row) => {
    let credit = row.credit;
    if (account.calculator === 'notebook') {
      const bp = blockRates[row.mode] ?? 0;
      const offset = NOTEBOOK_OFFSETS[row.mode] ?? 0;
      const observed = Math.min(10000, Math.max(0, bp + offset + Math.round((random.next() * 2 - 1) * 200)));
      credit = Math.round((row.fraud_cost * (10000 - observed)) / 10000);
    }
    if (anomaly === 'ignored_block_rate') credit = row.fraud_cost;
    return { ...row, credit };
  });
  let amountCents = table.reduce((sum, row) => sum + row.credit, 0);
  if (anomaly === 'inflated_credit') amountCents *= 10;
  const lookId = String(1000 + n);
  const link: LinkOutcome = {
    url: `https://${host}/looks/${lookId}`,
    link: `Look ${lookId}`,
    status: 'credited',
    queryId: String(50_000 + n),
    sqlHash: hex(random, 64),
    product: account.product,
    calculator: account.calculator,
    accounts: [account.sid],
    creditCents: amountCents,
    table,
    durationMs: random.int(200, 4000),
  };
  return {
    extractedAt: createdAt.toISOString(),
    links: [link],
    product: account.product,
    calculator: account.calculator,
    table,
    amountCents,
    amount: formatMoney(amountCents, 'USD'),
    credited: 1,
    skipped: 0,
    durationMs: link.durationMs,
  };
}

/** `count` requests in time order, deterministic for a seed. */
export function syntheticHistory(options: HistoryOptions = {}): SyntheticRequest[] {
  const count = options.count ?? 200;
  const random = seededRandom(options.seed ?? 20);
  const blockRates = options.blockRates ?? DEFAULT_BLOCK_RATES;
  const host = options.host ?? 'looker.sandbox.localhost';
  const start = (options.start ?? new Date('2026-01-05T09:00:00Z')).getTime();
  const span = (options.days ?? 180) * 86_400_000;
  const accounts = Array.from({ length: Math.max(5, Math.round(count / 12)) }, () => makeAccount(random));
  const totalWeight = accounts.reduce((sum, a) => sum + a.weight, 0);
  const pickAccount = () => {
    let roll = random.next() * totalWeight;
    for (const account of accounts) {
      roll -= account.weight;
      if (roll <= 0) return account;
    }
    return accounts.at(-1) as Account;
  };

  const planted = Math.min(count, options.anomalies ?? Math.max(3, Math.round(count / 100)));
  const firstPlanted = Math.floor(count * 0.4);
  const plantedAt = new Map<number, AnomalyKind>();
  for (let k = 0; k < planted; k++) {
    const index = firstPlanted + Math.floor(((k + 0.5) * (count - firstPlanted)) / planted);
    plantedAt.set(index, ANOMALY_KINDS[k % ANOMALY_KINDS.length] as AnomalyKind);
  }

  const history: SyntheticRequest[] = [];
  for (let i = 0; i < count; i++) {
    const createdAt = new Date(start + Math.floor((i + random.next() * 0.9) * (span / count)));
    let anomaly = plantedAt.get(i) ?? null;
    let account = pickAccount();
    if (anomaly === 'ignored_block_rate' || anomaly === 'inflated_credit') {
      const fits = accounts.filter((a) =>
        a.planted
          ? false
          : anomaly === 'inflated_credit'
            ? a.calculator === 'notebook'
            : a.modes.some(([mode]) => mode === 'standard' || mode === 'maximum'),
      );
      account = fits.length ? random.pick(fits) : account;
    } else if (anomaly === 'pumped_account') {
      const steady = accounts.filter(
        (a) => !a.planted && a.requests >= 4 && a.modes.every(([mode]) => mode !== 'off'),
      );
      if (steady.length) account = random.pick(steady);
      else anomaly = 'inflated_credit';
    }
    const wobble = (share: number) => Math.max(0.01, share + (random.next() * 2 - 1) * 0.05);
    let modes: Array<[string, number]> =
      account.modes.length > 1 ? account.modes.map(([mode, share]) => [mode, wobble(share)]) : account.modes;
    const sum = modes.reduce((total, [, share]) => total + share, 0);
    modes = modes.map(([mode, share]) => [mode, share / sum]);
    let costCents = Math.max(500, Math.round(Math.exp(account.mu + 0.6 * random.normal()) * 100));
    if (anomaly === 'pumped_account') {
      modes = [['off', 1]];
      costCents *= 20;
    }
    const summary = summaryFor(random, account, modes, costCents, blockRates, anomaly, i, host, createdAt);
    account.requests += 1;
    if (anomaly) account.planted = true;
    history.push({
      createdAt,
      account: account.sid,
      text: `SYNTHETIC credit request for ${account.sid}: ${summary.links[0]?.url}`,
      summary,
      anomaly,
    });
  }
  return history;
}
