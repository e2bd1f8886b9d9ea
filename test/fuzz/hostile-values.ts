// Values a hostile or careless client sends: text PostgreSQL cannot store, prototype keys, wrong
// types, huge and empty values, broken percent-encoding. Shared by the fuzz test and bench/fuzz.ts.
import fc from 'fast-check';

export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e400',
  '9007199254740993',
  '%zz',
  '%00',
  '../../etc/passwd',
  "'; drop table invoices; --",
  '<script>alert(1)</script>',
  '{{invoice_id}}',
  '$' + '{process.env}',
  '\u202eevil',
  '４２４２',
  'STOP',
  'START',
  '\r\nX-Injected: 1',
  'a'.repeat(150),
  'é'.repeat(3000),
];

/** Any text, weighted towards the classes that broke things before. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((text) => `${text}\u0000`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((text) => `${text}\udc00${text}`) },
);

export const nastyKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra', '', 'a\u0000', '\ud800'),
  fc.string({ maxLength: 10 }),
);

/** A value of any JSON type, mostly wrong for wherever it lands. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1.5, 1e308, -0, 2 ** 53 + 2) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom({}, [], [null], { __proto__: null }) },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyKey, nastyString, { maxKeys: 3 }) },
);

/** Raw path or query tokens that are not valid percent-encoding or are over the limits. */
export const RAW_URL_TOKENS = [
  '%zz',
  '%',
  '%E0%A4%A',
  '%ED%A0%80',
  '%00',
  '%C0%AF',
  '%2e%2e',
  '%2F',
  '%FF%FE',
  'a'.repeat(101),
  'x'.repeat(3000),
];

/** Percent-encodes `text` as UTF-8 (a lone surrogate becomes U+FFFD, as a browser would send it). */
export function encodeText(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A path segment or query value, already encoded: encoded text or a raw broken token. */
export const urlToken: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: nastyString.map(encodeText) },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_URL_TOKENS) },
);
