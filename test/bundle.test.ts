// The install-time bundle (scripts/bundle.mjs) that `npm start` runs while it matches the sources
// (src/boot/run.mjs). It must be the same program as the sources: every file it holds finds its
// neighbours where they are on disk (migrations, swagger-ui's assets, package.json), and it is never
// run once a source file has changed. The bundle under test is built fresh into a folder of its own.
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript, run by npm at install time, no types.
import { buildBundle, bundle, eagerWrappers, keepLocation } from '../scripts/bundle.mjs';
// @ts-expect-error: plain JavaScript on purpose (it runs before anything else is loaded), no types.
import { staleness, writeManifest } from '../src/boot/bundle-manifest.mjs';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { freePort, freshDataDir, runCli, spawnCli } from './helpers/processes.ts';
import { waitFor } from './helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('keepLocation: a bundled file still names its own location', () => {
  it('points import.meta at the original file, relative to the project root', () => {
    const out = keepLocation(
      "const a = new URL('./migrations', import.meta.url);\nconst b = import.meta.dirname;\n",
      'src/platform/db/migrate.ts',
    );
    expect(out).toBe(
      'const a = new URL(\'./migrations\', __sbUrl("src/platform/db/migrate.ts"));\nconst b = __sbPath("src/platform/db");\n',
    );
  });

  it("declares __dirname and __filename after a hashbang and 'use strict', on the same lines", () => {
    const source =
      "#!/usr/bin/env node\n'use strict'\nmodule.exports = require('path').join(__dirname, __filename)\n";
    const out = keepLocation(source, 'node_modules/pkg/lib/index.js');
    expect(out.split('\n')).toHaveLength(source.split('\n').length);
    expect(out).toBe(
      '\n\'use strict\'; var __dirname = __sbPath("node_modules/pkg/lib"); var __filename = __sbPath("node_modules/pkg/lib/index.js");\n' +
        "module.exports = require('path').join(__dirname, __filename)\n",
    );
  });

  it('leaves a file alone that declares __dirname itself or names no location', () => {
    const own =
      "import { dirname } from 'node:path';\nconst __dirname = dirname('/x');\nexport default __dirname;\n";
    expect(keepLocation(own, 'node_modules/pkg/index.mjs')).toBe(own);
    expect(keepLocation('export const x = 1;\n', 'src/x.ts')).toBe('export const x = 1;\n');
  });
});

describe('staleness: when the bundle may stand in for the sources', () => {
  const dir = path.join(ROOT, '.cache', `bundle-manifest-test-${process.pid}`);
  const source = path.join(dir, 'source.ts');
  const relative = path.relative(ROOT, source);
  beforeAll(() => mkdirSync(dir, { recursive: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is current while every input is as recorded, and stale once one changes or goes', () => {
    expect(staleness(dir)).toBe('there is no install-time bundle');
    writeFileSync(source, 'export const a = 1;\n');
    writeManifest(dir, [relative]);
    expect(staleness(dir)).toBeNull();

    // Same size, one second newer: an edit is found by its time as well as by its size.
    writeFileSync(source, 'export const a = 2;\n');
    const later = new Date(Date.now() + 1000);
    utimesSync(source, later, later);
    expect(staleness(dir)).toBe(`${relative} changed since the bundle was built`);

    writeManifest(dir, [relative]);
    expect(staleness(dir)).toBeNull();
    rmSync(source);
    expect(staleness(dir)).toBe(`${relative} is gone`);
  });

  it('is stale for another Node', () => {
    writeFileSync(source, 'export const a = 1;\n');
    writeManifest(dir, [relative]);
    const manifest = path.join(dir, 'manifest.json');
    const recorded = JSON.parse(readFileSync(manifest, 'utf8'));
    writeFileSync(manifest, JSON.stringify({ ...recorded, node: 'v22.0.0' }));
    expect(staleness(dir)).toBe('the bundle was built for Node v22.0.0');
  });
});

describe('eagerWrappers: module wrappers compiled with their file', () => {
  // esbuild's shape, with a string and a comment that look like a wrapper's end and start.
  const source = [
    'var __commonJS = (cb, mod) => () => (mod || (0, cb[Object.keys(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports);',
    'var __esm = (fn, res) => () => (fn && (res = (0, fn[Object.keys(fn)[0]])((fn = 0))), res);',
    'var require_a = __commonJS({',
    '  "node_modules/a/index.js"(exports, module) {',
    '    module.exports = { text: `x',
    '  }',
    '});`, self: this === undefined ? "none" : typeof this };',
    '    // "node_modules/b.js"(exports) {',
    '  }',
    '});',
    'var value;',
    'var init_b = __esm({ "src/b.ts"() { value = 42; } });',
    'export const a = require_a();',
    'init_b();',
    'export { value };',
  ].join('\n');

  it('turns each wrapper method into a parenthesised function, and nothing else', () => {
    const out = eagerWrappers(source);
    expect(out).toContain('  "node_modules/a/index.js": (function(exports, module) {');
    expect(out).toContain('"src/b.ts": (function() { value = 42; })');
    // The template literal and the comment are as they were.
    expect(out).toContain('text: `x\n  }\n});`');
    expect(out).toContain('    // "node_modules/b.js"(exports) {');
    expect(out.split('\n')).toHaveLength(source.split('\n').length);
  });

  it('leaves the module answering as before', async () => {
    const load = (text: string) => import(`data:text/javascript,${encodeURIComponent(text)}`);
    const [before, after] = await Promise.all([load(source), load(eagerWrappers(source))]);
    expect(after.a).toEqual(before.a);
    expect(after.a).toEqual({ text: 'x\n  }\n});', self: 'none' });
    expect(after.value).toBe(42);
  });

  it('leaves a file without wrappers untouched', () => {
    expect(eagerWrappers('export const x = 1;\n')).toBe('export const x = 1;\n');
  });
});

describe("the bundle's stand-ins: what they leave out is still there when called", () => {
  const outdir = path.join(ROOT, '.cache', `bundle-standins-test-${process.pid}`);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it("answers rrule schedules, luxon dates and zod's other locales as the packages do", async () => {
    const entry = 'test/fixtures/bundle-standins.mjs';
    const result = await bundle([entry], outdir);
    const inputs = Object.keys(result.metafile.inputs);
    // Left out of the bundle: rrule-temporal, zod's locales but English, luxon's ES build.
    expect(inputs.filter((file) => file.includes('node_modules/rrule-temporal/'))).toEqual([]);
    expect(inputs.filter((file) => file.startsWith('node_modules/zod/v4/locales/'))).toEqual([
      'node_modules/zod/v4/locales/en.js',
    ]);
    expect(inputs.filter((file) => file.includes('node_modules/luxon/'))).toEqual([
      'node_modules/luxon/build/es6/luxon.mjs',
    ]);
    // spawnCli runs any entry: here the fixture, bundled and as it is.
    const fromBundle = await spawnCli([], {}, undefined, path.join(outdir, 'bundle-standins.js')).exited;
    const fromSources = await spawnCli([], {}, undefined, path.join(ROOT, entry)).exited;
    expect(fromBundle.code, fromBundle.stderr).toBe(0);
    expect(JSON.parse(fromBundle.stdout)).toEqual({
      rrule: '2026-12-02T09:00:00.000Z',
      cron: '2026-12-02T07:30:00.000Z',
      zone: '2026-12-01T11:00:00.000+01:00',
      french: 'Entrée invalide : chaîne de caractères attendu, nombre reçu',
      english: 'Invalid input: expected string, received number',
    });
    expect(fromBundle.stdout).toBe(fromSources.stdout);
  }, 60_000);
});

describe('the bundle runs as the sources do', () => {
  const outdir = path.join(ROOT, '.cache', `bundle-test-${process.pid}`);
  let entry = '';
  let target: TestDatabase | null = null;
  beforeAll(async () => {
    const built = await buildBundle(outdir);
    // Every source file the service can load is in it, each listed for the staleness check.
    expect(built.inputs).toBeGreaterThan(150);
    entry = path.join(outdir, 'cli.js');
  }, 120_000);
  afterAll(async () => {
    rmSync(outdir, { recursive: true, force: true });
    await target?.drop();
  });

  it('prints the version from package.json', async () => {
    const bundled = await spawnCli(['version'], {}, undefined, entry).exited;
    expect(bundled).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  // With a PostgreSQL server only (TEST_DATABASE_URL), like every PostgreSQL test of the suite.
  it.runIf(databaseKinds.includes('postgres'))(
    'migrates an empty PostgreSQL database and serves a worker’s health and metrics',
    async () => {
      target = await createTestDatabase('postgres', { empty: true });
      if (target.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
      const port = await freePort();
      const worker = spawnCli(
        ['worker'],
        { DATABASE_URL: target.config.url, PORT: String(port), HOST: '127.0.0.1' },
        undefined,
        entry,
      );
      try {
        const ready = await waitFor(
          `the bundled worker to be ready (${worker.output()})`,
          async () => {
            const response = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
            return response?.status === 200 ? await response.json() : null;
          },
          60_000,
        );
        expect(ready).toMatchObject({ status: 'ready', failing: [] });
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).toContain('health_component_up{component="database",critical="true"} 1');
        // The migrations were read from src/platform/db/migrations, where the sources keep them.
        const status = await runCli(['migrate'], { DATABASE_URL: target.config.url });
        expect(status.stdout).toMatch(/Database migrations: (\d+) of \1 applied/);
      } finally {
        worker.child.kill('SIGTERM');
        expect((await worker.exited).code).toBe(0);
      }
    },
    90_000,
  );

  it('starts on PGlite and serves the API docs with their assets, the console and a PayBot answer', async () => {
    const port = await freePort();
    const key = 'bundle-test-chat-key-0123456789abcdef';
    const service = spawnCli(
      ['start'],
      { DATA_DIR: freshDataDir({ empty: true }), PORT: String(port), HOST: '127.0.0.1', CHAT_API_KEYS: key },
      undefined,
      entry,
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        `the bundled service to be ready (${service.output()})`,
        async () => (await fetch(`${url}/health/ready`).catch(() => null))?.status === 200,
        60_000,
      );
      const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: object };
      expect(Object.keys(openapi.paths)).toContain('/chat');
      // swagger-ui's files are read from its package folder: found only if __dirname is its own.
      const css = await fetch(`${url}/docs/static/swagger-ui.css`);
      expect(css.status).toBe(200);
      expect(await css.text()).toContain('.swagger-ui');
      const consolePage = await fetch(`${url}/console`, { headers: { accept: 'text/html' } });
      expect(consolePage.status).toBe(200);
      expect(await consolePage.text()).toContain('<form');
      const chat = await fetch(`${url}/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sessionId: 'bundle-test', message: 'hello' }),
      });
      expect(chat.status).toBe(200);
      // PayBot's first question, as the sources answer it.
      expect(((await chat.json()) as { response: string }).response).toMatch(/full name/i);
    } finally {
      service.child.kill('SIGTERM');
      expect((await service.exited).code).toBe(0);
    }
  }, 90_000);
});
