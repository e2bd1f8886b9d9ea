/**
 * Names the directory where processes the tests start write their V8 coverage (NODE_V8_COVERAGE).
 * Set by test/helpers/coverage-provider.ts when coverage is on; unset otherwise.
 */
export const CHILD_COVERAGE_ENV = 'SWITCHBOARD_TEST_CHILD_COVERAGE';
