// PGlite is one process's database: a second process opening the same directory would corrupt it.
// An exclusive lockfile beside the data says who holds it, and where its HTTP server listens, so a
// CLI command can talk to the running server instead of opening the files itself.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

export interface LockOwner {
  pid: number;
  hostname: string;
  command: string;
  startedAt: string;
  /** Base URL of the owner's HTTP server, once it listens. */
  httpUrl?: string;
}

export class DataDirLockedError extends Error {
  readonly owner: LockOwner;
  readonly dataDir: string;
  constructor(dataDir: string, owner: LockOwner) {
    super(
      `The embedded database in ${dataDir} is in use by another Switchboard process ` +
        `(pid ${owner.pid} on ${owner.hostname}, "${owner.command}", since ${owner.startedAt}). ` +
        'Stop that process first, or set DATABASE_URL to share a PostgreSQL server between processes.',
    );
    this.name = 'DataDirLockedError';
    this.owner = owner;
    this.dataDir = dataDir;
  }
}

export interface DataDirLock {
  readonly file: string;
  update(fields: Partial<LockOwner>): void;
  release(): void;
}

export const lockFilePath = (dataDir: string) => path.join(dataDir, 'switchboard.lock');

/** Reads who holds the lock, or null when nobody (or only a dead process) does. */
export function readLockOwner(dataDir: string): LockOwner | null {
  let owner: LockOwner;
  try {
    owner = JSON.parse(readFileSync(lockFilePath(dataDir), 'utf8')) as LockOwner;
  } catch {
    return null;
  }
  return isAlive(owner) ? owner : null;
}

export function acquireDataDirLock(dataDir: string, command: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = lockFilePath(dataDir);
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    command,
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // 'wx' fails when the file exists: creation is the atomic test-and-set.
      const fd = openSync(file, 'wx');
      writeFileSync(fd, JSON.stringify(owner));
      closeSync(fd);
      return makeLock(file, owner);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = readLockOwner(dataDir);
      if (current) throw new DataDirLockedError(dataDir, current);
      // The holder died without cleaning up (kill -9, power loss): the lock is stale.
      rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not take the lock ${file}: another process keeps recreating it`);
}

function makeLock(file: string, owner: LockOwner): DataDirLock {
  let released = false;
  return {
    file,
    update(fields) {
      if (released) return;
      Object.assign(owner, fields);
      writeFileSync(file, JSON.stringify(owner));
    },
    release() {
      if (released) return;
      released = true;
      rmSync(file, { force: true });
    },
  };
}

function isAlive(owner: LockOwner): boolean {
  // A lock from another host (a shared volume) cannot be checked; treat it as held.
  if (owner.hostname !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
