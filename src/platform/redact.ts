// What never leaves the process in text: card numbers (PCI DSS), configured secrets and connection
// URL passwords. `scrubText` is the one function every outgoing text passes through: log lines
// (log.ts), error texts stored in rows (`errorText`: outbox last_error, credit_requests.error, job
// output) and error messages in API responses. The detectors live in card-numbers.ts and secrets.ts.
import { errorMessage } from './errors.ts';
import { scrubSecrets } from './secrets.ts';

export {
  CARD_MASK,
  containsCardNumber,
  findCardNumbers,
  luhnValid,
  normaliseDigits,
  redactCardNumbers,
} from './card-numbers.ts';
export { SECRET_MASK, scrubSecrets } from './secrets.ts';

import { containsCardNumber, redactCardNumbers } from './card-numbers.ts';

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s/]+@/gi;

const PERCENT_ENCODED = /%[0-9a-f]{2}/i;

/**
 * Secrets, the password part of URLs (postgres://user:pw@host) and card numbers removed. Text with
 * percent-encoding (a URL, a query) is also read decoded: "%20" before a card's digits would glue
 * "20" to them and hide the card; when decoding reveals one, the decoded text is kept, redacted.
 */
export function scrubText(text: string): string {
  const clean = redactCardNumbers(scrubSecrets(text).replace(URL_PASSWORD, '$1[REDACTED]@'));
  if (!PERCENT_ENCODED.test(clean)) return clean;
  const decoded = percentDecoded(clean);
  return decoded !== clean && containsCardNumber(decoded) ? redactCardNumbers(decoded) : clean;
}

/** Percent-decoding that never throws (a lone "%" or "%zz" stays as it is); "+" reads as a space. */
export function percentDecoded(text: string): string {
  return text.replace(/\+/g, ' ').replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** Longest error text kept in a row. */
export const STORED_ERROR_MAX = 1000;

/**
 * The text of an error as it may be stored in a row or shown to an operator: scrubbed, bounded.
 * Every place that writes an error into the database goes through this.
 */
export function errorText(error: unknown, maxLength: number = STORED_ERROR_MAX): string {
  return scrubText(errorMessage(error)).slice(0, maxLength);
}

export const CVV_MASK = '[REDACTED CVV]';

/**
 * While a conversation is at its card step, a lone 3 or 4 digit number is most likely the card's
 * security code (CVV/CVC), which PCI DSS forbids storing even encrypted. Callers apply this only
 * then: elsewhere "350" is an amount. Digits of other scripts are normalised by the caller first.
 */
export function redactSecurityCodes(text: string): string {
  return text.replace(/(?<![\d.,/$€£¥-])\b\d{3,4}\b(?![\d.,/])/g, CVV_MASK);
}
