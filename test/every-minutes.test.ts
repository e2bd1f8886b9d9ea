// "Every N minutes" stored as cron where cron can say it: pg-boss's own reading of the stored
// expression must give the occurrences its reading of the recurrence rule gives, for every interval
// the configuration accepts (REVIEW_NOTIFICATION_INTERVAL, CREDITS_POLL_INTERVAL_MINUTES: 1-1440).
import fc from 'fast-check';
import { PgBoss } from 'pg-boss';
import { describe, expect, it } from 'vitest';
import { everyMinutes } from '../src/platform/jobs/every-minutes.ts';

// Never started: previewSchedule is pg-boss's schedule arithmetic and needs no database.
const boss = new PgBoss({ connectionString: 'postgres://unused.invalid/none' });
const rule = (minutes: number) => `FREQ=MINUTELY;INTERVAL=${minutes}`;
const preview = (expression: string, from: Date, count: number) =>
  boss.previewSchedule(expression, { from, count, tz: 'UTC' }).map((d) => d.toISOString());

describe('every N minutes', () => {
  it('names the occurrences the recurrence rule names, for every interval from 1 to 1440', () => {
    const from = new Date('2026-12-02T01:23:45.678Z');
    let asCron = 0;
    for (let minutes = 1; minutes <= 1440; minutes++) {
      const expression = everyMinutes(minutes);
      if (expression === rule(minutes)) continue;
      asCron++;
      expect(preview(expression, from, 6), `${minutes}: ${expression}`).toEqual(
        preview(rule(minutes), from, 6),
      );
    }
    // Each divisor of an hour, and each whole number of hours dividing a day.
    expect(asCron).toBe(11 + 8);
  });

  it('agrees from any moment, across days, months and years', () => {
    const cronable = Array.from({ length: 1440 }, (_, i) => i + 1).filter((m) => everyMinutes(m) !== rule(m));
    fc.assert(
      fc.property(
        fc.constantFrom(...cronable),
        fc.date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2100-01-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        (minutes, from) => {
          expect(preview(everyMinutes(minutes), from, 4)).toEqual(preview(rule(minutes), from, 4));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a rule for what cron cannot say, and refuses what is not a whole number of minutes', () => {
    expect(everyMinutes(30)).toBe('*/30 * * * *');
    expect(everyMinutes(45)).toBe('FREQ=MINUTELY;INTERVAL=45');
    expect(everyMinutes(90)).toBe('FREQ=MINUTELY;INTERVAL=90');
    expect(everyMinutes(1440)).toBe('0 0 * * *');
    for (const bad of [0, -5, 2.5, Number.NaN]) expect(() => everyMinutes(bad)).toThrow(RangeError);
  });
});
