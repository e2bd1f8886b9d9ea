// Preloaded by `npm start` and the other scripts (`node --import ./src/boot/stripped-cache.mjs`):
// serves our TypeScript files as the JavaScript Node's own type stripping makes of them, from a
// cache (.cache/stripped-ts) filled at install time (scripts/strip-types.mjs, run by `postinstall`)
// or on first use.
// Why: Node strips types with a WebAssembly build of swc that, once loaded, holds about 17 MiB
// (and grows with the largest file) for the life of the process. With the cache warm the stripper
// is never loaded. A file whose content changed misses the cache (the key is its hash) and is
// stripped as Node would strip it, so an edit is never served stale. This file is plain
// JavaScript on purpose: it must not need the stripper itself.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { registerHooks, stripTypeScriptTypes } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCES = [path.join(ROOT, 'src') + path.sep, path.join(ROOT, 'bin') + path.sep];
export const CACHE_DIR = path.join(ROOT, '.cache', 'stripped-ts');

const keyOf = (source) => createHash('sha256').update(process.version).update(source).digest('hex');

/** The JavaScript for one TypeScript source, from the cache or stripped now (and cached). */
export function strippedSource(file) {
  const source = readFileSync(file, 'utf8');
  const cached = path.join(CACHE_DIR, `${keyOf(source)}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    // Not cached yet: strip it the way Node does (whitespace in place of types, so every line
    // and column, and with them stack traces, stay where they are in the .ts file).
    const code = stripQuietly(source);
    try {
      mkdirSync(CACHE_DIR, { recursive: true });
      const partial = `${cached}.${process.pid}`;
      writeFileSync(partial, code);
      renameSync(partial, cached);
    } catch {
      // A read-only install: serve it uncached.
    }
    return code;
  }
}

/**
 * Node's stripper, without the ExperimentalWarning it prints on stderr at its first use: a process
 * whose only change is an edited file would otherwise say more than one that found it cached (and
 * a command's stderr is what people and tests read). Only warnings raised inside this synchronous
 * call are dropped, and the stripper raises no other.
 */
function stripQuietly(source) {
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emitWarning;
  }
}

const ours = (url) =>
  url.startsWith('file:') && url.endsWith('.ts') && SOURCES.some((dir) => fileURLToPath(url).startsWith(dir));

registerHooks({
  load(url, context, nextLoad) {
    if (!ours(url)) return nextLoad(url, context);
    return { format: 'module', source: strippedSource(fileURLToPath(url)), shortCircuit: true };
  },
});
