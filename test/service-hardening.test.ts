// Hostile requests against whole services: a provider down behind a route, Redis unreachable under
// every rate-limited route, guessed API keys, the per-session chat limit, and resuming a /pay
// session without the proof handed out with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { dailyApp } from '../src/apps/daily/app.ts';
import { invoicesApp } from '../src/apps/invoices/app.ts';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { createTestDatabase, databaseKinds } from './helpers/databases.ts';
import { freePort } from './helpers/processes.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';

const API_KEY = 'sbk_hardening_key_0123456789abcdef';

describe.each(databaseKinds)('hostile requests to the service on %s', (kind) => {
  let running: TestService;
  const app = () => running.service.app;

  beforeAll(async () => {
    // Slack's API and Redis are configured but nothing answers on their ports.
    const closed = await freePort();
    running = await startTestService(kind, {
      apps: [creditsApp, dailyApp, createPaymentsApp()],
      env: {
        SLACK_BOT_TOKEN: 'xoxb-hardening',
        SLACK_API_URL: `http://127.0.0.1:${closed}/api`,
        CREDITS_CHANNELS: 'C0HARDEN',
        REDIS_URL: `redis://127.0.0.1:${closed}`,
        CHAT_API_KEYS: API_KEY,
        CHAT_RATE_LIMIT_PER_SESSION: '2',
        AUTH_FAILURE_RATE_LIMIT: '4',
        PROVIDER_TIMEOUT_SECONDS: '2',
      },
    });
  });
  afterAll(() => running?.dispose());

  it('POST /credits/poll with Slack down is 502 provider_unavailable', async () => {
    // The first pass only sets the channel's baseline; the second reads Slack's history.
    await app().inject({ method: 'POST', url: '/credits/poll' });
    const response = await app().inject({ method: 'POST', url: '/credits/poll' });
    expect(response.statusCode).toBe(502);
    expect(response.json().error.code).toBe('provider_unavailable');
  });

  it('with Redis down every rate-limited route still answers (memory limits), and readiness says degraded', async () => {
    const subscriber = await app().inject({
      method: 'POST',
      url: '/subscribers',
      payload: { phone: '+14155550123', timeZone: 'America/Los_Angeles' },
    });
    expect(subscriber.statusCode).toBe(201);
    const chat = await app().inject({
      method: 'POST',
      url: '/chat',
      headers: { authorization: `Bearer ${API_KEY}` },
      payload: { sessionId: 'redis-down', message: 'hello' },
    });
    expect(chat.statusCode).toBe(200);
    const webhook = await app().inject({
      method: 'POST',
      url: '/webhooks/slack/events',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(webhook.statusCode).toBe(404); // no signing secret: not configured, but not a 500
    const ready = await app().inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', degraded: ['redis'] });
  });

  it('the per-session chat limit answers 429 with Retry-After', async () => {
    const send = () =>
      app().inject({
        method: 'POST',
        url: '/chat',
        headers: { authorization: `Bearer ${API_KEY}` },
        payload: { sessionId: `limited-${kind}`, message: 'hello' },
      });
    expect((await send()).statusCode).toBe(200);
    expect((await send()).statusCode).toBe(200);
    const limited = await send();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('guessed API keys are limited per address, not per guess', async () => {
    const guess = (key: string) =>
      app().inject({
        method: 'POST',
        url: '/chat',
        remoteAddress: '203.0.113.50',
        headers: { authorization: `Bearer ${key}` },
        payload: { sessionId: 'guessing', message: 'hi' },
      });
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await guess(`sbk_guess_${i}`)).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 429, 429]);
  });

  it('GET /pay resumes a session only with the cookie handed out when it was made', async () => {
    const first = await app().inject('/pay');
    const session = first.body.match(/data-session="([^"]+)"/)?.[1] as string;
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/^paybot_session=web-[0-9a-f-]+\.[\w-]+; Path=\/pay; HttpOnly; SameSite=Lax/);
    const cookie = setCookie.split(';')[0] as string;

    const resumed = await app().inject({ url: `/pay?session=${session}`, headers: { cookie } });
    expect(resumed.body).toContain(`data-session="${session}"`);
    expect(resumed.headers['set-cookie']).toBeUndefined();

    // The id alone (from a URL, a referrer, history) gets a new session and no token for the old one.
    const stolen = await app().inject(`/pay?session=${session}`);
    expect(stolen.body).not.toContain(session);
    const other = await app().inject('/pay');
    const otherCookie = String(other.headers['set-cookie']).split(';')[0] as string;
    const mixed = await app().inject({ url: `/pay?session=${session}`, headers: { cookie: otherCookie } });
    expect(mixed.body).not.toContain(session);
    const forged = await app().inject({
      url: `/pay?session=${session}`,
      headers: { cookie: `paybot_session=${session}.AAAA` },
    });
    expect(forged.body).not.toContain(session);
  });
});

describe.each(databaseKinds)('the database going away on %s', (kind) => {
  it('makes API requests 503 unavailable, not 500', async () => {
    const cleanup: Array<() => Promise<unknown>> = [];
    try {
      let running: TestService;
      let stop: () => Promise<unknown>;
      if (kind === 'pglite') {
        running = await startTestService(kind, { apps: [invoicesApp] });
        stop = async () => running.service.db.pglite?.close();
      } else {
        // PostgreSQL behind a proxy that can be cut, as the health tests do.
        const target = await createTestDatabase('postgres');
        cleanup.push(() => target.drop());
        if (target.config.kind !== 'postgres') throw new Error('expected postgres');
        const url = new URL(target.config.url);
        const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
        cleanup.push(() => proxy.close().catch(() => undefined));
        url.host = `127.0.0.1:${proxy.port}`;
        running = await startTestService('postgres', {
          apps: [invoicesApp],
          target: { ...target, config: { ...target.config, url: url.toString() } },
        });
        stop = () => proxy.cut();
      }
      cleanup.unshift(() => running.dispose().catch(() => undefined));
      expect((await running.service.app.inject('/invoices')).statusCode).toBe(200);
      await stop();
      const response = await running.service.app.inject('/invoices');
      expect(response.statusCode).toBe(503);
      expect(response.json().error.code).toBe('unavailable');
    } finally {
      for (const step of cleanup) await step();
    }
  }, 60_000);
});
