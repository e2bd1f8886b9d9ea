// Quiet hours: a message due outside the recipient's local sending window is held until the window
// next opens. Computed in the recipient's IANA zone with luxon, so DST changes move the window
// with local time (a 08:00 start stays 08:00 local on the day the clocks change).
import { DateTime } from 'luxon';

export interface SendingWindow {
  /** Local time the window opens, minutes after midnight (08:00 = 480). */
  startMinute: number;
  /** Local time the window closes, minutes after midnight (21:00 = 1260); exclusive. */
  endMinute: number;
}

export const DEFAULT_WINDOW: SendingWindow = { startMinute: 8 * 60, endMinute: 21 * 60 };

/** Parses `HH:MM-HH:MM` (24-hour clock) into a window; throws with the reason when malformed. */
export function parseWindow(text: string): SendingWindow {
  const match = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a window like 08:00-21:00`);
  const [, h1, m1, h2, m2] = match.map(Number) as [number, number, number, number, number];
  if (h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59)
    throw new Error(`"${text}" has an hour or minute out of range`);
  const window = { startMinute: h1 * 60 + m1, endMinute: h2 * 60 + m2 };
  if (window.startMinute >= window.endMinute) throw new Error(`"${text}" must open before it closes`);
  return window;
}

/** `due` if it is inside the window in `zone`, else the next moment the window opens. */
export function nextSendTime(due: Date, zone: string, window: SendingWindow = DEFAULT_WINDOW): Date {
  const local = DateTime.fromJSDate(due, { zone });
  if (!local.isValid) throw new Error(`unknown time zone ${zone}`);
  const minute = local.hour * 60 + local.minute;
  if (minute >= window.startMinute && minute < window.endMinute) return due;
  const day = minute < window.startMinute ? local.startOf('day') : local.plus({ days: 1 }).startOf('day');
  // Set wall-clock hour and minute: luxon resolves a time skipped by DST forward to a real instant.
  const opens = day.set({ hour: Math.floor(window.startMinute / 60), minute: window.startMinute % 60 });
  return opens.toJSDate();
}

/** ICU's zones by their canonical names, listed without building a formatter, and UTC. */
let canonicalZones: Set<string> | undefined;

/**
 * Whether luxon (and so ICU) knows `zone`. UTC (the default) and ICU's canonical names are answered
 * from the list: luxon's first date resolves the system locale, about 20 ms of a worker's
 * configuration check. Anything else (an alias such as US/Eastern, another spelling, a fixed
 * offset) is answered by luxon, as before.
 */
export const isValidZone = (zone: string) => {
  canonicalZones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
  return canonicalZones.has(zone) || DateTime.local().setZone(zone).isValid;
};
