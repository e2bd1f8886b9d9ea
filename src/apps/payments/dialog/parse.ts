// Deterministic reading of a chat message: names, amounts with currency, yes/no, invoice ids,
// cancel/restart, corrections and small talk. Everything here is a pure function of the (already
// redacted) text, so the bot works with no language model at all.
import { isCurrency, minorDigits } from '../../../platform/money.ts';
import type { Field } from './state.ts';

export interface Extracted {
  name?: string;
  amount?: { minor: number; currency: string };
  invoiceId?: string;
  /** Where Stripe sends the receipt (optional: never asked for as a step of its own). */
  email?: string;
}

export type Intent = 'yes' | 'no' | 'cancel' | 'restart' | 'help' | 'smalltalk' | null;

const SYMBOLS: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY', '₹': 'INR' };
const WORDS: Record<string, string> = {
  dollar: 'USD',
  dollars: 'USD',
  bucks: 'USD',
  euro: 'EUR',
  euros: 'EUR',
  pound: 'GBP',
  pounds: 'GBP',
  yen: 'JPY',
  rupees: 'INR',
};

/** The largest amount Stripe accepts in one charge (99,999,999 minor units, i.e. $999,999.99). */
export const MAX_AMOUNT_MINOR = 99_999_999;

const NUMBER = String.raw`(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,3}))?`;
const AMOUNT_PATTERNS: Array<{
  re: RegExp;
  currency: (m: RegExpMatchArray) => string | undefined;
  n: number;
}> = [
  // $50, € 12.50, USD 50, usd50
  {
    re: new RegExp(String.raw`([$€£¥₹]|\b[A-Za-z]{3}\b)\s?${NUMBER}`, 'gu'),
    currency: (m) => SYMBOLS[m[1] as string] ?? (m[1] as string).toUpperCase(),
    n: 2,
  },
  // 50 USD, 12.50 euros, 50 dollars
  {
    re: new RegExp(String.raw`${NUMBER}\s?([A-Za-z]{3,7})\b`, 'gu'),
    currency: (m) => WORDS[(m[3] as string).toLowerCase()] ?? (m[3] as string).toUpperCase(),
    n: 1,
  },
];

export type AmountResult = { minor: number; currency: string } | { error: string };

/**
 * An amount with its currency, as exact integer minor units (no floats: "12.5" is 1250 cents by
 * string arithmetic). A bare number counts only when the bot asked for the amount.
 */
export function parseAmount(
  text: string,
  defaultCurrency: string,
  bareNumberOk: boolean,
): AmountResult | null {
  return findAmount(text, defaultCurrency, bareNumberOk)?.result ?? null;
}

/** The amount and the text it was read from (so the rest of the message can be read for a name). */
function findAmount(
  text: string,
  defaultCurrency: string,
  bareNumberOk: boolean,
): { result: AmountResult; matched: string } | null {
  for (const pattern of AMOUNT_PATTERNS) {
    // Every candidate, not just the first: in "pay 50 usd", "pay 50" is not an amount but "50 usd" is.
    for (const match of text.matchAll(pattern.re)) {
      const currency = pattern.currency(match);
      if (!currency || !isCurrency(currency)) continue;
      return {
        result: toMinor(match[pattern.n] as string, match[pattern.n + 1], currency),
        matched: match[0],
      };
    }
  }
  if (bareNumberOk) {
    const bare = text.match(new RegExp(String.raw`(?:^|\s)${NUMBER}(?=\s|$|[.!?](?:\s|$))`, 'u'));
    if (bare) return { result: toMinor(bare[1] as string, bare[2], defaultCurrency), matched: bare[0] };
  }
  return null;
}

function toMinor(whole: string, fraction: string | undefined, currency: string): AmountResult {
  const digits = minorDigits(currency);
  const frac = fraction ?? '';
  if (frac.length > digits) {
    return {
      error:
        digits === 0
          ? `${currency} amounts have no decimals`
          : `${currency} amounts have at most ${digits} decimals`,
    };
  }
  const minor = Number(whole.replace(/,/g, '')) * 10 ** digits + Number(frac.padEnd(digits, '0') || '0');
  if (!Number.isSafeInteger(minor) || minor <= 0) return { error: 'the amount must be more than zero' };
  if (minor > MAX_AMOUNT_MINOR) return { error: 'that amount is larger than one card payment allows' };
  return { minor, currency };
}

const NAME_WORD = String.raw`[\p{L}][\p{L}'’.-]*`;
const NAME = String.raw`(${NAME_WORD}(?:\s+${NAME_WORD}){0,4})`;
const NAME_INTRO = new RegExp(
  String.raw`\b(?:my name is|my name's|name is|name:|i am|i'm|im|this is|it's|it is|call me)\s+${NAME}`,
  'iu',
);
/** Words that end a name when it runs on into the rest of the sentence ("I'm Jane and I want..."). */
const STOP_WORDS = new Set(
  'and i want to pay would like need the a for with my amount invoice please actually it is am here paying email e-mail receipt send'.split(
    ' ',
  ),
);
/** Words a reply made only of is never a name: "thank you", "ok thanks", "hi there", "no idea". */
const NOT_NAMES = new Set(
  'yes no ok okay sure confirm cancel restart hello hi hey help thanks thank you fine good great what why how who there so much very bye goodbye morning afternoon evening idea sorry please cheers cool nice'.split(
    ' ',
  ),
);
const notAName = (candidate: string) =>
  candidate
    .toLowerCase()
    .split(/\s+/)
    .every((word) => NOT_NAMES.has(word.replace(/[.!?,]+$/, '')));

export type NameResult = { name: string } | { error: string };

export function parseName(text: string, bareOk: boolean): NameResult | null {
  const intro = text.match(NAME_INTRO);
  const candidate = intro
    ? trimName(intro[1] as string)
    : bareOk && new RegExp(String.raw`^\s*${NAME}\s*[.!]?\s*$`, 'u').test(text)
      ? trimName(text.trim().replace(/[.!]$/, ''))
      : null;
  if (candidate === null) {
    if (bareOk && /\d/.test(text) && !/[$€£¥]|\d{2,}/.test(text))
      return { error: 'a name has no digits in it' };
    return null;
  }
  if (!candidate || notAName(candidate)) return null;
  if (candidate.length > 100) return { error: 'that is longer than a name can be here (100 characters)' };
  return { name: candidate };
}

function trimName(raw: string): string {
  const words = raw.split(/\s+/);
  const kept: string[] = [];
  for (const word of words) {
    if (STOP_WORDS.has(word.toLowerCase())) break;
    kept.push(word);
  }
  return kept
    .map((word) => (word === word.toLowerCase() ? word.charAt(0).toUpperCase() + word.slice(1) : word))
    .join(' ');
}

/** Invoice ids as the invoices app stores them, e.g. INV-2024-0042, or "invoice 1234". */
export function parseInvoiceId(text: string): string | null {
  // INV-2024-0042, INV0042: "INV" and at least one digit (so the word "invoice" is not an id).
  const tagged = text.match(/\b(INV[-_#]?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9][A-Za-z0-9_-]{0,60})\b/i);
  if (tagged) return (tagged[1] as string).toUpperCase();
  const named = text.match(
    /\binvoice\s+(?:#|no\.?|number)?\s*((?=[A-Za-z_-]*\d)[A-Za-z0-9][A-Za-z0-9_-]{2,60})\b/i,
  );
  return named ? (named[1] as string) : null;
}

// A practical address shape (what Stripe accepts as receipt_email), not RFC 5322's every corner.
const EMAIL =
  /(?<![\w.+%-])([A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24})(?![\w@-])/;

/** The email address in a message, lower-cased (how it is compared when a person asks for erasure). */
export function parseEmail(text: string): string | null {
  const match = EMAIL.exec(text);
  const email = match?.[1];
  return email && email.length <= 254 && !email.includes('..') ? email.toLowerCase() : null;
}

const YES =
  /^(?:y|yes|yeah|yep|yup|sure|ok|okay|confirm|confirmed|correct|right|go ahead|do it|pay|pay now|that's right|looks good|absolutely)\b[\s!.]*$/i;
const NO = /^(?:n|no|nope|nah|not quite|wrong|incorrect|that's wrong|wait)\b/i;

export function parseIntent(text: string): Intent {
  const t = text.trim();
  if (/^(?:cancel|stop|quit|exit|abort|never ?mind)\b[\s!.]*$/i.test(t)) return 'cancel';
  if (/^(?:restart|start over|start again|reset|begin again)\b[\s!.]*$/i.test(t)) return 'restart';
  if (YES.test(t)) return 'yes';
  if (NO.test(t)) return 'no';
  if (/^(?:help|\?|what do (?:you|i) need|what can you do)[\s?!.]*$/i.test(t)) return 'help';
  if (SMALLTALK.some((re) => re.test(t))) return 'smalltalk';
  return null;
}

const SMALLTALK = [
  /^(?:hi|hello|hey|good (?:morning|afternoon|evening)|howdy)\b/i,
  /\bhow are you\b/i,
  /\b(?:who|what) are you\b/i,
  /^(?:thanks|thank you|cheers|great|cool|nice)\b/i,
  /\b(?:weather|joke|are you (?:a )?(?:bot|human|real))\b/i,
  /^(?:i (?:want|need|would like) to (?:make a )?pay(?:ment)?|make a payment|pay)\b/i,
];

/** "actually my name is...", "change the amount to...", "no, the amount is ...": which field a correction targets. */
export function correctionTarget(text: string): Field | null {
  if (!/\b(?:actually|change|correct|instead|wrong|sorry|not|update|fix|meant)\b/i.test(text)) return null;
  if (/\bname\b/i.test(text)) return 'name';
  if (/\b(?:amount|price|pay|total)\b/i.test(text)) return 'amount';
  if (/\bcard\b/i.test(text)) return 'card';
  return null;
}

/** After "no" at confirmation: which field the customer names. */
export function namedField(text: string): Field | null {
  if (/\bname\b/i.test(text)) return 'name';
  if (/\b(?:amount|price|sum|total|how much)\b/i.test(text)) return 'amount';
  if (/\b(?:card|payment method)\b/i.test(text)) return 'card';
  return null;
}

export function extract(
  message: string,
  field: Field,
  defaultCurrency: string,
): {
  found: Extracted;
  problems: Partial<Record<'name' | 'amount', string>>;
} {
  const found: Extracted = {};
  const problems: Partial<Record<'name' | 'amount', string>> = {};
  const email = parseEmail(message);
  if (email) found.email = email;
  // The address is read first and taken out, so its parts are never read as a name or an amount.
  const text = email
    ? message
        .replace(EMAIL, ' ')
        .replace(/\s+/g, ' ')
        .replace(/[\s,;:]+$/, '')
        .trim()
    : message;
  const invoiceId = parseInvoiceId(text);
  if (invoiceId) found.invoiceId = invoiceId;
  const amountText = invoiceId ? text.replace(invoiceId, ' ') : text;
  const located = findAmount(amountText, defaultCurrency, field === 'amount');
  const amount = located?.result ?? null;
  if (amount && 'error' in amount) problems.amount = amount.error;
  else if (amount) found.amount = amount;
  // Asked for the name, "Jane Doe, 12 USD" is a name and an amount: the name is read from what the
  // amount leaves (a bare name only when nothing else is left: "pay 12 USD" leaves no name).
  const nameText =
    located && field === 'name' ? text.replace(located.matched, ' ').replace(/[\s,;]+$/, '') : text;
  const name = parseName(nameText, field === 'name' && !invoiceId);
  if (name && 'error' in name) problems.name = name.error;
  else if (name) found.name = name.name;
  return { found, problems };
}
