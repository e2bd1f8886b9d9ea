// Card numbers must never reach logs, the database or a language model (PCI DSS). This finds
// anything that looks like a payment card number in free text: 13-19 digits, optionally grouped by
// single spaces or dashes, that pass the Luhn check. Order numbers and phone numbers rarely do.

const CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;

export const CARD_MASK = '[REDACTED CARD]';

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Replaces every card-like number in `text` with a mask; returns the text unchanged when none. */
export function redactCardNumbers(text: string): string {
  if (!/\d{4}/.test(text.replace(/[ -]/g, ''))) return text;
  return text.replace(CANDIDATE, (match) => {
    const digits = match.replace(/[ -]/g, '');
    return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) ? CARD_MASK : match;
  });
}

export function containsCardNumber(text: string): boolean {
  return redactCardNumbers(text) !== text;
}

export const CVV_MASK = '[REDACTED CVV]';

/**
 * While a conversation is at its card step, a lone 3 or 4 digit number is most likely the card's
 * security code (CVV/CVC), which PCI DSS forbids storing even encrypted. Callers apply this only
 * then: elsewhere "350" is an amount.
 */
export function redactSecurityCodes(text: string): string {
  return text.replace(/(?<![\d.,/$€£¥-])\b\d{3,4}\b(?![\d.,/])/g, CVV_MASK);
}
