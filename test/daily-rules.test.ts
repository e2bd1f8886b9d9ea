import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseDailyCommand } from '../src/apps/daily/commands.ts';
import { offlineMessage, subscriberSequence } from '../src/apps/daily/content.ts';
import {
  CLOSERS,
  LIBRARY_CYCLE,
  libraryMessage,
  MIDDLES,
  OPENERS,
} from '../src/apps/daily/offline-library.ts';
import { nextWindow, pickSendTime, windowOn } from '../src/apps/daily/send-window.ts';
import { fingerprint, isRepeat, similarity } from '../src/apps/daily/similarity.ts';
import { canonicalZone } from '../src/apps/daily/zones.ts';
import { countSegments, isGsm7 } from '../src/platform/channels/sms/segments.ts';

const local = (at: Date, zone: string) => DateTime.fromJSDate(at, { zone });

describe('daily SMS commands', () => {
  it('parses TIME and PAUSE, and explains bad ones', () => {
    expect(parseDailyCommand('TIME 9-11')).toEqual({ kind: 'time', startMinute: 540, endMinute: 660 });
    expect(parseDailyCommand(' time 9:30 - 11 ')).toEqual({ kind: 'time', startMinute: 570, endMinute: 660 });
    expect(parseDailyCommand('Time 13 to 17.')).toEqual({ kind: 'time', startMinute: 780, endMinute: 1020 });
    expect(parseDailyCommand('PAUSE 7')).toEqual({ kind: 'pause', days: 7 });
    expect(parseDailyCommand('pause')).toEqual({ kind: 'pause', days: 7 });
    expect(parseDailyCommand('PAUSE 3 days')).toEqual({ kind: 'pause', days: 3 });
    expect(parseDailyCommand('TIME 11-9')).toMatchObject({ kind: 'invalid', command: 'time' });
    expect(parseDailyCommand('TIME 25-26')).toMatchObject({ kind: 'invalid', command: 'time' });
    expect(parseDailyCommand('TIME soon')).toMatchObject({ kind: 'invalid', command: 'time' });
    expect(parseDailyCommand('PAUSE 0')).toMatchObject({ kind: 'invalid', command: 'pause' });
    expect(parseDailyCommand('PAUSE 400')).toMatchObject({ kind: 'invalid', command: 'pause' });
    expect(parseDailyCommand('thanks, lovely message')).toBeNull();
    expect(parseDailyCommand('STOP')).toBeNull();
    expect(parseDailyCommand('TIMELY')).toBeNull();
  });
});

describe('send windows across zones and DST', () => {
  const draws = [0, 0.25, 0.5, 0.999999];
  const inside = (at: Date, zone: string, start: number, end: number) => {
    const t = local(at, zone);
    const minute = t.hour * 60 + t.minute;
    return minute >= start && minute < end;
  };

  it('New York spring forward: a 01:00-04:00 window is two real hours, no 02:xx is ever picked', () => {
    const w = windowOn('2026-03-08', 'America/New_York', 60, 240);
    expect(w.start.toISOString()).toBe('2026-03-08T06:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-03-08T08:00:00.000Z');
    for (let i = 0; i < 500; i += 1) {
      const at = pickSendTime(w, new Date('2026-03-01T00:00:00Z'), () => i / 500);
      const t = local(at, 'America/New_York');
      expect(t.hour).not.toBe(2);
      expect(inside(at, 'America/New_York', 60, 240)).toBe(true);
    }
  });

  it('New York fall back: a window over the repeated hour spans its real length (4 h for 00:00-03:00)', () => {
    const w = windowOn('2026-11-01', 'America/New_York', 0, 180);
    expect((w.end.getTime() - w.start.getTime()) / 3_600_000).toBe(4);
    for (const r of draws)
      expect(
        inside(
          pickSendTime(w, new Date(0), () => r),
          'America/New_York',
          0,
          180,
        ),
      ).toBe(true);
  });

  it('a window edge in the skipped hour resolves to when clocks jump (02:30 -> 03:30 EDT)', () => {
    const w = windowOn('2026-03-08', 'America/New_York', 150, 300);
    expect(local(w.start, 'America/New_York').toFormat('HH:mm')).toBe('03:30');
    expect(w.start.toISOString()).toBe('2026-03-08T07:30:00.000Z');
  });

  it('London and Lord Howe (half-hour DST) keep 12:00-17:00 local on their change days', () => {
    for (const [zone, date] of [
      ['Europe/London', '2026-03-29'],
      ['Europe/London', '2026-10-25'],
      ['Australia/Lord_Howe', '2026-04-05'],
      ['Australia/Lord_Howe', '2026-10-04'],
      ['Asia/Kolkata', '2026-06-01'],
      ['Pacific/Kiritimati', '2026-06-01'],
    ] as const) {
      const w = windowOn(date, zone, 720, 1020);
      expect(local(w.start, zone).toFormat('yyyy-MM-dd HH:mm')).toBe(`${date} 12:00`);
      expect(local(w.end, zone).toFormat('HH:mm')).toBe('17:00');
      for (const r of draws)
        expect(
          inside(
            pickSendTime(w, new Date(0), () => r),
            zone,
            720,
            1020,
          ),
        ).toBe(true);
    }
    // Lord Howe moves by 30 minutes: the window is still exactly five hours.
    const lh = windowOn('2026-04-05', 'Australia/Lord_Howe', 60, 240);
    expect((lh.end.getTime() - lh.start.getTime()) / 60_000).toBe(210);
  });

  it('plans today while the window is open, tomorrow once it has closed; never before now', () => {
    const zone = 'Asia/Tokyo';
    const morning = new Date('2026-06-01T01:00:00Z'); // 10:00 in Tokyo
    expect(nextWindow(morning, zone, 720, 1020).localDate).toBe('2026-06-01');
    const during = new Date('2026-06-01T05:00:00Z'); // 14:00
    const w = nextWindow(during, zone, 720, 1020);
    expect(w.localDate).toBe('2026-06-01');
    expect(pickSendTime(w, during, () => 0).getTime()).toBeGreaterThanOrEqual(during.getTime());
    const evening = new Date('2026-06-01T09:00:00Z'); // 18:00
    expect(nextWindow(evening, zone, 720, 1020).localDate).toBe('2026-06-02');
    // Same instant, different zones, different local dates.
    expect(nextWindow(evening, 'America/Los_Angeles', 720, 1020).localDate).toBe('2026-06-01');
  });
});

describe('the offline library', () => {
  it('is plain GSM-7 and every combination fits one SMS segment', () => {
    for (const part of [...OPENERS, ...MIDDLES, ...CLOSERS]) expect(isGsm7(part), part).toBe(true);
    const longest = `${[...OPENERS].sort((a, b) => b.length - a.length)[0]} ${[...MIDDLES].sort((a, b) => b.length - a.length)[0]} ${[...CLOSERS].sort((a, b) => b.length - a.length)[0]}`;
    expect(countSegments(longest).segments).toBe(1);
    expect(LIBRARY_CYCLE).toBeGreaterThan(10_000);
  });

  it('gives one subscriber no exact or near repeat over a year of daily messages', () => {
    const next = subscriberSequence('5b0d4c8e-7c1a-4f7e-9a51-0c1f7f0e6b11', '2026-01-01');
    const year: string[] = [];
    for (let day = 0; day < 366; day += 1) {
      const text = libraryMessage(20_454 + day);
      expect(isRepeat(text, year), `day ${day}: ${text}`).toBe(false);
      year.push(text);
    }
    expect(new Set(year.map(fingerprint)).size).toBe(366);
    // Falling back for a subscriber with that history still finds a new one.
    const chosen = offlineMessage({ maxSegments: 1 }, year, next, 'test');
    expect(isRepeat(chosen.body, year)).toBe(false);
  });
});

describe('repeat detection and zones', () => {
  it('treats case, punctuation and rewording of most words as repeats', () => {
    const a = 'Small steps still move you forward, even on slow days.';
    expect(isRepeat('small steps still move you forward even on slow days!!', [a])).toBe(true);
    expect(isRepeat('Small steps still move you forward, even on the slow days.', [a])).toBe(true);
    expect(similarity(a, 'Rest is part of the work, not a break from it.')).toBeLessThan(0.2);
    expect(isRepeat('Rest is part of the work, not a break from it.', [a])).toBe(false);
  });

  it('accepts IANA zones and refuses the rest', () => {
    expect(canonicalZone('America/New_York')).toBe('America/New_York');
    expect(canonicalZone('europe/london')).toBe('Europe/London');
    expect(canonicalZone('UTC')).toBe('UTC');
    expect(canonicalZone('Mars/Olympus')).toBeNull();
    expect(canonicalZone('EST')).toBeNull();
    expect(canonicalZone('+05:00')).toBeNull();
  });
});
