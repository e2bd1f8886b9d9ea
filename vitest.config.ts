import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'bench/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Three files at a time on two cores, each with its own databases: much of the suite waits on
    // child processes, a Jupyter kernel or a lease running out, and a third file uses the core
    // those leave idle (2026-12-01, quiet machine: `npm test` 6 min 2 s, against 6 min 11 s with two).
    pool: 'forks',
    maxWorkers: 3,
    // Each worker imports the service's modules once for all the files it runs, not once per file:
    // importing src/ (drizzle, pg-boss, Fastify, the SDKs) was 1.6-2.8 s of CPU per file, 155 s of
    // the suite's import time (2026-12-02, against 18 s shared). Files therefore share module state:
    // every test builds what it uses (config, logger, metrics registry, service) and stops it after.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default'] : ['default'],
    // On with `--coverage` (`npm test`): V8 coverage of src/, the CLI processes the tests start
    // included (test/helpers/coverage-provider.ts). Thresholds at issue 18's goals (lines 95,
    // branches 85) and a little under what the whole suite reached on 2026-12-01 16:50 (lines 96.55,
    // branches 87.21, statements 95.09, functions 95.51), after tests of the console pages' branches
    // raised branches from 83.9 back over the goal: a ratchet, raised as tests are added, never
    // lowered to let a change through. Enforced where the whole suite runs, with a PostgreSQL server
    // (TEST_DATABASE_URL, as in CI): without one the PostgreSQL tests skip and the figures measure
    // another suite.
    coverage: {
      provider: 'custom',
      customProviderModule: 'test/helpers/coverage-provider.ts',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts'],
      reporter: ['text-summary', 'json-summary', 'json', 'html'],
      ...(process.env.TEST_DATABASE_URL
        ? { thresholds: { lines: 95, branches: 85, statements: 94, functions: 94 } }
        : {}),
    },
  },
});
