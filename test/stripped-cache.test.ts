// The start-up cache of stripped TypeScript (src/boot/stripped-cache.mjs): a process started the
// way `npm start` starts it never loads Node's type stripper (its WebAssembly holds ~17 MiB), and
// an edited file is never served from the cache as it was before the edit.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript on purpose (it must load without the stripper), no types.
import { strippedSource } from '../src/boot/stripped-cache.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const HOOK = path.join(ROOT, 'src/boot/stripped-cache.mjs');

/** Whether a fresh Node process that imports `file` loaded the type stripper. */
const stripperLoaded = (file: string, preload: string[]) =>
  execFileSync(
    process.execPath,
    [
      ...preload,
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(file)}); console.log(process.moduleLoadList.some((m) => m.includes('amaro')))`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  ).trim();

describe('stripped TypeScript cache', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'stripped-cache-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("serves exactly what Node's own stripping makes, and a changed file's new content", () => {
    const file = path.join(scratch, 'sample.ts');
    const first =
      'export const total = (a: number, b: number): number => a + b;\ninterface X { y: string }\n';
    writeFileSync(file, first);
    expect(strippedSource(file)).toBe(stripTypeScriptTypes(first, { mode: 'strip' }));
    expect(strippedSource(file)).toBe(stripTypeScriptTypes(first, { mode: 'strip' }));
    const second = 'export const total = (a: number, b: number): number => a - b;\n';
    writeFileSync(file, second);
    expect(strippedSource(file)).toBe(stripTypeScriptTypes(second, { mode: 'strip' }));
  });

  it('strips a file it has not seen without a word on stderr', () => {
    const file = path.join(scratch, 'unseen.ts');
    // Content no cache holds: this process must strip it.
    const source = `export const seen: number = ${Date.now()}; // ${process.pid}\n`;
    writeFileSync(file, source);
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { strippedSource } = await import(${JSON.stringify(HOOK)}); console.log(strippedSource(${JSON.stringify(file)}).trim())`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(stripTypeScriptTypes(source, { mode: 'strip' }).trim());
    expect(run.stderr).toBe('');
  });

  it('keeps the stripper out of a process started with the hook, once the cache is warm', () => {
    const file = path.join(ROOT, 'src/platform/money.ts');
    strippedSource(file);
    expect(stripperLoaded(file, [])).toBe('true');
    expect(stripperLoaded(file, ['--import', HOOK])).toBe('false');
  });
});
