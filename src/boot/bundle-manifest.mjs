// What the install-time bundle (scripts/bundle.mjs) was built from, and whether it still matches.
// The bundle is the service as one module graph of a few large files instead of about a thousand
// small ones: a process loads it in well under half the time (no per-file resolving, reading and
// package.json lookups). It is only ever a faster copy of the sources, never a different program:
// every source file it holds is listed here with its size and modification time, and a process
// runs the bundle only while all of them, Node's version and the installed packages are unchanged
// (src/boot/run.mjs). Plain JavaScript, like the rest of src/boot: read before anything is loaded.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE_DIR = path.join(ROOT, '.cache', 'bundle');
const MANIFEST = 'manifest.json';
// npm rewrites this file whenever it changes what is installed.
const INSTALLED = 'node_modules/.package-lock.json';

const stamp = (file) => {
  const stat = statSync(path.join(ROOT, file));
  return { size: stat.size, mtimeMs: stat.mtimeMs };
};

/** Records the inputs (paths relative to ROOT) of a bundle written to `dir`. */
export function writeManifest(dir, inputs) {
  const files = Object.fromEntries([...inputs, INSTALLED].map((file) => [file, stamp(file)]));
  const manifest = { node: process.version, files };
  writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
}

/**
 * Why the bundle in `dir` cannot stand in for the sources, or null when it can. A missing
 * bundle, another Node, or any input changed, gone or unreadable is a reason.
 */
export function staleness(dir = BUNDLE_DIR) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8'));
  } catch {
    return 'there is no install-time bundle';
  }
  if (manifest.node !== process.version) return `the bundle was built for Node ${manifest.node}`;
  for (const [file, was] of Object.entries(manifest.files ?? {})) {
    let now;
    try {
      now = stamp(file);
    } catch {
      return `${file} is gone`;
    }
    if (now.size !== was.size || now.mtimeMs !== was.mtimeMs)
      return `${file} changed since the bundle was built`;
  }
  return null;
}
