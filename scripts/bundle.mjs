// `postinstall` and `npm run build`: bundles the service (src/cli.ts and every module it can load)
// into .cache/bundle with esbuild, for src/boot/run.mjs to start from. Modules loaded on demand
// (a bot not run, a provider's SDK, the console) stay separate files, loaded as late as before.
// Why: a worker's ~1,000 module files cost more of its start than everything it then does; as about
// a hundred it loads on about 40% less CPU (README, Benchmarks: cold start).
// The bundle must behave exactly as the sources do, so each bundled file keeps its own location:
// `import.meta.url`, `__dirname` and `__filename` name the original file under src/ or
// node_modules/, not the bundle (migrations, notebook helpers, swagger-ui's assets, pino's worker).
// A failure here never fails the install: the service then runs from the sources.
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_DIR, ROOT, writeManifest } from '../src/boot/bundle-manifest.mjs';

const SOURCES = path.join(ROOT, 'src') + path.sep;

const LOCATION_NAMES = /__dirname|__filename|import\.meta/;
// Our sources load some CommonJS builds through createRequire (platform/db/drizzle.ts says why);
// in the bundle that call becomes `require`, so esbuild bundles the module instead of leaving a
// run-time load of its many files.
const REQUIRE_COMMONJS = 'requireCommonJs(';
// Left out, loaded from node_modules at run time: PGlite's WebAssembly and data files are read
// relative to its own module; pg-native is pg's optional native binding, never installed here.
const EXTERNAL = ['@electric-sql/pglite', 'pg-native'];

/** The JavaScript text of a helper call naming `file` (relative to ROOT) at run time. */
const at = (helper, file) => `${helper}(${JSON.stringify(file)})`;

/** A file's own text with its location expressions pointing at the file itself. */
export function keepLocation(text, relativePath) {
  const dir = path.posix.dirname(relativePath);
  let body = text
    .replaceAll(/\bimport\.meta\.url\b/g, at('__sbUrl', relativePath))
    .replaceAll(/\bimport\.meta\.filename\b/g, at('__sbPath', relativePath))
    .replaceAll(/\bimport\.meta\.dirname\b/g, at('__sbPath', dir));
  const declares = (name) => new RegExp(`\\b(?:var|let|const|function)\\s+${name}\\b`).test(text);
  const prelude = [];
  if (/\b__dirname\b/.test(text) && !declares('__dirname'))
    prelude.push(`var __dirname = ${at('__sbPath', dir)};`);
  if (/\b__filename\b/.test(text) && !declares('__filename'))
    prelude.push(`var __filename = ${at('__sbPath', relativePath)};`);
  if (prelude.length === 0) return body;
  // After a hashbang and a 'use strict' directive: a statement before the directive would end it.
  let head = '';
  const hashbang = body.match(/^#![^\n]*\n/);
  if (hashbang) {
    head = '\n';
    body = body.slice(hashbang[0].length);
  }
  const directive = body.match(/^\s*(['"])use strict\1;?/);
  if (directive) {
    head += directive[0].endsWith(';') ? `${directive[0]} ` : `${directive[0]}; `;
    body = body.slice(directive[0].length);
  }
  // On the first line, so every line of the file keeps its number.
  return `${head}${prelude.join(' ')}${body}`;
}

// node:http through `require`, not `import`. An ES module import of a built-in makes Node build its
// ES module facade, which reads every export, getters included, and node:http's WebSocket,
// CloseEvent and MessageEvent getters load Node's whole bundled undici: 25 ms of a worker's start
// for `import http from 'node:http'`, against 2 ms through require. The module below exports the
// same names but those three (a later import of one fails the build rather than loading undici).
const LAZY_UNDICI = new Set(['WebSocket', 'CloseEvent', 'MessageEvent']);
const httpThroughRequire = {
  name: 'http-through-require',
  setup(build) {
    build.onResolve({ filter: /^(?:node:)?http$/ }, (args) =>
      args.kind === 'require-call' ? undefined : { path: 'http', namespace: 'builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, () => {
      const names = Object.keys(
        Object.getOwnPropertyDescriptors(createRequire(import.meta.url)('node:http')),
      );
      return {
        contents: [
          "const m = require('node:http');",
          'export default m;',
          ...names
            .filter((name) => !LAZY_UNDICI.has(name))
            .map((name) => `export const ${name} = m.${name};`),
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

const sourceLocations = {
  name: 'source-locations',
  setup(build) {
    build.onLoad({ filter: /\.(?:[cm]?js|ts)$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const ours = args.path.startsWith(SOURCES);
      if (!LOCATION_NAMES.test(text) && !(ours && text.includes(REQUIRE_COMMONJS))) return undefined;
      const relativePath = path.relative(ROOT, args.path).split(path.sep).join('/');
      const located = keepLocation(text, relativePath);
      const contents = ours ? located.replaceAll(REQUIRE_COMMONJS, 'require(') : located;
      return { contents, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

/** Builds the bundle into `outdir` and records what it was built from. */
export async function buildBundle(outdir = BUNDLE_DIR) {
  const { build } = await import('esbuild');
  await rm(outdir, { recursive: true, force: true });
  const root = `${path.relative(outdir, ROOT).split(path.sep).join('/')}/`;
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/cli.ts'],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    metafile: true,
    logLevel: 'error',
    external: EXTERNAL,
    // The few names the bundled files expect from a CommonJS world or from sourceLocations above.
    // `require` resolves from the project root, where node_modules is.
    banner: {
      js: [
        "import { createRequire as __sbCreateRequire } from 'node:module';",
        "import { fileURLToPath as __sbFileURLToPath } from 'node:url';",
        `const __sbRoot = new URL(${JSON.stringify(root)}, import.meta.url);`,
        'const require = __sbCreateRequire(__sbRoot);',
        'const __sbUrl = (file) => new URL(file, __sbRoot).href;',
        'const __sbPath = (file) => __sbFileURLToPath(new URL(file, __sbRoot));',
      ].join(' '),
    },
    plugins: [httpThroughRequire, sourceLocations],
  });
  const inputs = Object.keys(result.metafile.inputs).filter((file) => file.startsWith('src/'));
  writeManifest(outdir, inputs);
  return { inputs: inputs.length, outputs: Object.keys(result.metafile.outputs).length };
}

// Run as a script (`node scripts/bundle.mjs`), not when imported (test/bundle.test.ts). Compared by
// path rather than import.meta.main, which the Node an install may run under (20) lacks.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { inputs, outputs } = await buildBundle();
    console.log(`switchboard: bundled ${inputs} source files into ${outputs} (.cache/bundle)`);
  } catch (error) {
    console.warn(`switchboard: no install-time bundle, the service runs from the sources (${error.message})`);
  }
}
