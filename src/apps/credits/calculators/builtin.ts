// The built-in credit calculator, in integer arithmetic end to end so the Python sample notebook
// (notebooks/credit-recommendation.ipynb) gives the same cents. The formula, per Fraud Guard mode m
// over the query rows (columns fraud_guard_mode or mode, msg_count, fraud_cost in US dollars; a
// Looker `view.` prefix is ignored):
//
//   msg_count(m)    = sum of msg_count
//   fraud_micros(m) = sum of fraud_cost, exactly, in micro-dollars (more than 6 decimals is refused)
//   fraud_cost(m)   = round(fraud_micros(m) / 10^4)                       cents
//   block_rate(m)   = the expected block rate of mode m (CREDITS_BLOCK_RATES), in basis points b
//   credit(m)       = round(fraud_micros(m) * (10^4 - b) / 10^8)          cents
//   traffic_prop(m) = msg_count(m) / total msg_count, shown with 3 decimals
//   credit          = sum of credit(m)
//
// The credit is the share of the fraud cost that Fraud Guard at the customer's mode would not have
// been expected to block. `round` is the one rounding rule: half up (a half cent goes up), applied
// once per mode to the exact value, never to an intermediate.
import { CreditError } from '../credit-error.ts';
import type { QueryRow } from '../query-source.ts';

export interface SummaryRow {
  mode: string;
  traffic_prop: string;
  msg_count: number;
  /** Cents. */
  fraud_cost: number;
  block_rate: string;
  /** Cents. */
  credit: number;
}

export interface CreditResult {
  creditCents: number;
  table: SummaryRow[];
}

/** Half-up division of non-negative integers: floor((2n + d) / 2d). */
export const roundHalfUp = (numerator: bigint, denominator: bigint): bigint =>
  (2n * numerator + denominator) / (2n * denominator);

/**
 * An exact decimal (a string such as "12.3456", or a JSON number read as its shortest decimal
 * form, as Python's repr gives it) in micro-units.
 */
export function toMicros(value: unknown, what: string): bigint {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[2] === '' && !match[3]))
    throw new CreditError('bad_rows', `${what} is not a decimal number: ${JSON.stringify(value)}`);
  const digits = `${match[2]}${match[3] ?? ''}`;
  const scale = (match[3]?.length ?? 0) - Number(match[4] ?? 0) - 6;
  let micros = BigInt(digits || '0');
  if (scale > 0) {
    const divisor = 10n ** BigInt(scale);
    if (micros % divisor !== 0n)
      throw new CreditError('bad_rows', `${what} has more than 6 decimals: ${text}`);
    micros /= divisor;
  } else if (scale < 0) {
    micros *= 10n ** BigInt(-scale);
  }
  if (match[1] === '-' && micros !== 0n) throw new CreditError('bad_rows', `${what} is negative: ${text}`);
  return micros;
}

const column = (row: QueryRow, names: string[]): unknown => {
  for (const [key, value] of Object.entries(row)) {
    const bare = key.toLowerCase().split('.').at(-1) ?? '';
    if (names.includes(bare)) return value;
  }
  return undefined;
};

/** Basis points as a decimal string: 4160 -> "0.416". */
export const basisPointsText = (bp: number) =>
  `${Math.floor(bp / 10000)}.${String(bp % 10000).padStart(4, '0')}`.replace(/0+$/, '').replace(/\.$/, '');

export function builtinCredit(rows: QueryRow[], blockRates: Record<string, number>): CreditResult {
  if (rows.length === 0) throw new CreditError('bad_rows', 'the query returned no rows');
  const modes = new Map<string, { msgs: bigint; micros: bigint }>();
  rows.forEach((row, index) => {
    const what = `row ${index + 1}`;
    const modeValue = column(row, ['fraud_guard_mode', 'mode']);
    if (typeof modeValue !== 'string' || !modeValue.trim())
      throw new CreditError('bad_rows', `${what} has no fraud_guard_mode`);
    const mode = modeValue.trim().toLowerCase();
    const msgs = toMicros(column(row, ['msg_count', 'message_count']), `${what} msg_count`);
    if (msgs % 1_000_000n !== 0n)
      throw new CreditError('bad_rows', `${what} msg_count is not a whole number`);
    const micros = toMicros(column(row, ['fraud_cost']), `${what} fraud_cost`);
    const entry = modes.get(mode) ?? { msgs: 0n, micros: 0n };
    entry.msgs += msgs / 1_000_000n;
    entry.micros += micros;
    modes.set(mode, entry);
  });
  const totalMsgs = [...modes.values()].reduce((sum, m) => sum + m.msgs, 0n);
  const table: SummaryRow[] = [];
  let creditCents = 0n;
  for (const [mode, { msgs, micros }] of [...modes].sort(([a], [b]) => a.localeCompare(b))) {
    const bp = blockRates[mode];
    if (bp === undefined)
      throw new CreditError(
        'bad_rows',
        `no expected block rate for Fraud Guard mode "${mode}" (CREDITS_BLOCK_RATES)`,
      );
    const credit = roundHalfUp(micros * BigInt(10000 - bp), 100_000_000n);
    creditCents += credit;
    const prop = totalMsgs === 0n ? 0n : roundHalfUp(msgs * 1000n, totalMsgs);
    table.push({
      mode,
      traffic_prop: `${prop / 1000n}.${String(prop % 1000n).padStart(3, '0')}`,
      msg_count: Number(msgs),
      fraud_cost: Number(roundHalfUp(micros, 10_000n)),
      block_rate: basisPointsText(bp),
      credit: Number(credit),
    });
  }
  return { creditCents: Number(creditCents), table };
}
