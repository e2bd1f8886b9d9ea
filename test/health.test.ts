import { afterEach, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  type DatabaseKind,
  databaseKinds,
  type TestDatabase,
} from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const disposers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

async function start(kind: DatabaseKind, env: Record<string, string> = {}) {
  const running = await startTestService(kind, { env });
  disposers.push(() => running.dispose());
  return running;
}

/** A service whose database can be taken away: PGlite closed underneath it, or PostgreSQL cut off by a proxy. */
async function startWithStoppableDatabase(
  kind: DatabaseKind,
): Promise<{ running: TestService; stopDatabase: () => Promise<void> }> {
  if (kind === 'pglite') {
    const running = await start(kind);
    return { running, stopDatabase: async () => void (await running.service.db.pglite?.close()) };
  }
  const target: TestDatabase = await createTestDatabase('postgres');
  disposers.push(() => target.drop());
  if (target.config.kind !== 'postgres') throw new Error('expected postgres');
  const url = new URL(target.config.url);
  const proxy: TcpProxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  disposers.push(() => proxy.close());
  url.host = `127.0.0.1:${proxy.port}`;
  const running = await startTestService('postgres', {
    target: { ...target, config: { ...target.config, url: url.toString() } },
  });
  disposers.push(() => running.dispose());
  return { running, stopDatabase: () => proxy.cut() };
}

describe.each(databaseKinds)('health on %s', (kind) => {
  it('reports every component healthy', async () => {
    const { service } = await start(kind);
    const live = await service.app.inject('/health/live');
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });

    const ready = await service.app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', failing: [] });

    const status = (await service.app.inject('/health/status')).json();
    expect(status.status).toBe('ok');
    expect(status.components).toEqual([
      { name: 'database', status: 'up', latencyMs: expect.any(Number), detail: kind },
      { name: 'jobs', status: 'up', latencyMs: expect.any(Number), detail: 'workers running' },
    ]);

    for (const url of ['/', '/info']) {
      const info = (await service.app.inject(url)).json();
      expect(info).toMatchObject({
        name: 'switchboard',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        uptimeSeconds: expect.any(Number),
        mode: 'start',
        apps: [],
        drivers: { database: kind, jobs: 'pg-boss', rateLimits: 'memory' },
      });
    }
  });

  it('answers 503 naming the database when it stops, and keeps answering', async () => {
    const { running, stopDatabase } = await startWithStoppableDatabase(kind);
    const app = running.service.app;
    expect((await app.inject('/health/ready')).statusCode).toBe(200);
    // What the readiness alert reads: each component, scraped from the service itself.
    const up = async () =>
      [...(await app.inject('/metrics')).body.matchAll(/^health_component_up\{(.*)\} (\d)$/gm)].map(
        (m) => `${m[1]} ${m[2]}`,
      );
    expect(await up()).toEqual(
      expect.arrayContaining([
        'component="database",critical="true" 1',
        'component="jobs",critical="true" 1',
      ]),
    );
    await stopDatabase();
    expect(await up()).toContain('component="database",critical="true" 0');

    const ready = await app.inject('/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().status).toBe('unavailable');
    expect(ready.json().failing).toContain('database');
    const status = (await app.inject('/health/status')).json();
    expect(status.status).toBe('degraded');
    const database = status.components.find((c: { name: string }) => c.name === 'database');
    expect(database).toMatchObject({ status: 'down', error: expect.any(String) });
    // The process itself is still alive and says so.
    expect((await app.inject('/health/live')).statusCode).toBe(200);
  });

  it('checks Redis when it is configured', async () => {
    const { service } = await start(kind, { REDIS_URL: 'redis://127.0.0.1:6379' });
    const ready = await service.app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().components.map((c: { name: string }) => c.name)).toEqual([
      'database',
      'jobs',
      'redis',
    ]);
    expect((await service.app.inject('/info')).json().drivers.rateLimits).toBe('redis');
  });

  it('stays ready but degraded, naming Redis, when it cannot be reached', async () => {
    // Nothing listens on port 1. Rate limits then count in memory (test/redis-outage.test.ts).
    const { service } = await start(kind, { REDIS_URL: 'redis://127.0.0.1:1' });
    const ready = await service.app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', failing: [], degraded: ['redis'] });
    const redis = ready.json().components.find((c: { name: string }) => c.name === 'redis');
    expect(redis).toMatchObject({ status: 'down', critical: false });
  });
});

describe('health in an HTTP-only process', () => {
  it('reports the job system as sending only', async () => {
    const running = await startTestService('pglite', { mode: 'http' });
    disposers.push(() => running.dispose());
    const status = (await running.service.app.inject('/health/status')).json();
    expect(status.components[1]).toMatchObject({ name: 'jobs', status: 'up', detail: 'sending only' });
    expect(status.mode).toBe('http');
  });
});
