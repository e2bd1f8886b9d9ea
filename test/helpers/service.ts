import { type Service, type ServiceOptions, startService } from '../../src/main.ts';
import type { AppModule } from '../../src/platform/app-module.ts';
import { testConfig } from './config.ts';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.ts';
import { captureLogs } from './logs.ts';

export interface TestService {
  /** A service with the API (a worker's has none: it serves only health and metrics). */
  service: Service<'start' | 'http'>;
  target: TestDatabase;
  logs: ReturnType<typeof captureLogs>;
  /** Stops the service (if still running) and drops its database. */
  dispose(): Promise<void>;
}

/** The real service, in-process, on a database of its own; requests go through inject(). */
export async function startTestService(
  kind: DatabaseKind,
  options: {
    apps?: AppModule[];
    env?: Record<string, string>;
    mode?: 'start' | 'http';
    target?: TestDatabase;
    languageModel?: ServiceOptions['languageModel'];
  } = {},
): Promise<TestService> {
  const target = options.target ?? (await createTestDatabase(kind));
  const logs = captureLogs('info');
  const config = testConfig(target.config, options.env);
  const service = await startService({
    config,
    log: logs.log,
    mode: options.mode ?? 'start',
    apps: options.apps ?? [],
    listen: false,
    ...(options.languageModel !== undefined ? { languageModel: options.languageModel } : {}),
  });
  return {
    service,
    target,
    logs,
    async dispose() {
      await service.stop();
      if (!options.target) await target.drop();
    },
  };
}
