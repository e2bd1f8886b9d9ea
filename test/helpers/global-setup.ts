// Creating a PGlite cluster (initdb) takes seconds; copying a ready one takes milliseconds. The
// template is made once per test run, empty (not migrated), so migration tests still start from
// nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const root = mkdtempSync(path.join(tmpdir(), 'switchboard-template-'));
  const dataDir = path.join(root, 'pgdata');
  const db = await PGlite.create(dataDir);
  await db.close();
  project.provide('pgliteTemplate', dataDir);
  return () => rmSync(root, { recursive: true, force: true });
}
