import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseKeyword } from '../src/platform/channels/sms/keywords.ts';
import { normalizePhone } from '../src/platform/channels/sms/phone.ts';
import { isValidZone, nextSendTime, parseWindow } from '../src/platform/channels/sms/quiet-hours.ts';
import { countSegments, fitToSegments } from '../src/platform/channels/sms/segments.ts';

describe('segment counting', () => {
  it('counts GSM-7: 160 in one segment, 153 per segment after', () => {
    expect(countSegments('a'.repeat(160))).toMatchObject({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(countSegments('a'.repeat(161))).toMatchObject({ encoding: 'GSM-7', segments: 2 });
    expect(countSegments('a'.repeat(306)).segments).toBe(2);
    expect(countSegments('a'.repeat(307)).segments).toBe(3);
    expect(countSegments('').segments).toBe(0);
  });

  it('counts GSM extension characters as two septets', () => {
    expect(countSegments('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(countSegments(`${'€'.repeat(80)}a`)).toMatchObject({ units: 161, segments: 2 });
    expect(countSegments('{[]}').units).toBe(8);
  });

  it('keeps accented letters that GSM-7 has in GSM-7, and switches to UCS-2 for the others', () => {
    expect(countSegments('Café à Málaga? Ñandú ü').encoding).toBe('UCS-2'); // á and ú are not GSM-7
    expect(countSegments('Une crêpe, merci').encoding).toBe('UCS-2'); // ê is not GSM-7
    expect(countSegments('Café é è ù ì ò Ä Ö Ü ß ñ').encoding).toBe('GSM-7');
    expect(countSegments('ç'.repeat(70))).toMatchObject({ encoding: 'UCS-2', segments: 1 }); // lowercase ç is not GSM-7
    expect(countSegments('ç'.repeat(71)).segments).toBe(2);
    expect(countSegments('ç'.repeat(134)).segments).toBe(2);
    expect(countSegments('ç'.repeat(135)).segments).toBe(3);
  });

  it('counts emoji as two UTF-16 units', () => {
    expect(countSegments('😀'.repeat(35))).toMatchObject({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(countSegments(`${'😀'.repeat(35)}a`).segments).toBe(2);
  });
});

describe('fitting a text to a segment budget', () => {
  it('leaves a text that fits alone', () => {
    expect(fitToSegments('Hello there', 1)).toEqual({ text: 'Hello there', truncated: false });
  });

  it('shortens at a word boundary with an ellipsis', () => {
    const long = 'Invoice INV-1 from Acme needs review: '.padEnd(200, 'word ');
    const { text, truncated } = fitToSegments(long, 1);
    expect(truncated).toBe(true);
    expect(countSegments(text).segments).toBe(1);
    expect(text.endsWith('...')).toBe(true);
    expect(text.slice(0, -3)).not.toMatch(/\s$/);
    expect(long.startsWith(text.slice(0, -3))).toBe(true);
    expect(long[text.length - 3]).toMatch(/\s/); // the cut falls between words
  });

  it('never splits an emoji or other surrogate pair', () => {
    const { text } = fitToSegments(`${'🎉'.repeat(60)} done`, 1);
    expect(countSegments(text).segments).toBe(1);
    expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no lone high surrogate
    expect(text.endsWith('…')).toBe(true);
  });

  it('respects multi-segment budgets', () => {
    const { text } = fitToSegments('lorem ipsum '.repeat(60), 2);
    expect(countSegments(text).segments).toBe(2);
  });
});

describe('phone numbers', () => {
  it('normalises to E.164', () => {
    expect(normalizePhone('+1 (415) 555-2671')).toMatchObject({
      ok: true,
      e164: '+14155552671',
      country: 'US',
    });
    expect(normalizePhone('020 7946 0958', 'GB')).toMatchObject({ ok: true, e164: '+442079460958' });
  });

  it('refuses what is not a valid number, with the reason', () => {
    expect(normalizePhone('415 555 2671')).toEqual({
      ok: false,
      reason: expect.stringContaining('no country code'),
    });
    expect(normalizePhone('+1 555')).toMatchObject({ ok: false });
    expect(normalizePhone('hello')).toMatchObject({ ok: false });
    expect(normalizePhone('')).toEqual({ ok: false, reason: 'the phone number is empty' });
  });
});

describe('keywords', () => {
  it.each([
    ['STOP', 'opt_out'],
    ['  stop  ', 'opt_out'],
    ['Stop.', 'opt_out'],
    ['unsubscribe!', 'opt_out'],
    ['StopAll', 'opt_out'],
    ['end', 'opt_out'],
    ['QUIT', 'opt_out'],
    ['revoke', 'opt_out'],
    ['optout', 'opt_out'],
    ['cancel', 'opt_out'],
    ['start', 'opt_in'],
    ['Yes', 'opt_in'],
    ['unstop', 'opt_in'],
    ['help?', 'help'],
    ['INFO', 'help'],
  ])('%j is %s', (body, kind) => {
    expect(parseKeyword(body)?.kind).toBe(kind);
  });

  it.each(['stop it', 'please stop', 'STOPP', 'yes please', '', '🛑'])('%j is not a keyword', (body) => {
    expect(parseKeyword(body)).toBeNull();
  });
});

describe('quiet hours', () => {
  const window = parseWindow('08:00-21:00');

  it('sends at once inside the window', () => {
    const due = new Date('2026-07-01T15:00:00Z'); // 11:00 in New York
    expect(nextSendTime(due, 'America/New_York', window)).toEqual(due);
  });

  it('holds a late-evening message until 08:00 local the next day', () => {
    const due = new Date('2026-07-02T02:30:00Z'); // 22:30 on 1 July in New York
    expect(nextSendTime(due, 'America/New_York', window).toISOString()).toBe('2026-07-02T12:00:00.000Z');
  });

  it('holds an early message until 08:00 the same day', () => {
    const due = new Date('2026-07-01T05:00:00Z'); // 07:00 in London (BST)
    expect(nextSendTime(due, 'Europe/London', window).toISOString()).toBe('2026-07-01T07:00:00.000Z');
  });

  it('follows local time across the spring-forward change', () => {
    // US DST starts 2026-03-08 at 02:00. A message due 23:00 EST on the 7th waits for 08:00 EDT.
    const due = new Date('2026-03-08T04:00:00Z');
    expect(nextSendTime(due, 'America/New_York', window).toISOString()).toBe('2026-03-08T12:00:00.000Z');
  });

  it('follows local time across the fall-back change', () => {
    // US DST ends 2026-11-01 at 02:00. A message due 23:00 EDT on 31 Oct waits for 08:00 EST.
    const due = new Date('2026-11-01T03:00:00Z');
    expect(nextSendTime(due, 'America/New_York', window).toISOString()).toBe('2026-11-01T13:00:00.000Z');
  });

  it('opens a window that starts inside the skipped hour at the first real instant', () => {
    const early = parseWindow('02:30-05:00');
    const due = new Date('2026-03-08T06:00:00Z'); // 01:00 EST, window would open at 02:30 which does not exist
    const opens = nextSendTime(due, 'America/New_York', early);
    expect(opens.getTime()).toBeGreaterThan(due.getTime());
    expect(opens.toISOString()).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
  });

  it('rejects malformed windows', () => {
    expect(() => parseWindow('21:00-08:00')).toThrow(/open before it closes/);
    expect(() => parseWindow('8am-9pm')).toThrow(/not a window/);
  });
});

describe('time zone names', () => {
  // What luxon says of a zone: the answer isValidZone gave before its list of ICU's names.
  const luxonKnows = (zone: string) => DateTime.local().setZone(zone).isValid;

  it('answers as luxon does for every zone ICU lists, aliases, other spellings, offsets and typos', () => {
    const named = [
      ...Intl.supportedValuesOf('timeZone'),
      ...['UTC', 'utc', 'GMT', 'Etc/UTC', 'US/Eastern', 'Asia/Calcutta', 'Europe/Kiev', 'america/new_york'],
      ...['UTC+3', 'UTC-05:30', 'local', 'system', 'Mars/Olympus', 'America/New York', '', ' UTC'],
    ];
    expect(named.filter((zone) => isValidZone(zone) !== luxonKnows(zone))).toEqual([]);
    expect(isValidZone('UTC') && isValidZone('America/New_York') && isValidZone('US/Eastern')).toBe(true);
    expect(isValidZone('Mars/Olympus') || isValidZone('America/New York')).toBe(false);
  });

  it('answers as luxon does for any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom(...Intl.supportedValuesOf('timeZone'))), (zone) => {
        expect(isValidZone(zone)).toBe(luxonKnows(zone));
      }),
      { numRuns: 500 },
    );
  });
});
