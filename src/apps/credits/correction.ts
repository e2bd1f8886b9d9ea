// A person's corrected credit, typed in the console or given to the CLI: US dollars as people write
// them ("3200", "3,200.00", "$3,200.5"), read exactly into cents by string arithmetic (no floats),
// refused with a reason when it is not one amount. The API takes cents and needs none of this.
/** A billion dollars, in cents: a larger correction is a typing slip, never a credit. */
export const MAX_CORRECTED_CENTS = 100_000_000_000;

const DOLLARS = /^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/;

export function parseDollars(text: string): { cents: number } | { error: string } {
  const trimmed = text.trim();
  const match = DOLLARS.exec(trimmed);
  if (!match) {
    if (/^\$?\s*[\d,]*\.\d{3,}$/.test(trimmed)) return { error: 'a credit has at most 2 decimals (cents)' };
    return { error: `"${trimmed.slice(0, 40)}" is not an amount in US dollars, such as 3,200.00` };
  }
  const whole = (match[1] ?? '').replaceAll(',', '');
  const cents = (match[2] ?? '').padEnd(2, '0');
  // Compared as digits before Number(): a long string of digits must not round its way under the cap.
  const digits = `${whole.replace(/^0+(?=\d)/, '')}${cents}`.replace(/^0+(?=\d)/, '');
  if (digits.length > String(MAX_CORRECTED_CENTS).length || Number(digits) > MAX_CORRECTED_CENTS)
    return { error: 'that is more than any credit: check the amount' };
  return { cents: Number(digits) };
}
