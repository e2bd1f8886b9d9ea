// The card-number detector on its own: Stripe's published test card numbers, generated Luhn-valid
// numbers of every network written in generated shapes (digits of other scripts, every separator,
// invisible characters, emoji), and the false-positive side: UUIDs, hex ids, job ids, timestamps and
// E.164 phone numbers are never redacted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CARD_MASK,
  containsCardNumber,
  digitValue,
  findCardNumbers,
  isCardNumber,
  luhnValid,
  normaliseDigits,
  redactCardNumbers,
} from '../src/platform/card-numbers.ts';
import { cardNumber, cardShape, containsPan, withCheckDigit } from './helpers/card-shapes.ts';

const RUNS = { seed: 1157, numRuns: 400 };

describe('card numbers that must be found', () => {
  it("finds Stripe's published test card numbers, bare, grouped and in text", () => {
    // https://docs.stripe.com/testing#cards
    const published = [
      '4242424242424242',
      '4000056655665556',
      '5555555555554444',
      '2223003122003222',
      '5200828282828210',
      '5105105105105100',
      '378282246310005',
      '371449635398431',
      '6011111111111117',
      '6011000990139424',
      '6011981111111113',
      '3056930009020004',
      '36227206271667',
      '3566002020360505',
      '6200000000000005',
      '6200000000000047',
      '4000002500003155',
      '4000000000000002',
      '4012888888881881',
    ];
    for (const pan of published) {
      expect(isCardNumber(pan), pan).toBe(true);
      expect(redactCardNumbers(`card ${pan} ok`)).toBe(`card ${CARD_MASK} ok`);
      const grouped = pan.replace(/(\d{4})(?=\d)/g, '$1 ');
      expect(redactCardNumbers(grouped), grouped).toBe(CARD_MASK);
    }
  });

  it('finds a card next to its expiry and security code, and in a URL path', () => {
    expect(redactCardNumbers('4012 8888 8888 1881, 12/27, 123')).toBe(`${CARD_MASK}, 12/27, 123`);
    expect(redactCardNumbers('GET /invoices/4242424242424242?x=1')).toBe(`GET /invoices/${CARD_MASK}?x=1`);
    expect(redactCardNumbers('sessionId=4242_4242_4242_4242')).toBe(`sessionId=${CARD_MASK}`);
    // "+" starts a phone number only for what fits in E.164 (15 digits)
    expect(redactCardNumbers('4242+4242+4242+4242')).toBe(CARD_MASK);
    expect(redactCardNumbers(`4242${' '.repeat(40)}4242\n\n\n\n\n\n\n\n\n\n\n\n4242 \t \t 4242`)).toBe(
      CARD_MASK,
    );
    expect(redactCardNumbers('+4242 4242 4242 4242')).toBe(`+${CARD_MASK}`);
    expect(redactCardNumbers('call +6643415474 or +33408276, +49 151 12345678')).toBe(
      'call +6643415474 or +33408276, +49 151 12345678',
    );
  });

  it('maps digits of every script to their value', () => {
    // The zero of some decimal digit sets (Unicode category Nd): ASCII, Arabic-Indic, extended
    // Arabic-Indic, Devanagari, Bengali, Thai, Tibetan, Myanmar, full-width, mathematical bold and
    // monospace, and the digits after them.
    for (const zero of [0x30, 0x660, 0x6f0, 0x966, 0x9e6, 0xe50, 0xf20, 0x1040, 0xff10, 0x1d7ce, 0x1d7f6]) {
      for (let k = 0; k < 10; k++) expect(digitValue(zero + k), `U+${(zero + k).toString(16)}`).toBe(k);
    }
    expect(digitValue('a'.codePointAt(0) as number)).toBe(-1);
    expect(digitValue('²'.codePointAt(0) as number)).toBe(2);
    expect(normaliseDigits('٥٠ USD, ４２')).toBe('50 USD, 42');
  });

  it('finds generated card numbers of every network in every generated shape', () => {
    fc.assert(
      fc.property(cardNumber(), (pan) => {
        expect(luhnValid(pan) && isCardNumber(pan)).toBe(true);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(
        cardNumber().chain((pan) => cardShape(pan).map((text) => ({ pan, text }))),
        ({ pan, text }) => {
          const redacted = redactCardNumbers(text);
          expect(containsCardNumber(text), JSON.stringify(text)).toBe(true);
          expect(containsPan(redacted, pan), JSON.stringify({ text, redacted })).toBe(false);
        },
      ),
      RUNS,
    );
  });

  it('leaves Luhn-invalid numbers, unknown prefixes and runs longer than a card alone', () => {
    expect(redactCardNumbers('order 4242424242424241')).toBe('order 4242424242424241');
    expect(redactCardNumbers('0000000000000000')).toBe('0000000000000000'); // no network starts with 0
    expect(redactCardNumbers('7000000000000005')).toBe('7000000000000005'); // 7: not a payment network
    expect(redactCardNumbers('42424242424242424242424')).toBe('42424242424242424242424');
    expect(redactCardNumbers('amount 494880 cents')).toBe('amount 494880 cents');
    expect(redactCardNumbers('call +1 415 555 2671')).toBe('call +1 415 555 2671');
    expect(luhnValid('79927398713')).toBe(true);
    fc.assert(
      fc.property(cardNumber(), (pan) => {
        const broken = pan.slice(0, -1) + String((Number(pan.at(-1)) + 1) % 10);
        expect(findCardNumbers(broken)).toEqual([]);
      }),
      RUNS,
    );
  });
});

describe('what must never be redacted', () => {
  const hex = (min: number, max: number) =>
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: min, maxLength: max });
  /** UUIDs, and UUIDs whose later groups are all decimal digits (the shape that was once redacted). */
  const uuid = fc.oneof(
    fc.uuid(),
    fc
      .tuple(
        hex(8, 8),
        hex(4, 4),
        fc.stringMatching(/^\d{4}$/),
        fc.stringMatching(/^\d{4}$/),
        fc.stringMatching(/^\d{12}$/),
      )
      .map((parts) => parts.join('-')),
  );
  const hexId = fc.oneof(
    hex(32, 64).filter((id) => /[a-f]/.test(id)),
    fc
      .tuple(fc.constantFrom('SM', 'AC', 'MG', 'pi_', 'evt_'), hex(32, 32))
      .map(([p, h]) => p + h)
      .filter((id) => /[a-f]/.test(id.slice(3))),
  );
  const timestamp = fc
    .date({
      min: new Date('1970-01-01T00:00:00Z'),
      max: new Date('2099-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .chain((date) =>
      fc.constantFrom(
        date.toISOString(),
        // PostgreSQL's text form, with microseconds and an offset
        `${date.toISOString().replace('T', ' ').replace('Z', '')}123+00`,
        `${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 19)}`,
      ),
    );
  /** E.164: "+", a country code, at most 15 digits in all, grouped or not. */
  const phone = fc
    .tuple(fc.stringMatching(/^[1-9]\d{0,2}$/), fc.stringMatching(/^\d{6,12}$/), fc.boolean())
    .filter(([cc, rest]) => cc.length + rest.length <= 15)
    .map(([cc, rest, spaced]) => `+${cc}${spaced ? ' ' : ''}${rest}`);

  it('never redacts UUIDs, hex ids, job ids, timestamps or E.164 numbers, alone or in a log line', () => {
    expect(redactCardNumbers('job 1b4e28ba-2fa1-41d2-4242-424242424242 done')).toBe(
      'job 1b4e28ba-2fa1-41d2-4242-424242424242 done',
    );
    expect(redactCardNumbers('at 2026-12-30 01:02:03.123456+00')).toBe('at 2026-12-30 01:02:03.123456+00');
    fc.assert(
      fc.property(
        fc.oneof(uuid, hexId, timestamp, phone),
        fc.oneof(uuid, hexId, timestamp, phone),
        (a, b) => {
          for (const text of [a, `job ${a} started at ${b}`, `${a} ${b}`, `{"id":"${a}","at":"${b}"}`])
            expect(redactCardNumbers(text), text).toBe(text);
        },
      ),
      { seed: 1157, numRuns: 2000 },
    );
  });

  it('leaves text without card numbers as the same string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        // No run of 13 or more digits can form without digits.
        const noDigits = text.replace(/\p{Nd}/gu, '');
        expect(redactCardNumbers(noDigits)).toBe(noDigits);
      }),
      RUNS,
    );
  });

  it('computes check digits the way issuers do', () => {
    expect(withCheckDigit('424242424242424')).toBe('4242424242424242');
  });
});
