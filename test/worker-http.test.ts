// A worker serves its health, info and metrics without Fastify (src/platform/http/ops-server.ts).
// Whoever polls it (an orchestrator, Prometheus, an operator with curl) must get what the API gives
// for the same routes: the same answers, the error envelope, the request id, the security headers.
// Both are started here as real processes on one PostgreSQL database and asked the same things.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { freePort, type Running, spawnCli } from './helpers/processes.ts';
import { waitFor } from './helpers/wait.ts';

describe.runIf(databaseKinds.includes('postgres'))("a worker's HTTP, beside the API's", () => {
  let target: TestDatabase;
  const running: Running[] = [];
  const urls = { api: '', worker: '' };

  beforeAll(async () => {
    target = await createTestDatabase('postgres');
    if (target.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
    for (const mode of ['http', 'worker'] as const) {
      const port = await freePort();
      const process = spawnCli([mode], {
        DATABASE_URL: target.config.url,
        PORT: String(port),
        HOST: '127.0.0.1',
      });
      running.push(process);
      const url = `http://127.0.0.1:${port}`;
      await waitFor(
        `${mode} to be ready (${process.output()})`,
        async () => (await fetch(`${url}/health/ready`).catch(() => null))?.status === 200,
        90_000,
        100,
      );
      urls[mode === 'http' ? 'api' : 'worker'] = url;
    }
  }, 180_000);
  afterAll(async () => {
    for (const process of running) process.child.kill('SIGTERM');
    for (const process of running) expect((await process.exited).code).toBe(0);
    await target?.drop();
  });

  /** Status, body and headers of the same request to the API and to the worker. */
  const both = async (path: string, init: RequestInit = {}) => {
    const ask = async (base: string) => {
      const response = await fetch(`${base}${path}`, { redirect: 'manual', ...init });
      return { status: response.status, headers: response.headers, text: await response.text() };
    };
    return Promise.all([ask(urls.api), ask(urls.worker)]);
  };

  it('answers liveness, readiness and status as the API does, with its security headers', async () => {
    for (const path of ['/health/live', '/health/ready', '/health/status', '/info']) {
      const [api, worker] = await both(path);
      expect(worker.status, path).toBe(api.status);
      expect(worker.headers.get('content-type')).toBe(api.headers.get('content-type'));
      for (const header of [
        'content-security-policy',
        'x-content-type-options',
        'strict-transport-security',
        'x-frame-options',
        'referrer-policy',
      ])
        expect(worker.headers.get(header), header).toBe(api.headers.get(header));
      const [a, w] = [JSON.parse(api.text), JSON.parse(worker.text)];
      if (path === '/health/live') expect(w).toEqual(a);
      if (path === '/health/ready') expect(w).toMatchObject({ status: 'ready', failing: [], degraded: [] });
      if (path === '/info' || path === '/health/status')
        expect({ ...w, mode: 'worker', uptimeSeconds: 0 }).toMatchObject({
          name: a.name,
          version: a.version,
          mode: 'worker',
          apps: a.apps,
        });
    }
    const [, worker] = await both('/info');
    expect(JSON.parse(worker.text).mode).toBe('worker');
  });

  it('keeps a sane request id, replaces one holding a card number, and answers HEAD without a body', async () => {
    const [api, worker] = await both('/health/live', { headers: { 'x-request-id': 'probe-7.a:b' } });
    expect(worker.headers.get('x-request-id')).toBe('probe-7.a:b');
    expect(api.headers.get('x-request-id')).toBe('probe-7.a:b');
    const [, carded] = await both('/health/live', { headers: { 'x-request-id': 'id-4242424242424242' } });
    expect(carded.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const [apiHead, workerHead] = await both('/health/live', { method: 'HEAD' });
    expect(workerHead.status).toBe(apiHead.status);
    expect(workerHead.text).toBe('');
  });

  it('answers an unknown route or method with the envelope, as the API does', async () => {
    for (const [path, method] of [
      ['/nope?x=1', 'GET'],
      ['/health/live', 'POST'],
      ['/docs', 'GET'],
    ] as const) {
      const [, worker] = await both(path, { method });
      expect(worker.status).toBe(404);
      const body = JSON.parse(worker.text);
      expect(body).toEqual({
        error: {
          code: 'not_found',
          message: `No route ${method} ${path.split('?')[0]}`,
          requestId: worker.headers.get('x-request-id'),
        },
      });
    }
    const [api, worker] = await both('/nope');
    expect(JSON.parse(worker.text).error.message).toBe(JSON.parse(api.text).error.message);
  });

  it('serves Prometheus metrics with the readiness series and its own requests counted', async () => {
    await fetch(`${urls.worker}/health/live`);
    const [api, worker] = await both('/metrics');
    expect(worker.status).toBe(200);
    expect(worker.headers.get('content-type')).toBe(api.headers.get('content-type'));
    expect(worker.text).toContain('health_component_up{component="database",critical="true"} 1');
    expect(worker.text).toMatch(
      /http_requests_total\{method="GET",route="\/health\/live",status_code="200"\} [1-9]/,
    );
    expect(worker.text).toMatch(
      /http_requests_total\{method="GET",route="unmatched",status_code="404"\} [1-9]/,
    );
  });

  it('answers a request Node cannot parse with the envelope and closes the connection', async () => {
    const port = Number(new URL(urls.worker).port);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk;
      });
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'invalid_input', message: 'The request is not valid HTTP' },
    });
  });
});
