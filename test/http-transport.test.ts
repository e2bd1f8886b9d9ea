import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, formEncode } from '../src/platform/channels/http-transport.ts';
import { isNetworkError } from '../src/platform/channels/types.ts';

describe('formEncode', () => {
  it('repeats array values and skips unset ones, as the Twilio SDK encodes forms', () => {
    expect(
      formEncode({ To: '+14155550100', MediaUrl: ['https://a/1', 'https://a/2'], Skip: undefined }),
    ).toBe('To=%2B14155550100&MediaUrl=https%3A%2F%2Fa%2F1&MediaUrl=https%3A%2F%2Fa%2F2');
    expect(formEncode({ Body: 'a b&c=d', Flag: true })).toBe('Body=a+b%26c%3Dd&Flag=true');
  });
});

describe('the provider HTTP transport', () => {
  let server: http.Server;
  let base: string;
  const seen: Array<{ method?: string; url?: string; body: string; length?: string }> = [];
  const transport = createHttpTransport();

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push({
          method: request.method,
          url: request.url,
          body,
          length: request.headers['content-length'],
        });
        if (request.url === '/slow') return void setTimeout(() => response.end('late'), 1000);
        response.writeHead(201, { 'content-type': 'application/json', 'retry-after': '3' });
        response.end('{"ok":"é"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    transport.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the body with its byte length and returns status, headers and text', async () => {
    const answer = await transport.request({
      method: 'POST',
      url: new URL(`${base}/v1/things?x=1`),
      headers: { 'Content-Type': 'application/json' },
      body: '{"name":"Zoë"}',
      timeoutMs: 5000,
    });
    expect(answer).toMatchObject({ status: 201, body: '{"ok":"é"}' });
    expect(answer.headers['retry-after']).toBe('3');
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      url: '/v1/things?x=1',
      body: '{"name":"Zoë"}',
      length: '15',
    });
  });

  it('gives up after the timeout with a network error the outbox retries', async () => {
    const failure = await transport
      .request({ method: 'GET', url: new URL(`${base}/slow`), headers: {}, timeoutMs: 100 })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { code?: string }).code).toBe('ETIMEDOUT');
    expect(isNetworkError(failure)).toBe(true);
  });

  it('reports a refused connection as a network error', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await transport
      .request({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`), headers: {}, timeoutMs: 1000 })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(isNetworkError(failure)).toBe(true);
  });
});
