// The pieces of "one owner per claim" on their own: a lease that cannot be renewed is lost before
// the database would let anyone else take the row, and a pacing wait stops when its job aborts.
import { describe, expect, it } from 'vitest';
import { createLeaseKeeper } from '../src/platform/channels/outbox/lease.ts';
import { createPacer } from '../src/platform/channels/pacing.ts';
import type { Database } from '../src/platform/db/database.ts';
import { captureLogs } from './helpers/logs.ts';
import { waitFor } from './helpers/wait.ts';

describe('lease keeper', () => {
  it('keeps a lease the database renews, and loses one it does not', async () => {
    const renewed: string[][] = [];
    let answer: 'keep' | 'drop' | 'fail' = 'keep';
    const db = {
      async query<Row>(_text: string, params: unknown[] = []) {
        const ids = params[0] as string[];
        renewed.push(ids);
        if (answer === 'fail') throw new Error('Connection terminated unexpectedly');
        return (answer === 'keep' ? ids.map((id) => ({ attempt_id: id })) : []) as Row[];
      },
    } as Pick<Database, 'query'>;
    let clock = 1_000_000;
    const keeper = createLeaseKeeper({ db, leaseMs: 600, log: captureLogs('warn').log, now: () => clock });
    const hold = keeper.hold('a1', clock) as NonNullable<ReturnType<typeof keeper.hold>>;
    expect(hold.valid()).toBe(true);
    // Two jobs for one row in one batch get the same claim: only the first may run it.
    expect(keeper.hold('a1', clock)).toBeNull();
    await waitFor('a renewal', () => renewed.length > 1);
    expect(hold.valid()).toBe(true);

    // The database cannot be reached: the lease runs out on this process's clock first.
    answer = 'fail';
    clock += 10_000;
    expect(hold.valid()).toBe(false);
    await waitFor('the lease to be given up', () => hold.signal.aborted);

    // Another attempt took the row: the renewal returns nothing for it.
    answer = 'drop';
    const other = keeper.hold('a2', clock) as NonNullable<ReturnType<typeof keeper.hold>>;
    await waitFor('the taken lease to be given up', () => other.signal.aborted);
    expect(String(other.signal.reason)).toMatch(/claimed by another attempt|settled/);
    expect(keeper.size).toBe(0);
    // Nor may it run again once dropped or lost.
    expect(keeper.hold('a2', clock)).toBeNull();
  });
});

describe('send pacing', () => {
  const memoryDb = { pool: null } as unknown as Database;

  it('a wait whose signal aborts leaves the queue at once', async () => {
    const pacer = createPacer({ perSecond: 1, db: memoryDb, redis: null });
    const first = pacer.take('+15005550006', 1);
    const controller = new AbortController();
    const second = pacer.take('+15005550006', 1, controller.signal);
    const third = pacer.take('+15005550006', 1);
    const events: string[] = [];
    second.catch(() => events.push('second aborted'));
    void third.then(() => events.push('third went'));
    await first;
    controller.abort(new Error('job expired'));
    await expect(second).rejects.toThrow('job expired');
    await third;
    // The wait ended on the abort, before its turn came, and the next request took that turn.
    expect(events).toEqual(['second aborted', 'third went']);
  });
});
