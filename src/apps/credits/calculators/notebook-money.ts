// Amounts as notebooks print them ("$4,822.35", "4822.35", 4822.349999999999 from a float column,
// "(100.00)", "-$100.00") in integer cents. A float is accepted when it is whole cents after
// rounding within CENT_TOLERANCE, which is far above a float's error on any credit (a double holds
// ~15 significant digits: 1e-4 cent is exact up to $10^9) and far below a real fraction of a cent.
import { CreditError } from '../credit-error.ts';

/** How far from whole cents a value may be and still be read as whole cents (in cents). */
export const CENT_TOLERANCE = 1e-4;

const unreadable = (what: string, value: unknown, why: string) =>
  new CreditError('notebook_summary', `${what} ${why}: ${JSON.stringify(value)}`);

/** Cents from dollars (a JSON number or a printed amount); negative and fractional cents refused. */
export function dollarsToCents(value: unknown, what: string): number {
  return toCents(value, what, 100);
}

/** Cents from a value that is already cents (`credit_cents`). */
export function centsValue(value: unknown, what: string): number {
  return toCents(value, what, 1);
}

function toCents(value: unknown, what: string, perUnit: 1 | 100): number {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw unreadable(what, value, 'is not a number');
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    throw unreadable(what, value, 'is not an amount');
  }
  let negative = false;
  // Accounting negatives "(100.00)", a leading minus (ASCII or U+2212) before or after the $.
  const parenthesised = /^\((.*)\)$/.exec(text);
  if (parenthesised) {
    negative = true;
    text = parenthesised[1] as string;
  }
  text = text.replace(/^(usd|us\$)\s*/i, '').replace(/\s*usd$/i, '');
  const sign = /^[-\u2212]\s*\$?|^\$\s*[-\u2212]/.exec(text);
  if (sign) {
    negative = true;
    text = text.slice(sign[0].length);
  }
  text = text.replace(/^\$\s*/, '').replace(/,(?=\d{3}(\D|$))/g, '');
  const match = /^(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text) ?? /^()\.(\d+)$/.exec(text);
  if (!match) throw unreadable(what, value, 'is not an amount');
  if (negative && /[1-9]/.test(text)) throw unreadable(what, value, 'is negative');
  // The exact decimal as digits and a power of ten: value = digits * 10^exponent.
  const fraction = match[2] ?? '';
  const digits = BigInt(`${match[1] || '0'}${fraction}` || '0');
  const exponent = Number(match[3] ?? 0) - fraction.length + (perUnit === 100 ? 2 : 0);
  let cents: bigint;
  if (exponent >= 0) {
    cents = digits * 10n ** BigInt(exponent);
  } else {
    const divisor = 10n ** BigInt(-exponent);
    const whole = digits / divisor;
    const rest = Number(digits % divisor) / Number(divisor);
    if (rest <= CENT_TOLERANCE) cents = whole;
    else if (rest >= 1 - CENT_TOLERANCE) cents = whole + 1n;
    else throw unreadable(what, value, 'is not a whole number of cents');
  }
  if (cents > BigInt(Number.MAX_SAFE_INTEGER)) throw unreadable(what, value, 'is too large');
  return Number(cents);
}
