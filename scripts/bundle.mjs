// `postinstall` and `npm run build`: bundles the service (src/cli.ts and every module it can load)
// into .cache/bundle with esbuild, for src/boot/run.mjs to start from. Modules loaded on demand
// (a bot not run, a provider's SDK, the console) stay separate files, loaded as late as before.
// Why: a worker's ~1,000 module files cost more of its start than everything it then does; as about
// a hundred it loads on about 40% less CPU (README, Benchmarks: cold start).
// The bundle must behave exactly as the sources do, so each bundled file keeps its own location:
// `import.meta.url`, `__dirname` and `__filename` name the original file under src/ or
// node_modules/, not the bundle (migrations, notebook helpers, swagger-ui's assets, pino's worker).
// A failure here never fails the install: the service then runs from the sources.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
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

// One luxon. Our modules import its ES build and cron-parser (pg-boss's schedules) requires its
// CommonJS build, so a bundle held both: two copies of the same library evaluated at every start.
// Both now get the ES build: esbuild compiles its top level with the rest of the chunk, where a
// CommonJS wrapper would be compiled afresh at every start, outside V8's code cache.
const oneLuxon = {
  name: 'one-luxon',
  setup(build) {
    const esBuild = path.join(ROOT, 'node_modules', 'luxon', 'build', 'es6', 'luxon.mjs');
    build.onResolve({ filter: /^luxon$/ }, () => ({ path: esBuild }));
  },
};

// rrule-temporal on first use. pg-boss imports it for rrule schedules only (a `new RRuleTemporal`
// in one place), which Switchboard sets only for an interval cron cannot say (every-minutes.ts:
// every 45 minutes, say); bundled, it was a quarter of a megabyte compiled and evaluated at every
// start. The stand-in builds the real class through `require`, which loads the package from
// node_modules the first time a pg-boss rrule schedule is read.
const RRULE_STANDIN = [
  'export class RRuleTemporal {',
  '  constructor(...args) {',
  "    const { RRuleTemporal: Real } = require('rrule-temporal');",
  '    return new Real(...args);',
  '  }',
  '}',
].join('\n');
const lazyRrule = {
  name: 'lazy-rrule-temporal',
  setup(build) {
    build.onResolve({ filter: /^rrule-temporal$/ }, (args) => {
      // The stand-in's own `require` stays a run-time load from node_modules.
      if (args.namespace === 'rrule-standin') return { path: 'rrule-temporal', external: true };
      return args.importer.includes(`${path.sep}pg-boss${path.sep}`)
        ? { path: 'rrule-temporal', namespace: 'rrule-standin' }
        : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'rrule-standin' }, () => ({
      contents: RRULE_STANDIN,
      loader: 'js',
    }));
  },
};

// zod's other locales on first use. `z.locales` names all 64 of zod's error-message languages, so a
// bundle held every one (a third of a megabyte) though Switchboard speaks English only, which zod
// imports on its own. The stand-in keeps every name: English is bundled, each other locale is a
// function that requires zod's CommonJS build of it when called (`z.config(z.locales.fr())`).
const lazyZodLocales = {
  name: 'lazy-zod-locales',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}zod${path.sep}v4${path.sep}`)
        ? { path: path.join(args.resolveDir, args.path), namespace: 'zod-locales' }
        : undefined,
    );
    // The stand-in's requires stay run-time loads from node_modules.
    build.onResolve({ filter: /^zod\/v4\/locales\/[\w-]+\.cjs$/ }, (args) =>
      args.namespace === 'zod-locales' ? { path: args.path, external: true } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, async (args) => {
      const index = await readFile(args.path, 'utf8');
      const exports = [...index.matchAll(/export \{ default as (\w+) \} from "\.\/([\w-]+)\.js";/g)];
      if (!exports.some(([, name]) => name === 'en'))
        throw new Error(`zod's locale index changed: ${args.path}`);
      const lines = exports.map(([, name, file]) =>
        file === 'en'
          ? 'export { default as en } from "./en.js";'
          : `export const ${name} = (...args) => { const m = require("zod/v4/locales/${file}.cjs"); return (m.default ?? m)(...args); };`,
      );
      return { contents: lines.join('\n'), loader: 'js', resolveDir: path.dirname(args.path) };
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
  const result = await bundle(['src/cli.ts'], outdir);
  const inputs = Object.keys(result.metafile.inputs).filter((file) => file.startsWith('src/'));
  writeManifest(outdir, inputs);
  return { inputs: inputs.length, outputs: Object.keys(result.metafile.outputs).length };
}

/** esbuild's result for `entryPoints` (relative to ROOT) bundled as the service is, into `outdir`. */
export async function bundle(entryPoints, outdir) {
  const { build } = await import('esbuild');
  await rm(outdir, { recursive: true, force: true });
  const root = `${path.relative(outdir, ROOT).split(path.sep).join('/')}/`;
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints,
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
    plugins: [httpThroughRequire, oneLuxon, lazyRrule, lazyZodLocales, sourceLocations],
    write: false,
  });
  for (const file of result.outputFiles) {
    await mkdir(path.dirname(file.path), { recursive: true });
    await writeFile(file.path, file.path.endsWith('.js') ? eagerWrappers(file.text) : file.contents);
  }
  return result;
}

const WRAPPER = /^__(?:commonJS|esm)\d*$/;

/**
 * `text` (an esbuild output file) with its module wrappers compiled at load, into the code cache.
 * esbuild wraps each CommonJS module, and each ES module loaded on demand, in a method:
 * `__commonJS({ "node_modules/pg/lib/index.js"(exports, module) { ... } })`. V8 compiles a method
 * only when it is first called, and Node's compile cache holds only what was compiled with the file,
 * so every start compiled every wrapper it ran afresh: a tenth of a worker's start. Written as a
 * parenthesised function expression, `"...": (function(exports, module) { ... })`, which V8
 * compiles with the file, the wrapper is in the cache. Called the same way, it behaves the same.
 * The edits are placed by acorn's parse, never by matching text, which could be inside a string.
 */
export function eagerWrappers(text) {
  if (!/\b__(?:commonJS|esm)\d*\(\{/.test(text)) return text;
  const edits = [];
  // esbuild declares each wrapper at the top level: `var require_pg = __commonJS({ ... });`.
  for (const statement of parse(text, { ecmaVersion: 'latest', sourceType: 'module' }).body) {
    if (statement.type !== 'VariableDeclaration') continue;
    for (const { init } of statement.declarations) {
      if (init?.type !== 'CallExpression' || init.callee.type !== 'Identifier') continue;
      if (!WRAPPER.test(init.callee.name) || init.arguments[0]?.type !== 'ObjectExpression') continue;
      for (const property of init.arguments[0].properties) {
        if (property.type !== 'Property' || !property.method) continue;
        // The method's value starts at its parameters: `"key"(params) {}` -> `"key": (function(params) {})`.
        edits.push({ at: property.value.start, insert: ': (function' });
        edits.push({ at: property.value.end, insert: ')' });
      }
    }
  }
  const parts = [];
  let from = 0;
  for (const edit of edits.sort((x, y) => x.at - y.at)) {
    parts.push(text.slice(from, edit.at), edit.insert);
    from = edit.at;
  }
  parts.push(text.slice(from));
  return parts.join('');
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
