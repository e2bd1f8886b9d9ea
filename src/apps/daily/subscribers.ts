// Subscriber changes as plain functions, shared by the API, the CSV import and SMS commands.
import type { Database } from '../../platform/db/database.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError, type ErrorDetail, notFound } from '../../platform/errors.ts';
import type { SubscriberRow } from './schema.ts';
import {
  deleteSubscriber,
  getSubscriber,
  type ListedSubscriber,
  listSubscribers,
  updateSubscriber,
  upsertSubscribers,
} from './store.ts';
import {
  type NewSubscriber,
  resolveSubscriber,
  resolveWindow,
  resolveZone,
  type SubscriberUpdate,
  type SubscriberValues,
} from './subscriber-input.ts';

export interface SubscriberDefaults {
  window: { startMinute: number; endMinute: number };
  defaultRegion: string | undefined;
}

/** All or nothing: any invalid entry refuses the whole request, naming each entry's fields. */
export async function addSubscribers(
  db: Database,
  inputs: NewSubscriber[],
  defaults: SubscriberDefaults,
  prefix: (index: number) => string,
) {
  const details: ErrorDetail[] = [];
  const values: SubscriberValues[] = [];
  inputs.forEach((input, index) => {
    const resolved = resolveSubscriber(input, defaults);
    if (resolved.ok) values.push(resolved.value);
    else for (const d of resolved.details) details.push({ ...d, field: `${prefix(index)}${d.field ?? ''}` });
  });
  if (details.length) throw new AppError('invalid_input', 'Some subscribers are not valid', { details });
  return withTransaction(db, (tx) => upsertSubscribers(tx, values));
}

export async function changeSubscriber(
  db: Database,
  id: string,
  update: SubscriberUpdate,
): Promise<SubscriberRow> {
  const details: ErrorDetail[] = [];
  const set: Parameters<typeof updateSubscriber>[2] = {};
  if (update.timeZone !== undefined) {
    const zone = resolveZone(update.timeZone);
    if (zone.ok) set.timeZone = zone.value;
    else details.push(...zone.details);
  }
  if (update.window !== undefined) {
    const window = resolveWindow(update.window);
    if (window.ok) Object.assign(set, window.value);
    else details.push(...window.details);
  }
  if (details.length)
    throw new AppError('invalid_input', 'Invalid subscriber change', {
      details: details.map((d) => ({ ...d, field: `body.${d.field}` })),
    });
  if (update.paused !== undefined) {
    set.paused = update.paused;
    // Resuming also lifts a PAUSE <days> sent by SMS.
    if (!update.paused) set.pausedUntil = null;
  }
  if (update.name !== undefined) set.name = update.name;
  const row = await updateSubscriber(db.orm, id, set);
  if (!row) throw notFound(`Subscriber ${id}`);
  return row;
}

export async function removeSubscriber(db: Database, id: string): Promise<void> {
  if (!(await getSubscriber(db.orm, id))) throw notFound(`Subscriber ${id}`);
  await deleteSubscriber(db.orm, id);
}

const clock = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/** Rows just written, read back with their opt-out state (in the same order). */
export async function withOptOut(db: Database, rows: SubscriberRow[]): Promise<ListedSubscriber[]> {
  const listed = new Map<string, ListedSubscriber>();
  for (let i = 0; i < rows.length; i += 1000) {
    const ids = rows.slice(i, i + 1000).map((r) => r.id);
    for (const row of await listSubscribers(db.orm, { ids, limit: ids.length })) listed.set(row.id, row);
  }
  return rows.map((r) => listed.get(r.id) ?? { ...r, optedOutAt: null, optOutReason: null });
}

/**
 * The API's view of a subscriber. `optedOut` is the suppression list's word: a person who texted
 * STOP stays subscribed here (their window and zone are kept for a START) but gets nothing.
 */
export const presentSubscriber = (row: ListedSubscriber) => ({
  id: row.id,
  phone: row.phone,
  name: row.name,
  timeZone: row.timeZone,
  window: `${clock(row.windowStart)}-${clock(row.windowEnd)}`,
  language: row.language,
  paused: row.paused,
  pausedUntil: row.pausedUntil,
  optedOut: row.optedOutAt !== null,
  optedOutAt: row.optedOutAt,
  optOutReason: row.optOutReason,
  createdAt: row.createdAt,
});
