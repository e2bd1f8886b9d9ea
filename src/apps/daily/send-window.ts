// Where a subscriber's window falls in real time on a local date, with DST handled by luxon: a
// window edge on a skipped hour (02:30 on a spring-forward day) resolves to the instant clocks jump
// to, and one on a repeated hour to one of its two real instants. The send time is then drawn
// uniformly between the two instants, so it is always a real moment inside the local window: never a
// local time that does not exist, and never one of a repeated hour's two instants by mistake.
import { DateTime } from 'luxon';

export interface WindowInstants {
  localDate: string;
  start: Date;
  end: Date;
}

const at = (localDate: string, zone: string, minute: number) => {
  const day = DateTime.fromISO(localDate, { zone });
  // 24:00 is the next day's midnight.
  if (minute === 1440) return day.plus({ days: 1 }).startOf('day');
  return day.set({ hour: Math.floor(minute / 60), minute: minute % 60, second: 0, millisecond: 0 });
};

export function windowOn(
  localDate: string,
  zone: string,
  startMinute: number,
  endMinute: number,
): WindowInstants {
  const start = at(localDate, zone, startMinute);
  const end = at(localDate, zone, endMinute);
  if (!start.isValid || !end.isValid) throw new Error(`cannot place ${localDate} in ${zone}`);
  return { localDate, start: start.toJSDate(), end: end.toJSDate() };
}

/** A window that closes within a minute of `now` is over: too late to plan a send into it. */
export const isOver = (window: WindowInstants, now: Date) => window.end.getTime() <= now.getTime() + 60_000;

/**
 * The local date to plan for at `now`: today while today's window has not closed, else tomorrow.
 * Returned with that date's window in real time.
 */
export function nextWindow(now: Date, zone: string, startMinute: number, endMinute: number): WindowInstants {
  const today = DateTime.fromJSDate(now, { zone }).toISODate() as string;
  const window = windowOn(today, zone, startMinute, endMinute);
  if (!isOver(window, now)) return window;
  const tomorrow = DateTime.fromISO(today, { zone }).plus({ days: 1 }).toISODate() as string;
  return windowOn(tomorrow, zone, startMinute, endMinute);
}

/** A uniformly random instant in what is left of the window after `now`, to the second. */
export function pickSendTime(window: WindowInstants, now: Date, random: () => number = Math.random): Date {
  const from = Math.max(window.start.getTime(), now.getTime());
  const span = window.end.getTime() - from;
  return new Date(from + Math.floor((random() * span) / 1000) * 1000);
}

export const localDateOf = (at: Date, zone: string) =>
  DateTime.fromJSDate(at, { zone }).toISODate() as string;
