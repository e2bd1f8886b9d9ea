import { type Config, loadConfig } from '../../src/config.ts';

/** A validated config for tests: quiet logs, fast job polling, a free port, the given database. */
export function testConfig(database: Config['database'], env: Record<string, string> = {}): Config {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    JOBS_POLL_INTERVAL_SECONDS: '0.5',
    JOBS_RETRY_DELAY_SECONDS: '1',
    JOBS_MAINTENANCE_INTERVAL_SECONDS: '1',
    SHUTDOWN_TIMEOUT_SECONDS: '10',
    ...env,
  });
  return { ...config, database };
}
