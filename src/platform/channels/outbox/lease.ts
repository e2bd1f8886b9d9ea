// Leases: a row in `sending` belongs to one attempt (its `attempt_id`) until `lease_expires_at`.
// While an attempt runs, this process renews the leases of all its attempts in one statement every
// third of the lease. An attempt whose renewal finds the row taken, or that could not renew before
// its own deadline (the database went away), loses the lease: its signal aborts, and `valid()` says
// no, so it never sends. Only after the lease has run out at the database can another attempt claim
// the row (claimMany), so at most one attempt can be about to send a message at any moment.
//
// Clocks: the database stamps `now() + lease` when a renewal runs; this process counts its own
// deadline from just before it asked, less a margin. Its deadline therefore falls before the
// database's, whatever offset the two clocks have.
import type { Database } from '../../db/database.ts';
import type { Logger } from '../../log.ts';

export interface LeaseHold {
  /** Aborted when the lease is lost (taken, or not renewed in time). */
  readonly signal: AbortSignal;
  /** Whether the attempt may still act on the row: checked again right before a send. */
  valid(): boolean;
  /** The attempt is over (sent, settled or handed back): stop renewing its lease. */
  drop(): void;
}

export interface LeaseKeeper {
  /**
   * Starts keeping the lease of an attempt that has just claimed its row at `claimedAt` (local ms).
   * Null when this process already runs that attempt: two jobs for one row fetched in one batch
   * share one claim, and only the first may act on it.
   */
  hold(attemptId: string, claimedAt: number): LeaseHold | null;
  /** Attempts this process holds now (for tests and metrics). */
  readonly size: number;
}

interface Held {
  deadline: number;
  controller: AbortController;
}

export function createLeaseKeeper(deps: {
  db: Pick<Database, 'query'>;
  leaseMs: number;
  log: Logger;
  now?: () => number;
}): LeaseKeeper {
  const now = deps.now ?? Date.now;
  const margin = Math.max(500, Math.floor(deps.leaseMs / 6));
  const held = new Map<string, Held>();
  // Attempts handed to a delivery already (also those whose lease was since lost), remembered for a
  // minute or two: far longer than a fetched batch lives, in two generations instead of a timer each.
  let taken = new Set<string>();
  let takenBefore = new Set<string>();
  let rotatedAt = now();
  const alreadyTaken = (attemptId: string) => {
    if (now() - rotatedAt > 60_000) {
      takenBefore = taken;
      taken = new Set();
      rotatedAt = now();
    }
    return taken.has(attemptId) || takenBefore.has(attemptId);
  };
  let timer: NodeJS.Timeout | null = null;
  let renewing = false;

  const lose = (attemptId: string, reason: string) => {
    const entry = held.get(attemptId);
    if (!entry) return;
    held.delete(attemptId);
    entry.controller.abort(new LeaseLostError(reason));
  };

  const renew = async () => {
    if (renewing || held.size === 0) return;
    renewing = true;
    const asked = now();
    const ids = [...held.keys()];
    try {
      const kept = await deps.db.query<{ attempt_id: string }>(
        `update outbox_messages set lease_expires_at = now() + make_interval(secs => $2)
          where attempt_id = any($1::uuid[]) and status = 'sending'
          returning attempt_id`,
        [ids, deps.leaseMs / 1000],
        'outbox_renew_leases',
      );
      const still = new Set(kept.map((row) => row.attempt_id));
      for (const id of ids) {
        const entry = held.get(id);
        if (!entry) continue;
        if (still.has(id)) entry.deadline = asked + deps.leaseMs - margin;
        else lose(id, 'the row was settled or claimed by another attempt');
      }
    } catch (error) {
      deps.log.warn({ err: error, attempts: ids.length }, 'could not renew outbox leases; retrying');
    } finally {
      renewing = false;
    }
    for (const [id, entry] of held) if (now() >= entry.deadline) lose(id, 'the lease could not be renewed');
    if (held.size === 0) stop();
  };

  const start = () => {
    if (timer) return;
    timer = setInterval(() => void renew(), Math.max(200, Math.floor(deps.leaseMs / 3)));
    timer.unref();
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };

  return {
    get size() {
      return held.size;
    },
    hold(attemptId, claimedAt) {
      if (held.has(attemptId) || alreadyTaken(attemptId)) return null;
      taken.add(attemptId);
      const entry: Held = { deadline: claimedAt + deps.leaseMs - margin, controller: new AbortController() };
      held.set(attemptId, entry);
      start();
      return {
        signal: entry.controller.signal,
        valid: () => held.get(attemptId) === entry && now() < entry.deadline,
        drop: () => {
          if (held.get(attemptId) === entry) held.delete(attemptId);
          if (held.size === 0) stop();
        },
      };
    },
  };
}

export class LeaseLostError extends Error {
  constructor(reason: string) {
    super(`send attempt lost its lease: ${reason}`);
    this.name = 'LeaseLostError';
  }
}
