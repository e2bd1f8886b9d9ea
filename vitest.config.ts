import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'bench/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Two cores: two files at a time, each with its own databases.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default'] : ['default'],
    // On with `--coverage` (`npm test`): V8 coverage of src/, the CLI processes the tests start
    // included (test/helpers/coverage-provider.ts). The thresholds are below what the whole suite
    // reached (2026-12-01, after every branch of the day was merged: lines 95.84, branches 86.53,
    // statements 94.19, functions 93.46) by the run-to-run variance seen (a function or two counted
    // or not, by timing) and no lower than the goal (lines 95, branches 85): a ratchet, raised as
    // tests are added, never lowered to let a change through. They are enforced where the whole
    // suite runs, with a PostgreSQL server (TEST_DATABASE_URL, as in CI): without one the tests
    // written for PostgreSQL skip and the figures measure another suite.
    coverage: {
      provider: 'custom',
      customProviderModule: 'test/helpers/coverage-provider.ts',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts'],
      reporter: ['text-summary', 'json-summary', 'json', 'html'],
      ...(process.env.TEST_DATABASE_URL
        ? { thresholds: { lines: 95, branches: 85, statements: 93, functions: 92 } }
        : {}),
    },
  },
});
