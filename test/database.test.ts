import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/platform/db/database.ts';
import { eq } from '../src/platform/db/drizzle.ts';
import { acquireDataDirLock, DataDirLockedError, lockFilePath } from '../src/platform/db/lockfile.ts';
import { migrationStatus, runMigrations } from '../src/platform/db/migrate.ts';
import { platformState } from '../src/platform/db/schema.ts';
import { withTransaction } from '../src/platform/db/transaction.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { captureLogs } from './helpers/logs.ts';

const { log } = captureLogs('silent');
const opened: Database[] = [];
const created: TestDatabase[] = [];

async function freshDatabase(kind: (typeof databaseKinds)[number]) {
  const target = await createTestDatabase(kind, { empty: true });
  created.push(target);
  const db = await openDatabase(target.config, { log, command: 'test' });
  opened.push(db);
  return { db, target };
}

afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
  for (const target of created.splice(0)) await target.drop();
});

describe.each(databaseKinds)('database on %s', (kind) => {
  it('migrates an empty database, and a re-run changes nothing', async () => {
    const { db } = await freshDatabase(kind);
    expect(await migrationStatus(db)).toEqual({ applied: 0, available: expect.any(Number) });
    const first = await runMigrations(db);
    expect(first.applied).toBe(first.available);
    expect(first.applied).toBeGreaterThan(0);
    const tables = await db.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public'",
    );
    expect(tables.map((t) => t.table_name)).toContain('platform_state');

    await db.orm.insert(platformState).values({ key: 'k', value: { kept: true } });
    const second = await runMigrations(db);
    expect(second).toEqual(first);
    const rows = await db.orm.select().from(platformState).where(eq(platformState.key, 'k'));
    expect(rows[0]?.value).toEqual({ kept: true });
  });

  it('withTransaction commits together or not at all', async () => {
    const { db } = await freshDatabase(kind);
    await runMigrations(db);
    await withTransaction(db, async (tx) => {
      await tx.insert(platformState).values({ key: 'a', value: 1 });
      await tx.insert(platformState).values({ key: 'b', value: 2 });
    });
    await expect(
      withTransaction(db, async (tx) => {
        await tx.insert(platformState).values({ key: 'c', value: 3 });
        await tx.insert(platformState).values({ key: 'a', value: 4 }); // duplicate key: the whole unit fails
      }),
    ).rejects.toThrow();
    const keys = (await db.orm.select().from(platformState)).map((r) => r.key).sort();
    expect(keys).toEqual(['a', 'b']);
  });
});

describe.runIf(databaseKinds.includes('postgres'))('migrations on a shared PostgreSQL', () => {
  it('several processes migrating at once take turns', async () => {
    const target = await createTestDatabase('postgres', { empty: true });
    created.push(target);
    const dbs = await Promise.all([1, 2, 3].map(() => openDatabase(target.config, { log, command: 'test' })));
    opened.push(...dbs);
    const results = await Promise.all(dbs.map((db) => runMigrations(db)));
    for (const result of results) expect(result.applied).toBe(result.available);
  });

  it('a process starting on a migrated database is not held up by another holding the migration lock', async () => {
    const { db, target } = await freshDatabase('postgres');
    const migrated = await runMigrations(db);
    // A replica in the middle of a (newer) migration holds the lock for as long as it takes.
    const holder = await openDatabase(target.config, { log, command: 'test' });
    opened.push(holder);
    const client = await holder.pool?.connect();
    if (!client) throw new Error('expected a PostgreSQL pool');
    await client.query('select pg_advisory_lock(7302115001)');
    try {
      const starting = await openDatabase(target.config, { log, command: 'test' });
      opened.push(starting);
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        runMigrations(starting),
        new Promise((resolve) => {
          timer = setTimeout(() => resolve('still waiting for the lock after 20 s'), 20_000);
        }),
      ]);
      clearTimeout(timer);
      expect(outcome).toEqual(migrated);
    } finally {
      await client.query('select pg_advisory_unlock(7302115001)');
      client.release();
    }
  }, 40_000);
});

describe('the PGlite lockfile', () => {
  it('refuses a second process on the same data directory with a clear error', async () => {
    const { target } = await freshDatabase('pglite');
    const second = openDatabase(target.config, { log, command: 'second' });
    await expect(second).rejects.toBeInstanceOf(DataDirLockedError);
    await expect(second).rejects.toThrow(/in use by another Switchboard process \(pid \d+ .*"test"/);
  });

  it('releases the lock on close, so the next process can open it', async () => {
    const { db, target } = await freshDatabase('pglite');
    await db.close();
    expect(existsSync(lockFilePath(target.location))).toBe(false);
    const again = await openDatabase(target.config, { log, command: 'again' });
    opened.push(again);
    await again.ping();
  });

  it('takes over a stale lock left by a process that died', async () => {
    const target = await createTestDatabase('pglite');
    created.push(target);
    // A pid that cannot be alive: beyond the kernel's pid_max.
    writeFileSync(
      lockFilePath(target.location),
      JSON.stringify({
        pid: 2 ** 30,
        hostname: hostname(),
        command: 'start',
        startedAt: '2026-01-01T00:00:00Z',
      }),
    );
    const lock = acquireDataDirLock(target.location, 'test');
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });
});

describe('the embedded database and the event loop', () => {
  it('lets timers run during a long loop of queries', async () => {
    const { db } = await freshDatabase('pglite');
    let fired: number | null = null;
    const started = performance.now();
    setTimeout(() => {
      fired = performance.now() - started;
    }, 1);
    for (let i = 0; i < 3000; i++) await db.query('select $1::int as n', [i]);
    const loopMs = performance.now() - started;
    // Without yielding, the 1 ms timer fires only once the whole loop is over.
    expect(fired).not.toBeNull();
    expect(fired as unknown as number).toBeLessThan(loopMs / 2);
  });
});
