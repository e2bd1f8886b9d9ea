// The one card-number detector (PCI DSS: a primary account number never reaches a log, a row, a
// response or a language model). It normalises before it matches, because people and attackers
// write card numbers in every shape: any Unicode decimal digit counts as its value ("４２４２",
// Arabic-Indic, keycaps), and digit groups may be joined by any short run of characters that are not
// letters (spaces of every width, zero-width characters, dots, slashes, commas, underscores,
// parentheses, dashes, newlines, emoji). A run of such groups holding 13-19 digits is a card number
// when it passes the Luhn check and starts with an issuer prefix valid for its length.
//
// Precision matters as much: a redacted job UUID or timestamp makes logs useless. So UUIDs, long hex
// ids and ISO/PostgreSQL timestamps are never part of a candidate, letters end a run, a run longer
// than 19 digits matches only at group boundaries, and a "+" before 15 or fewer digits is an E.164
// phone number, which is never a card.

export const CARD_MASK = '[REDACTED CARD]';

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;
/** Code points that may join two digit groups (" - ", an emoji with its modifiers); white space counts once. */
const MAX_GAP = 10;
/** E.164 numbers have at most 15 digits and are written with a leading "+"; cards never are. */
const E164_MAX_DIGITS = 15;

/**
 * Issuer prefixes (ISO/IEC 7812 IIN ranges of the card networks) and the lengths each issues.
 * Kept broad on purpose (every major network, the national schemes): missing a real card is worse
 * than keeping a rare order number out of a log.
 */
function issuerAllows(digits: string): boolean {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p4 = Number(digits.slice(0, 4));
  switch (digits[0]) {
    case '1': // UATP
      return n === 15;
    case '2': // Mir, Borica (2200-2205), Mastercard 2-series (2221-2720)
      return ((p4 >= 2200 && p4 <= 2205) || (p4 >= 2221 && p4 <= 2720)) && n >= 16;
    case '3': // Amex 34/37, Diners 30/36/38/39, JCB 35
      return p2 === 34 || p2 === 37 ? n === 15 : n >= 14;
    case '4': // Visa, Visa Electron
      return true;
    case '5': // Mastercard 51-55, Maestro 50/56-59, Verve, Dankort
    case '6': // Discover, UnionPay, Maestro, RuPay, Troy, InterPayment
      return true;
    case '8': // UnionPay 81, RuPay 82, UzCard 8600
    case '9': // Troy 9792, Humo 9860
      return n >= 16;
    default: // 0 and 7 (petroleum cards, not payment networks)
      return false;
  }
}

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

/** A plausible card number (length, issuer prefix, Luhn) given its ASCII digits. */
export function isCardNumber(digits: string): boolean {
  return (
    digits.length >= MIN_DIGITS && digits.length <= MAX_DIGITS && issuerAllows(digits) && luhnValid(digits)
  );
}

const DECIMAL = /^\p{Nd}$/u;
const LETTER = /^\p{L}$/u;
const WHITE = /^\s$/u;
const digitCache = new Map<number, number>();

/**
 * The value 0-9 of a code point that is a digit in any script, or -1. Unicode assigns decimal digits
 * (category Nd) only in contiguous runs of ten in order 0-9, so the value is the distance from the
 * start of the run, modulo 10 (some runs follow each other, such as the mathematical digits).
 * Compatibility digits (superscripts, circled digits) count by their NFKC form.
 */
export function digitValue(codePoint: number): number {
  if (codePoint >= 48 && codePoint <= 57) return codePoint - 48;
  if (codePoint < 0xb2) return -1; // nothing below the superscript two is a digit
  const cached = digitCache.get(codePoint);
  if (cached !== undefined) return cached;
  const char = String.fromCodePoint(codePoint);
  let value = -1;
  if (DECIMAL.test(char)) {
    let start = codePoint;
    while (DECIMAL.test(String.fromCodePoint(start - 1))) start--;
    value = (codePoint - start) % 10;
  } else {
    const compatible = char.normalize('NFKC');
    if (compatible.length === 1 && compatible >= '0' && compatible <= '9')
      value = compatible.charCodeAt(0) - 48;
  }
  if (digitCache.size < 4096) digitCache.set(codePoint, value);
  return value;
}

/** `text` with every digit of any script written as 0-9 (for parsing amounts typed in any digits). */
export function normaliseDigits(text: string): string {
  if (tooFewDigits(text, 1)) return text;
  let out = '';
  for (const char of text) {
    const value = digitValue(char.codePointAt(0) as number);
    out += value >= 0 ? String(value) : char;
  }
  return out;
}

// Shapes that hold many digits but are never card numbers (ASCII only: ids and clocks are machine
// written). Their characters end a candidate run like letters do.
const NOT_CARDS = new RegExp(
  [
    // UUIDs (job ids, request ids, page sessions)
    '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
    // hex ids: 20+ hex digits with at least one letter, after an optional short prefix (SM, AC, pi_)
    String.raw`\b(?:[a-z]{1,4}_?)?(?=[0-9a-f]*[a-f])[0-9a-f]{20,}\b`,
    // ISO 8601 / PostgreSQL timestamps and dates, in the years 1900-2099
    String.raw`(?<!\d)(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?(?!\d)`,
    // E.164 phone numbers: "+", at most 15 digits, not running on into more digit groups
    String.raw`(?<![\d+])\+[1-9](?:[ .()-]{0,2}\d){5,14}(?![ .()-]{0,2}\d)`,
    // clock times with seconds
    String.raw`(?<!\d)(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:[.,]\d{1,9})?(?!\d)`,
  ].join('|'),
  'gi',
);

interface Group {
  /** UTF-16 index of the first digit and just past the last. */
  start: number;
  end: number;
  digits: string;
  /** Whether the gap before this group joins it to the previous one. */
  joined: boolean;
  /** The character right before the first digit. */
  before: string;
}

/** Fewer digits than a card has, in any script: most text the logger sees stops here. */
function tooFewDigits(text: string, needed: number = MIN_DIGITS): boolean {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) count++;
    else if (code >= 0xb2 && digitValue(text.codePointAt(i) as number) >= 0) count++;
    if (count >= needed) return false;
  }
  return true;
}

function excludedSpans(text: string): Uint8Array | null {
  let mask: Uint8Array | null = null;
  for (const match of text.matchAll(NOT_CARDS)) {
    mask ??= new Uint8Array(text.length);
    mask.fill(1, match.index, match.index + match[0].length);
  }
  return mask;
}

function digitGroups(text: string): Group[] {
  const excluded = excludedSpans(text);
  const groups: Group[] = [];
  let current: Group | null = null;
  let gap = 0;
  let broken = true;
  let previousChar = '';
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i) as number;
    const width = codePoint > 0xffff ? 2 : 1;
    const char = text.slice(i, i + width);
    const value = excluded?.[i] ? -1 : digitValue(codePoint);
    if (value >= 0) {
      if (!current) {
        current = {
          start: i,
          end: i,
          digits: '',
          joined: !broken && groups.length > 0,
          before: previousChar,
        };
        groups.push(current);
      }
      current.digits += String(value);
      current.end = i + width;
      gap = 0;
      broken = false;
    } else {
      current = null;
      // A run of white space counts once: padding a gap with spaces must not split a card.
      if (!(WHITE.test(char) && WHITE.test(previousChar))) gap += 1;
      if (excluded?.[i] || LETTER.test(char) || gap > MAX_GAP) broken = true;
    }
    previousChar = char;
    i += width;
  }
  return groups;
}

export interface CardMatch {
  start: number;
  end: number;
}

/** Where card numbers are in `text` (UTF-16 offsets), in order, not overlapping. */
export function findCardNumbers(text: string): CardMatch[] {
  if (tooFewDigits(text)) return [];
  const groups = digitGroups(text);
  const matches: CardMatch[] = [];
  let i = 0;
  while (i < groups.length) {
    let found = -1;
    // The longest run of whole groups starting here that is a card number.
    let digits = '';
    for (let j = i; j < groups.length; j++) {
      if (j > i && !(groups[j] as Group).joined) break;
      digits += (groups[j] as Group).digits;
      if (digits.length > MAX_DIGITS) break;
      const first = groups[i] as Group;
      const phone = first.before === '+' && digits.length <= E164_MAX_DIGITS;
      if (!phone && isCardNumber(digits)) found = j;
    }
    if (found >= 0) {
      matches.push({ start: (groups[i] as Group).start, end: (groups[found] as Group).end });
      i = found + 1;
    } else {
      i += 1;
    }
  }
  return matches;
}

/** `text` with every card number replaced by `mask`; the same string when there is none. */
export function redactCardNumbers(text: string, mask: string = CARD_MASK): string {
  const matches = findCardNumbers(text);
  if (matches.length === 0) return text;
  let out = '';
  let at = 0;
  for (const match of matches) {
    out += text.slice(at, match.start) + mask;
    at = match.end;
  }
  return out + text.slice(at);
}

export function containsCardNumber(text: string): boolean {
  return findCardNumbers(text).length > 0;
}
