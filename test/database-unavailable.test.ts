// PostgreSQL going away under a running service (a restart, a failover): what waits, what retries
// and what fails at once. Real faults: a TCP proxy in front of the test server refuses or drops
// connections, and the errors are the ones `pg` raises for them.
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/platform/db/database.ts';
import { isDatabaseUnavailable, retryWhileDatabaseUnavailable } from '../src/platform/db/unavailable.ts';
import { waitForDatabase } from '../src/platform/db/wait-for-database.ts';
import { createTestDatabase, TEST_DATABASE_URL } from './helpers/databases.ts';
import { captureLogs } from './helpers/logs.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxied(): Promise<{ db: Database; proxy: TcpProxy; logs: ReturnType<typeof captureLogs> }> {
  const target = await createTestDatabase('postgres');
  cleanups.push(() => target.drop());
  if (target.config.kind !== 'postgres') throw new Error('expected postgres');
  const url = new URL(target.config.url);
  const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  cleanups.push(() => proxy.close());
  url.host = `127.0.0.1:${proxy.port}`;
  const logs = captureLogs('info');
  const db = await openDatabase(
    { ...target.config, url: url.toString() },
    { log: logs.log, command: 'test' },
  );
  cleanups.push(() => db.close());
  return { db, proxy, logs };
}

const failure = (work: Promise<unknown>) =>
  work.then(
    () => null,
    (error: unknown) => error,
  );

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL unavailable', () => {
  it('a process started while the server is away waits for it, saying so, then goes on', async () => {
    const { db, proxy, logs } = await proxied();
    await proxy.refuse();
    const waiting = waitForDatabase(db, { limitMs: 60_000, log: logs.log });
    // Wait for the first failed try (the condition), then bring the server back.
    await expect.poll(() => logs.text(), { timeout: 20_000 }).toContain('database unreachable; retrying');
    await proxy.restore();
    await waiting;
    expect(logs.text()).toContain('database reachable; starting');
    expect((await db.query<{ one: number }>('select 1 as one'))[0]?.one).toBe(1);
  });

  it('gives up after DATABASE_CONNECT_RETRY_SECONDS with the connection error', async () => {
    const { db, proxy, logs } = await proxied();
    await proxy.refuse();
    const error = await failure(waitForDatabase(db, { limitMs: 0, log: logs.log }));
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('work that failed because the server went away is run again once it is back; other errors fail at once', async () => {
    const { db, proxy, logs } = await proxied();
    let tries = 0;
    await proxy.refuse();
    const running = retryWhileDatabaseUnavailable(
      async () => {
        tries += 1;
        return (await db.query<{ n: number }>('select 41 + 1 as n'))[0]?.n;
      },
      { what: 'the test query', log: logs.log, limitMs: 60_000 },
    );
    await expect.poll(() => tries, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    await proxy.restore();
    expect(await running).toBe(42);
    expect(logs.text()).toContain('database unavailable; retrying the test query');

    // A query the server refuses is not an outage: no retry.
    let refused = 0;
    const error = await failure(
      retryWhileDatabaseUnavailable(
        async () => {
          refused += 1;
          return db.query('select * from no_such_table');
        },
        { what: 'a bad query', log: logs.log },
      ),
    );
    expect(refused).toBe(1);
    expect((error as { code?: string }).code).toBe('42P01');
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('a connection dropped mid-flight counts as the server being away', async () => {
    const { db, proxy } = await proxied();
    const query = failure(db.query('select pg_sleep(30)'));
    await new Promise((resolve) => setImmediate(resolve));
    await proxy.cut();
    const error = await query;
    expect(error).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });
});
