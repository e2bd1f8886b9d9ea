import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../src/config.ts';
import { AppError } from '../src/platform/errors.ts';
import { buildHttpApp } from '../src/platform/http/app.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { captureLogs } from './helpers/logs.ts';

const logs = captureLogs('info');
let app: FastifyInstance;

beforeAll(async () => {
  const config = loadConfig({ HTTP_BODY_LIMIT_BYTES: '1024' });
  app = await buildHttpApp({
    config: config.http,
    log: logs.log,
    ops: {
      checks: [],
      metrics: createMetrics({ processMetrics: false }),
      info: () => ({
        name: 'switchboard',
        version: 'test',
        uptimeSeconds: 0,
        mode: 'start',
        apps: [],
        drivers: {},
        channels: {},
      }),
    },
    routes: (root) => {
      const typed = root.withTypeProvider<ZodTypeProvider>();
      typed.post(
        '/things',
        {
          schema: {
            summary: 'Create a thing',
            body: z
              .object({ name: z.string().min(1).max(20), amount: z.number().int().nonnegative() })
              .strict(),
            response: { 201: z.object({ id: z.string() }) },
          },
        },
        async (_request, reply) => reply.status(201).send({ id: 't_1' }),
      );
      typed.get('/things/:id', { schema: { params: z.object({ id: z.string() }) } }, async (request) => {
        throw new AppError('not_found', `thing ${request.params.id} not found`);
      });
      typed.get('/boom', async () => {
        throw new Error('connection to 10.0.0.5 failed with password=hunter2');
      });
      typed.get('/limited', { config: { rateLimit: { max: 2, timeWindow: 60_000 } } }, async () => ({
        ok: true,
      }));
    },
  });
});
afterAll(() => app.close());

const post = (url: string, payload: string, contentType = 'application/json') =>
  app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });

describe('the error envelope', () => {
  it('answers malformed JSON with 400 malformed_json', async () => {
    const response = await post('/things', '{"name": "a",');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: {
        code: 'malformed_json',
        message: 'The request body is not valid JSON',
        requestId: expect.any(String),
      },
    });
    expect(response.headers['x-request-id']).toBe(response.json().error.requestId);
  });

  it('answers a schema failure with 400 invalid_input naming each field', async () => {
    const response = await post('/things', JSON.stringify({ name: '', amount: -5, extra: 1 }));
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('invalid_input');
    const fields = error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['body.name', 'body.amount']));
    expect(error.details.some((d: { message: string }) => /extra/.test(d.message))).toBe(true);
  });

  it('answers an oversize body with 413 payload_too_large', async () => {
    const response = await post('/things', JSON.stringify({ name: 'x'.repeat(2000), amount: 1 }));
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('payload_too_large');
  });

  it('answers an unsupported content type with 415', async () => {
    const response = await post('/things', 'name=a', 'text/csv');
    expect(response.statusCode).toBe(415);
    expect(response.json().error.code).toBe('unsupported_media_type');
  });

  it('answers unknown routes with 404 not_found', async () => {
    const response = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toMatchObject({ code: 'not_found', message: 'No route GET /nowhere' });
  });

  it('maps AppError to its status and code', async () => {
    const response = await app.inject({ method: 'GET', url: '/things/42' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toMatchObject({ code: 'not_found', message: 'thing 42 not found' });
  });

  it('answers an unexpected error with 500 and no internals, and logs it', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/boom',
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: { code: 'internal', message: 'Internal server error', requestId: 'trace-123' },
    });
    expect(response.body).not.toMatch(/hunter2|10\.0\.0\.5|at .*\.ts/);
    const logged = logs
      .lines()
      .map((line) => JSON.parse(line))
      .find((line) => line.reqId === 'trace-123' && line.err);
    expect(logged?.msg).toBe('request failed');
  });

  it('answers past a route rate limit with 429 rate_limited and Retry-After', async () => {
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await app.inject({ method: 'GET', url: '/limited' })).statusCode);
    expect(codes).toEqual([200, 200, 429]);
    const limited = await app.inject({ method: 'GET', url: '/limited' });
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('requests', () => {
  it('carry a request id in every log line and the response', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'abc-1' },
    });
    expect(response.headers['x-request-id']).toBe('abc-1');
    const lines = logs
      .lines()
      .map((line) => JSON.parse(line))
      .filter((line) => line.reqId === 'abc-1');
    expect(lines.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
  });

  it('replace an unusable request id with their own', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'bad id\n' },
    });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('get security headers', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/live' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['strict-transport-security']).toBeDefined();
  });
});

describe('API documentation', () => {
  it('serves an OpenAPI document describing the routes and their schemas', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/things'].post.summary).toBe('Create a thing');
    expect(doc.paths['/things'].post.requestBody.content['application/json'].schema.required).toEqual([
      'name',
      'amount',
    ]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health/live', '/health/ready', '/metrics', '/info']),
    );
  });

  it('serves the docs page', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('swagger-ui');
  });
});
