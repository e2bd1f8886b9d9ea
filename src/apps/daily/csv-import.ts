// Reads subscribers from a CSV file (header row first): phone, and optionally time_zone, window,
// name, language. Each row is checked on its own and reported by its line number, so a bad row is
// skipped with its reasons while the rest are imported.
import { type RowProblem, readCsvRecords } from '../../platform/cli/app-command.ts';
import { type NewSubscriber, newSubscriber, resolveSubscriber } from './subscriber-input.ts';
import type { SubscriberDefaults } from './subscribers.ts';

const COLUMNS: Record<string, keyof NewSubscriber> = {
  phone: 'phone',
  time_zone: 'timeZone',
  timezone: 'timeZone',
  window: 'window',
  name: 'name',
  language: 'language',
};

export function parseSubscriberCsv(
  text: string,
  defaults: SubscriberDefaults,
): { subscribers: Array<{ line: number; subscriber: NewSubscriber }>; problems: RowProblem[] } {
  const { records, problems } = readCsvRecords(text, (header) => {
    const unknown = header.filter((name) => !(name in COLUMNS));
    return unknown.length || !header.includes('phone')
      ? `the header must name phone and may name time_zone, window, name, language${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`
      : null;
  });

  const subscribers: Array<{ line: number; subscriber: NewSubscriber }> = [];
  for (const { record, line } of records) {
    const raw: Record<string, string> = {};
    for (const [column, value] of Object.entries(record)) {
      const key = Object.hasOwn(COLUMNS, column) ? COLUMNS[column] : undefined;
      if (key && value !== '') raw[key] = value;
    }
    const parsed = newSubscriber.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push({ line, field: issue.path.join('.') || '(row)', reason: issue.message });
      continue;
    }
    const resolved = resolveSubscriber(parsed.data, defaults);
    if (!resolved.ok) {
      for (const detail of resolved.details)
        problems.push({ line, field: detail.field ?? '(row)', reason: detail.message });
      continue;
    }
    subscribers.push({ line, subscriber: parsed.data });
  }
  return { subscribers, problems };
}
