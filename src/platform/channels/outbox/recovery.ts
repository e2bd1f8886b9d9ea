// Finding the messages nobody is delivering and queuing them again. Two kinds, both found within a
// lease and a half with the defaults:
// - `sending` with a lapsed lease: the attempt's worker died, or lost the database;
// - `queued`, due and untouched for longer than a lease, although a delivery job exists for it:
//   a worker fetched the job and died before claiming the row, or the fetch's answer was lost with
//   a dropped connection. pg-boss counts such a job as active until JOBS_EXPIRE_SECONDS and fetches
//   no other job of the same key meanwhile (the queue is `stately`), so the new job gets a key of
//   its own: per lapsed attempt, or per row and ten-minute window for a queued row. A job too many
//   is harmless, since the claim decides who sends; the keys keep them to one per row and window.
import type { Database } from '../../db/database.ts';
import type { JobSystem } from '../../jobs/job-system.ts';
import { nextJobKey } from './deliver.ts';
import type { OutboxJobs } from './jobs.ts';
import { findLapsedLeases, findStaleQueued } from './store.ts';

/** How many rows of each kind one sweep takes; the next takes the rest. */
const SWEEP_LIMIT = 1000;
const STALE_WINDOW_SECONDS = 600;

export interface Recovered {
  lapsed: number;
  stale: number;
}

export async function recoverStranded(
  deps: { db: Database; jobs: JobSystem<OutboxJobs> },
  options: { leaseMs: number; now?: () => number },
): Promise<Recovered> {
  const lapsed = await findLapsedLeases(deps.db, SWEEP_LIMIT);
  const stale = await findStaleQueued(deps.db, options.leaseMs / 1000, SWEEP_LIMIT);
  const window = Math.floor((options.now?.() ?? Date.now()) / 1000 / STALE_WINDOW_SECONDS);
  const items = [
    ...lapsed.map(({ id, attemptId }) => ({ payload: { id }, singletonKey: nextJobKey({ id, attemptId }) })),
    ...stale.map((id) => ({ payload: { id }, singletonKey: `${id}:stale:${window}` })),
  ];
  // One statement; a key that already has its job is skipped by pg-boss.
  await deps.jobs.insert('outbox.deliver', items);
  return { lapsed: lapsed.length, stale: stale.length };
}
