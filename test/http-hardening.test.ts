// The HTTP layer against hostile input: text PostgreSQL cannot store, errors Fastify and Node answer
// themselves, faults of providers and components, Redis going away under the rate limits, failed
// credentials, proxies and loopback.
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../src/config.ts';
import { ProviderError } from '../src/platform/channels/types.ts';
import { AppError } from '../src/platform/errors.ts';
import { isLoopbackHost } from '../src/platform/http/addresses.ts';
import { adminGuard } from '../src/platform/http/admin-auth.ts';
import { buildHttpApp } from '../src/platform/http/app.ts';
import { createMetrics, type Metrics } from '../src/platform/metrics.ts';
import { captureLogs } from './helpers/logs.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const info = () => ({
  name: 'switchboard',
  version: 'test',
  uptimeSeconds: 0,
  mode: 'start',
  apps: [],
  drivers: {},
  channels: {},
});

async function build(
  env: Record<string, string> = {},
  options: { redis?: Redis; metrics?: Metrics; logs?: ReturnType<typeof captureLogs> } = {},
): Promise<FastifyInstance> {
  const config = loadConfig(env);
  return buildHttpApp({
    config: config.http,
    log: (options.logs ?? captureLogs('info')).log,
    redis: options.redis ?? null,
    ops: { checks: [], metrics: options.metrics ?? createMetrics({ processMetrics: false }), info },
    routes: (root) => {
      const typed = root.withTypeProvider<ZodTypeProvider>();
      typed.post(
        '/notes',
        { schema: { body: z.object({ title: z.string(), tags: z.array(z.string()).optional() }).strict() } },
        async (request, reply) => reply.status(201).send({ title: request.body.title }),
      );
      typed.get('/notes/:id', { schema: { params: z.object({ id: z.string() }) } }, async (request) => ({
        id: request.params.id,
      }));
      typed.get('/search', { schema: { querystring: z.object({ q: z.string() }) } }, async (request) => ({
        q: request.query.q,
      }));
      root.get('/provider-down', async () => {
        throw new ProviderError('Slack HTTP 503', { permanent: false, status: 503 });
      });
      root.get('/wrapped-provider', async () => {
        throw new Error('poll failed', {
          cause: new ProviderError('Slack: fatal_error', { permanent: false }),
        });
      });
      root.get('/database-down', async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
      });
      root.get('/database-shutdown', async () => {
        throw Object.assign(new Error('terminating connection due to administrator command'), {
          code: '57P01',
        });
      });
      root.get('/bug', async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'id')");
      });
      root.get('/slow-down', async () => {
        throw new AppError('rate_limited', 'wait', { retryAfterSeconds: 12.2 });
      });
      root.get('/limited', { config: { rateLimit: { max: 2, timeWindow: 60_000 } } }, async () => ({
        ok: true,
      }));
      root.get('/admin', { preHandler: adminGuard('the-admin-token') }, async () => ({ ok: true }));
      root.get('/whoami', async (request) => ({ ip: request.ip }));
      root.get('/slow', async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { ok: true };
      });
    },
  });
}

const isEnvelope = (body: unknown) =>
  expect(body).toEqual({
    error: expect.objectContaining({
      code: expect.any(String),
      message: expect.any(String),
      requestId: expect.any(String),
    }),
  });

describe('one input policy for every route', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await build();
  });
  afterAll(() => app.close());

  const postNote = (body: string) =>
    app.inject({
      method: 'POST',
      url: '/notes',
      payload: body,
      headers: { 'content-type': 'application/json' },
    });

  it('refuses NUL and lone surrogates anywhere in a body with 400 naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['{"title":"a\\u0000b"}', 'body.title'],
      ['{"title":"\\ud800"}', 'body.title'],
      ['{"title":"ok","tags":["fine","x\\udfff"]}', 'body.tags.1'],
      ['{"title":"ok","a\\u0000":1}', 'body."a\\u0000"'],
    ];
    for (const [payload, field] of cases) {
      const response = await postNote(payload);
      expect(response.statusCode, payload).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'invalid_input', details: [{ field }] });
    }
    // Well-formed surrogate pairs (emoji) are text like any other.
    expect((await postNote('{"title":"\\ud83d\\ude00 ok"}')).statusCode).toBe(201);
  });

  it('refuses them in path parameters, query parameters and headers too', async () => {
    const param = await app.inject('/notes/a%00b');
    expect(param.statusCode).toBe(400);
    expect(param.json().error.details[0].field).toBe('params.id');
    const query = await app.inject('/search?q=a%00b');
    expect(query.statusCode).toBe(400);
    expect(query.json().error.details[0].field).toBe('querystring.q');
    const header = await app.inject({ url: '/search?q=x', headers: { 'x-idempotency-key': 'a\u0000b' } });
    expect(header.statusCode).toBe(400);
    expect(header.json().error.details[0].field).toBe('headers.x-idempotency-key');
  });

  it('refuses prototype keys in JSON bodies', async () => {
    for (const payload of [
      '{"__proto__":{"admin":true},"title":"x"}',
      '{"constructor":{"prototype":{}},"title":"x"}',
    ]) {
      const response = await postNote(payload);
      expect(response.statusCode, payload).toBe(400);
      isEnvelope(response.json());
    }
  });
});

describe('framework-level errors in the envelope', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await build();
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as net.AddressInfo).port;
  });
  afterAll(() => app.close());

  /** The raw answer to `request` written on a socket, as a client would see it. */
  const raw = (request: string) =>
    new Promise<{ status: number; headers: string; body: string }>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk;
      });
      socket.on('error', reject);
      socket.on('close', () => {
        const [head = '', body = ''] = data.split('\r\n\r\n');
        resolve({ status: Number(head.split(' ')[1]), headers: head, body });
      });
    });

  it('bad percent-encoding is 400 invalid_input', async () => {
    for (const url of ['/notes/%zz', '/notes/%E0%A4%A']) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.code).toBe('invalid_input');
      expect(response.headers['x-request-id']).toBe(response.json().error.requestId);
    }
  });

  it('a path parameter over 100 characters is 414 uri_too_long', async () => {
    const response = await app.inject(`/notes/${'a'.repeat(101)}`);
    expect(response.statusCode).toBe(414);
    expect(response.json().error.code).toBe('uri_too_long');
  });

  it('headers over 16 KB are 431 headers_too_large, on the wire', async () => {
    const response = await raw(`GET /search?q=x HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expect(response.status).toBe(431);
    expect(response.headers).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(response.body).error.code).toBe('headers_too_large');
  });

  it('a request Node cannot parse is 400 invalid_input, on the wire', async () => {
    const response = await raw('GARBAGE\r\n\r\n');
    expect(response.status).toBe(400);
    isEnvelope(JSON.parse(response.body));
  });

  it('unknown routes, wrong methods and wrong content types have the envelope', async () => {
    for (const response of [
      await app.inject('/nowhere'),
      await app.inject({ method: 'DELETE', url: '/notes' }),
      await app.inject({
        method: 'POST',
        url: '/notes',
        payload: '<x/>',
        headers: { 'content-type': 'application/xml' },
      }),
      await app.inject({
        method: 'POST',
        url: '/notes',
        payload: '{',
        headers: { 'content-type': 'application/json' },
      }),
    ]) {
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
      isEnvelope(response.json());
    }
  });
});

describe('shutting down', () => {
  it('a request arriving while the server drains gets 503 unavailable in the envelope', async () => {
    const app = await build();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as net.AddressInfo).port;
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = app.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write('GET /whoami HTTP/1.1\r\nHost: a\r\n\r\n');
    await Promise.all([closing, closed]);
    const bodies = data.split('\r\n\r\n');
    expect(data).toMatch(/^HTTP\/1.1 200/);
    expect(data).toContain('HTTP/1.1 503');
    expect(bodies.some((part) => part.startsWith('{"error":{"code":"unavailable"'))).toBe(true);
  });
});

describe('faults', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await build();
  });
  afterAll(() => app.close());

  it('a provider fault is 502 provider_unavailable, a component fault 503 unavailable, a bug 500', async () => {
    const status = async (url: string) => {
      const response = await app.inject(url);
      return [response.statusCode, response.json().error.code];
    };
    expect(await status('/provider-down')).toEqual([502, 'provider_unavailable']);
    expect(await status('/wrapped-provider')).toEqual([502, 'provider_unavailable']);
    expect(await status('/database-down')).toEqual([503, 'unavailable']);
    expect(await status('/database-shutdown')).toEqual([503, 'unavailable']);
    expect(await status('/bug')).toEqual([500, 'internal']);
    const body = (await app.inject('/database-down')).body;
    expect(body).not.toContain('10.0.0.5');
  });

  it('an AppError with a retry time sends Retry-After', async () => {
    const response = await app.inject('/slow-down');
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('13');
  });
});

describe('rate limits when Redis goes away', () => {
  let proxy: TcpProxy;
  let redis: Redis;
  let app: FastifyInstance;
  const metrics = createMetrics({ processMetrics: false });
  const logs = captureLogs('info');

  beforeAll(async () => {
    proxy = await startTcpProxy('127.0.0.1', 6379);
    redis = new Redis(`redis://127.0.0.1:${proxy.port}`, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => 200,
    });
    redis.on('error', () => {});
    await new Promise((resolve) => redis.once('ready', resolve));
    await redis.flushdb().catch(() => undefined);
    app = await build({}, { redis, metrics, logs });
  });
  afterAll(async () => {
    await app?.close();
    redis?.disconnect();
    await proxy?.close().catch(() => undefined);
  });

  it('keeps limiting in memory, never fails a request, and says so in a warning and a metric', async () => {
    const whileUp = [];
    for (let i = 0; i < 3; i++) whileUp.push((await app.inject('/limited')).statusCode);
    expect(whileUp).toEqual([200, 200, 429]);
    expect(await redis.keys('switchboard-rl:*')).not.toHaveLength(0);

    await proxy.cut();
    const whileDown = [];
    for (let i = 0; i < 4; i++) {
      const response = await app.inject('/limited');
      whileDown.push(response.statusCode);
      if (response.statusCode === 429) expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Counted afresh in this process's memory: two allowed, then limited again. Never a 500.
    expect(whileDown).toEqual([200, 200, 429, 429]);
    const scraped = await metrics.registry.getSingleMetricAsString('rate_limit_store_fallbacks_total');
    expect(scraped).toMatch(/rate_limit_store_fallbacks_total\{reason="(not_connected|error)"\} [1-9]/);
    expect(logs.text()).toContain('rate limits are counted in this process only');
  });
});

describe('failed credentials are limited per source address', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await build({ AUTH_FAILURE_RATE_LIMIT: '3' });
  });
  afterAll(() => app.close());

  const admin = (token: string, remoteAddress = '203.0.113.7') =>
    app.inject({ url: '/admin', remoteAddress, headers: { authorization: `Bearer ${token}` } });

  it('after the limit every guess from that address is 429 with Retry-After, the right token too', async () => {
    expect((await admin('the-admin-token')).statusCode).toBe(200);
    const guesses = [];
    for (let i = 0; i < 3; i++) guesses.push((await admin(`guess-${i}`)).statusCode);
    expect(guesses).toEqual([401, 401, 401]);
    const blocked = await admin('guess-4');
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.json().error.code).toBe('rate_limited');
    expect((await admin('the-admin-token')).statusCode).toBe(429);
    // Another address is not affected.
    expect((await admin('the-admin-token', '198.51.100.2')).statusCode).toBe(200);
  });
});

describe('TRUST_PROXY', () => {
  it('takes false, a hop count (true: one) or addresses and CIDRs, and refuses anything else', () => {
    const trust = (value: string) => loadConfig({ TRUST_PROXY: value }).http.trustProxy;
    expect(trust('false')).toBe(false);
    expect(trust('true')).toBe(1);
    expect(trust('2')).toBe(2);
    expect(trust('10.0.0.0/8, 127.0.0.1,::1')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    for (const bad of ['maybe', '10.0.0.0/33', 'proxy.internal', '1.2.3.4,']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(ConfigError);
    }
  });

  for (const setting of ['1', '127.0.0.1']) {
    it(`with TRUST_PROXY=${setting} a client cannot choose its address by rotating X-Forwarded-For`, async () => {
      const app = await build({ TRUST_PROXY: setting });
      try {
        const codes = [];
        for (let i = 0; i < 3; i++) {
          // The client's own X-Forwarded-For, with the proxy's entry (the real peer) appended last.
          const response = await app.inject({
            url: '/limited',
            remoteAddress: '127.0.0.1',
            headers: { 'x-forwarded-for': `10.${i}.${i}.${i}, 198.51.100.9` },
          });
          codes.push(response.statusCode);
        }
        expect(codes).toEqual([200, 200, 429]);
        const seen = await app.inject({
          url: '/whoami',
          remoteAddress: '127.0.0.1',
          headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.9' },
        });
        expect(seen.json().ip).toBe('198.51.100.9');
      } finally {
        await app.close();
      }
    });
  }

  it('an untrusted peer cannot claim an address at all', async () => {
    const app = await build({ TRUST_PROXY: '10.0.0.1' });
    try {
      const seen = await app.inject({
        url: '/whoami',
        remoteAddress: '203.0.113.5',
        headers: { 'x-forwarded-for': '6.6.6.6' },
      });
      expect(seen.json().ip).toBe('203.0.113.5');
    } finally {
      await app.close();
    }
  });
});

describe('loopback is decided by the address', () => {
  it('names that start like a loopback address are not loopback', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      '127.attacker.example',
      '127.0.0.1.nip.io',
      '0.0.0.0',
      '::',
      '10.0.0.1',
      'localhost.evil',
      '1270.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('HOST=127.attacker.example needs ADMIN_API_TOKEN like any reachable address', () => {
    let error: unknown;
    try {
      loadConfig({ HOST: '127.attacker.example' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toContain('ADMIN_API_TOKEN');
    expect(() => loadConfig({ HOST: '127.0.0.2' })).not.toThrow();
  });
});
