// A process going down (SIGTERM) stops taking connections and lets the requests in flight finish
// (main.ts closes its HTTP server first, then drains the jobs). A request in flight on a keep-alive
// connection (Prometheus's, a load balancer's) must get its whole answer and the connection must
// then be closed, so that closing does not wait for the connection's keep-alive timeout (72 s): on
// a worker's operations server and on the API's Fastify app alike. A request pipelined behind it
// gets 503 in the envelope (the worker's here, the API's in http-hardening.test.ts).
import net from 'node:net';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installClosingAnswer } from '../src/platform/http/closing.ts';
import { CLOSING_MESSAGE } from '../src/platform/http/envelope-messages.ts';
import type { ServiceInfo } from '../src/platform/http/ops-routes.ts';
import { createOpsServer } from '../src/platform/http/ops-server.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { captureLogs } from './helpers/logs.ts';
import { waitFor } from './helpers/wait.ts';

interface Closable {
  url: string;
  close(): Promise<void>;
}

/** A keep-alive request held in flight while `server` closes: what the client got, and how it ended. */
async function requestInFlightWhileClosing(
  start: (check: () => Promise<void>) => Promise<Closable>,
  path: string,
  /** A request written on the same connection once closing has begun, behind the one in flight. */
  behind?: string,
) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let checking = false;
  const server = await start(async () => {
    checking = true;
    await gate;
  });
  const url = new URL(server.url);
  const socket = net.connect(Number(url.port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk;
  });
  let endedByServer = false;
  const ended = new Promise<void>((resolve) =>
    socket.on('end', () => {
      endedByServer = true;
      resolve();
    }),
  );
  // HTTP/1.1: keep-alive unless either side says otherwise.
  socket.write(`GET ${path} HTTP/1.1\r\nHost: switchboard\r\nx-request-id: in-flight\r\n\r\n`);
  await waitFor('the request to be in flight', async () => checking);
  let closed = false;
  const closing = server.close().then(() => {
    closed = true;
  });
  if (behind) socket.write(`GET ${behind} HTTP/1.1\r\nHost: switchboard\r\nx-request-id: behind\r\n\r\n`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closedWhileInFlight = closed;
  release();
  await ended;
  await closing;
  socket.destroy();
  // Each response as its head and body (no body here holds a status line).
  const responses = received.split(/(?=HTTP\/1\.1 \d{3} )/).map((response) => {
    const [head = '', body = ''] = response.split('\r\n\r\n');
    return { head, body };
  });
  const [first = { head: '', body: '' }] = responses;
  return { closedWhileInFlight, endedByServer, ...first, responses };
}

const startOpsServer = async (check: () => Promise<void>): Promise<Closable> => {
  const server = createOpsServer({
    ops: {
      checks: [
        {
          name: 'database',
          check: async () => {
            await check();
            return 'postgres';
          },
        },
      ],
      info: () => ({ name: 'switchboard' }) as ServiceInfo,
      metrics: createMetrics(),
    },
    log: captureLogs('silent').log,
    metrics: createMetrics(),
  });
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => server.close() };
};

describe('a request in flight when the server begins to close', () => {
  it("on a worker's operations server: answered in full, then its keep-alive connection ends", async () => {
    const outcome = await requestInFlightWhileClosing(startOpsServer, '/health/ready');
    expect(outcome.closedWhileInFlight).toBe(false);
    expect(outcome.endedByServer).toBe(true);
    expect(outcome.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(outcome.head).toMatch(/\r\nx-request-id: in-flight(\r\n|$)/i);
    expect(outcome.head).not.toMatch(/\r\nretry-after:/i);
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 'ready', failing: [] });
  });

  it("on a worker's operations server: a request behind it gets 503 in the envelope, then the end", async () => {
    const outcome = await requestInFlightWhileClosing(startOpsServer, '/health/ready', '/health/live');
    expect(outcome.endedByServer).toBe(true);
    expect(outcome.head).toMatch(/^HTTP\/1\.1 200 /);
    const { head: behindHead = '', body: behindBody = '' } = outcome.responses[1] ?? {};
    expect(behindHead).toMatch(/^HTTP\/1\.1 503 /);
    expect(behindHead).toMatch(/\r\nconnection: close(\r\n|$)/i);
    expect(behindHead).toMatch(/\r\nretry-after: 1(\r\n|$)/i);
    expect(JSON.parse(behindBody)).toEqual({
      error: { code: 'unavailable', message: CLOSING_MESSAGE, requestId: 'behind' },
    });
  });

  it("on the API's Fastify app (installClosingAnswer): the same", async () => {
    const outcome = await requestInFlightWhileClosing(async (check) => {
      const app = Fastify({ return503OnClosing: false });
      installClosingAnswer(app);
      app.get('/slow', async () => {
        await check();
        return { answered: true };
      });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url, close: () => app.close() };
    }, '/slow');
    expect(outcome.closedWhileInFlight).toBe(false);
    expect(outcome.endedByServer).toBe(true);
    expect(outcome.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(outcome.body)).toEqual({ answered: true });
  });
});
