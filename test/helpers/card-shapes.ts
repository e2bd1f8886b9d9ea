// Generated card numbers and the shapes people (and attackers) write them in, for property tests,
// and the independent check the tests search with: digits of any script read as 0-9, everything
// that is neither a letter nor a digit dropped, then the card's digits looked for.
import fc from 'fast-check';

/** Issuer prefix ranges and lengths (the networks' published IIN ranges). */
const NETWORKS: Array<{ prefixes: [number, number]; lengths: number[] }> = [
  { prefixes: [4, 4], lengths: [13, 16, 19] }, // Visa
  { prefixes: [51, 55], lengths: [16] }, // Mastercard
  { prefixes: [2221, 2720], lengths: [16] }, // Mastercard 2-series
  { prefixes: [34, 34], lengths: [15] }, // American Express
  { prefixes: [37, 37], lengths: [15] },
  { prefixes: [6011, 6011], lengths: [16, 19] }, // Discover
  { prefixes: [644, 649], lengths: [16] },
  { prefixes: [65, 65], lengths: [16] },
  { prefixes: [3528, 3589], lengths: [16, 19] }, // JCB
  { prefixes: [36, 36], lengths: [14] }, // Diners Club
  { prefixes: [300, 305], lengths: [14, 16] },
  { prefixes: [62, 62], lengths: [16, 17, 18, 19] }, // UnionPay
  { prefixes: [6759, 6759], lengths: [13, 16, 19] }, // Maestro
  { prefixes: [2200, 2204], lengths: [16] }, // Mir
  { prefixes: [1, 1], lengths: [15] }, // UATP
];

export function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

/** A Luhn-valid number of a real network's prefix and length. */
export function cardNumber(): fc.Arbitrary<string> {
  return fc
    .constantFrom(...NETWORKS)
    .chain((network) =>
      fc.tuple(
        fc.integer({ min: network.prefixes[0], max: network.prefixes[1] }),
        fc.constantFrom(...network.lengths),
      ),
    )
    .chain(([prefix, length]) => {
      const head = String(prefix);
      return fc
        .string({
          unit: fc.constantFrom(...'0123456789'),
          minLength: length - 1 - head.length,
          maxLength: length - 1 - head.length,
        })
        .map((rest) => withCheckDigit(head + rest));
    });
}

/** The zero of some decimal digit sets: ASCII, Arabic-Indic, extended Arabic-Indic, Devanagari, Thai, full-width, mathematical bold. */
const DIGIT_ZEROS = [0x30, 0x660, 0x6f0, 0x966, 0xe50, 0xff10, 0x1d7ce];

export const SEPARATORS = [
  ' ',
  '  ',
  '.',
  '/',
  '_',
  ',',
  '-',
  ' - ',
  '\u2013', // en dash
  '\u2014', // em dash
  '\n',
  '\r\n',
  '\t',
  '\u00a0', // no-break space
  '\u2009', // thin space
  '\u202f', // narrow no-break space
  '\u200b', // zero-width space
  '\u2060', // word joiner
  '\u00ad', // soft hyphen
  ')(',
  '💳',
  ' 💳 ',
  '👍🏽',
  '👨‍👩‍👧',
  '\ufe0f\u20e3', // keycap
];

function writeDigit(digit: string, zero: number): string {
  return String.fromCodePoint(zero + Number(digit));
}

/** `pan` written as a person might: grouped, separated, in another script, inside a sentence. */
export function cardShape(pan: string): fc.Arbitrary<string> {
  const groupSizes = fc.oneof(
    fc.constant([pan.length]),
    fc.constant([4, 4, 4, 4, 4].slice(0, Math.ceil(pan.length / 4))),
    fc.constant([4, 6, 5, 4]),
    fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 3, maxLength: 19 }),
  );
  return fc
    .record({
      sizes: groupSizes,
      separator: fc.constantFrom(...SEPARATORS),
      mixed: fc.boolean(),
      otherSeparators: fc.array(fc.constantFrom(...SEPARATORS), { minLength: 20, maxLength: 20 }),
      zero: fc.constantFrom(...DIGIT_ZEROS),
      perDigit: fc.array(fc.constantFrom(...DIGIT_ZEROS), { minLength: 19, maxLength: 19 }),
      mixedScripts: fc.boolean(),
      before: fc.constantFrom('', 'my card is ', 'card: ', 'here\n', '(', 'pay with '),
      after: fc.constantFrom('', ' thanks', ', exp 12/29', '.', ')', ' cvv 123'),
    })
    .map(({ sizes, separator, mixed, otherSeparators, zero, perDigit, mixedScripts, before, after }) => {
      const groups: string[] = [];
      let at = 0;
      for (const size of sizes) {
        if (at >= pan.length) break;
        groups.push(pan.slice(at, at + size));
        at += size;
      }
      if (at < pan.length) groups.push(pan.slice(at));
      let index = 0;
      const written = groups.map((group) =>
        [...group]
          .map((d) => writeDigit(d, mixedScripts ? (perDigit[index++ % 19] as number) : zero))
          .join(''),
      );
      const body = written.reduce(
        (text, group, i) =>
          i === 0 ? group : text + (mixed ? (otherSeparators[i % 20] as string) : separator) + group,
        '',
      );
      return before + body + after;
    });
}

/** Digits of any script as 0-9, letters kept as breaks, everything else dropped. */
export function searchable(text: string): string {
  let out = '';
  for (const char of text) {
    if (/\p{Nd}/u.test(char)) {
      const codePoint = char.codePointAt(0) as number;
      let start = codePoint;
      while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
      out += String((codePoint - start) % 10);
    } else if (/\p{L}/u.test(char)) {
      out += char;
    }
  }
  return out;
}

/** Whether `text`, searched as above, holds the digits of `pan`. */
export function containsPan(text: string, pan: string): boolean {
  return searchable(text).includes(pan);
}
