// The daily app's own SMS commands, beyond the platform's STOP / START / HELP:
//   TIME 9-11      move the window to 09:00-11:00 local (also TIME 9:30-11, TIME 13-17)
//   PAUSE 7        no messages for the next 7 days (1-365; PAUSE alone is 7)

export type DailyCommand =
  | { kind: 'time'; startMinute: number; endMinute: number }
  | { kind: 'pause'; days: number }
  | { kind: 'invalid'; command: 'time' | 'pause'; reason: string }
  | null;

const clean = (body: string) => body.normalize('NFKC').trim().replace(/\s+/g, ' ').toUpperCase();

function clock(text: string): number | null {
  const match = /^(\d{1,2})(?::(\d{2}))?$/.exec(text);
  if (!match) return null;
  const hour = Number(match[1]);
  const minute = Number(match[2] ?? 0);
  if (hour > 24 || minute > 59 || (hour === 24 && minute > 0)) return null;
  return hour * 60 + minute;
}

export function parseDailyCommand(body: string): DailyCommand {
  const text = clean(body).replace(/[.!]+$/, '');
  const time = /^TIME\b\s*(.*)$/.exec(text);
  if (time) {
    const range = /^(\d{1,2}(?::\d{2})?)\s*(?:-|TO)\s*(\d{1,2}(?::\d{2})?)$/.exec(time[1] ?? '');
    const start = range ? clock(range[1] ?? '') : null;
    const end = range ? clock(range[2] ?? '') : null;
    if (start === null || end === null)
      return { kind: 'invalid', command: 'time', reason: 'Send TIME and a range of hours, e.g. TIME 9-11.' };
    if (end - start < 60)
      return {
        kind: 'invalid',
        command: 'time',
        reason: 'The window must be at least an hour, e.g. TIME 9-11.',
      };
    return { kind: 'time', startMinute: start, endMinute: end };
  }
  const pause = /^PAUSE\b\s*(.*)$/.exec(text);
  if (pause) {
    const rest = (pause[1] ?? '').replace(/\s*DAYS?$/, '');
    if (rest === '') return { kind: 'pause', days: 7 };
    const days = /^\d{1,3}$/.test(rest) ? Number(rest) : Number.NaN;
    if (!Number.isInteger(days) || days < 1 || days > 365)
      return {
        kind: 'invalid',
        command: 'pause',
        reason: 'Send PAUSE and a number of days from 1 to 365, e.g. PAUSE 7.',
      };
    return { kind: 'pause', days };
  }
  return null;
}

export const formatClock = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
