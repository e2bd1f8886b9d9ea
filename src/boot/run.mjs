// `npm start`, `npm run worker` and the other npm scripts: `node src/boot/run.mjs <command>`.
// Starts the service from the install-time bundle (scripts/bundle.mjs) while it matches the
// sources, with V8's compile cache, else from the sources through the stripped-TypeScript cache:
// the same program either way, the bundle only starts faster. An edit to src/ is therefore never
// run stale; `npm run build` brings the bundle up to date again.
import { enableCompileCache } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_DIR, ROOT, staleness } from './bundle-manifest.mjs';

const stale = staleness();
let cli;
if (stale === null) {
  // Compiled code of the bundle kept between starts (a read-only install simply goes without).
  enableCompileCache(path.join(ROOT, '.cache', 'compile'));
  cli = await import(pathToFileURL(path.join(BUNDLE_DIR, 'cli.js')).href);
} else {
  process.stderr.write(`switchboard: running from the sources: ${stale} (npm run build bundles them)\n`);
  await import('./stripped-cache.mjs');
  cli = await import('../cli.ts');
}
cli.main();
