// Money is an integer count of the currency's minor units (cents for USD, yen for JPY, fils for
// BHD), never a float. It is formatted once, here, for people to read.

const SUPPORTED = new Set(Intl.supportedValuesOf('currency'));

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && SUPPORTED.has(code);
}

// Building an Intl.NumberFormat costs about a hundred times formatting with one, and a scan formats
// an amount per invoice: one formatter per locale and currency, made on first use.
const formatters = new Map<string, Intl.NumberFormat>();

function formatterFor(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    const digits = minorDigits(currency);
    formatter = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    formatters.set(key, formatter);
  }
  return formatter;
}

const digitsByCurrency = new Map<string, number>();

/** Digits after the decimal point for a currency (ISO 4217): 2 for USD, 0 for JPY, 3 for BHD. */
export function minorDigits(currency: string): number {
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    digits =
      new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions()
        .maximumFractionDigits ?? 2;
    digitsByCurrency.set(currency, digits);
  }
  return digits;
}

/**
 * `formatMoney(494880, 'USD')` is `$4,948.80`. The amount is split into whole and minor units with
 * integer arithmetic (BigInt, so amounts beyond 2^53 stay exact) before Intl formats it.
 */
export function formatMoney(minor: number | bigint, currency: string, locale = 'en-US'): string {
  const digits = minorDigits(currency);
  const amount = BigInt(minor);
  const negative = amount < 0n;
  const absolute = negative ? -amount : amount;
  const scale = 10n ** BigInt(digits);
  const whole = absolute / scale;
  const fraction = (absolute % scale).toString().padStart(digits, '0');
  // Intl takes a decimal string exactly (no float rounding) since ES2023.
  const decimal = `${negative ? '-' : ''}${whole}${digits ? `.${fraction}` : ''}`;
  return formatterFor(locale, currency).format(decimal as unknown as number);
}
