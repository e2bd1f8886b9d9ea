// `postinstall`: fills the stripped-JavaScript cache (src/boot/stripped-cache.mjs) for every
// TypeScript file the service runs, so a process started with the cache never loads Node's type
// stripper. Safe to run again at any time; a failure here never fails the install.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
try {
  const { strippedSource } = await import('../src/boot/stripped-cache.mjs');
  let count = 0;
  for (const dir of ['src', 'bin']) {
    for (const entry of readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      strippedSource(path.join(entry.parentPath, entry.name));
      count += 1;
    }
  }
  console.log(`switchboard: ${count} TypeScript files stripped ahead of time`);
} catch (error) {
  console.warn(`switchboard: types will be stripped at start-up instead (${error.message})`);
}
