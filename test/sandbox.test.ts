import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

describe('sandbox drivers (no credentials: the embedded default)', () => {
  let running: TestService;
  beforeAll(async () => {
    running = await startTestService('pglite');
  });
  afterAll(() => running?.dispose());

  it('are what /info reports for every channel', async () => {
    expect((await running.service.app.inject('/info')).json().channels).toEqual({
      sms: 'sandbox',
      email: 'sandbox',
      slack: 'sandbox',
    });
    expect(running.logs.text()).toContain('sms uses the SANDBOX');
  });

  it('store every message and list it, clearly labelled', async () => {
    const { channels, app } = running.service;
    const sms = await channels.enqueue({
      dedupeKey: 'sb:sms',
      channel: 'sms',
      to: '+14155550123',
      content: { body: 'Hello from the sandbox' },
    });
    await channels.enqueue({
      dedupeKey: 'sb:email',
      channel: 'email',
      to: 'ap@example.com',
      content: { subject: 'Subject', text: 'Body' },
    });
    await channels.enqueue({
      dedupeKey: 'sb:slack',
      channel: 'slack',
      to: 'C0CREDITS01',
      content: { text: 'Approved, $4,948.80, exceptions' },
    });
    const listing = await waitFor('three sandbox messages', async () => {
      const body = (await app.inject('/sandbox/messages')).json();
      return body.messages.length === 3 ? body : undefined;
    });
    expect(listing.sandbox).toBe(true);
    expect(listing.messages.map((m: { channel: string }) => m.channel).sort()).toEqual([
      'email',
      'slack',
      'sms',
    ]);
    expect((await app.inject('/sandbox/messages?channel=sms')).json().messages[0]).toMatchObject({
      direction: 'outbound',
      to: '+14155550123',
      content: { body: 'Hello from the sandbox' },
      outboxId: sms.id,
    });
    expect((await app.inject(`/outbox/${sms.id}`)).json()).toMatchObject({
      status: 'delivered',
      driver: 'sandbox',
    });
  });

  it('simulate inbound SMS with the same keyword rules as a phone', async () => {
    const { channels, app } = running.service;
    const stop = await app.inject({
      method: 'POST',
      url: '/sandbox/sms/inbound',
      payload: { from: '+14155550199', body: 'STOP' },
    });
    expect(stop.statusCode).toBe(202);
    expect(stop.json()).toMatchObject({ sandbox: true, action: 'opted_out' });
    const after = await channels.enqueue({
      dedupeKey: 'sb:after-stop',
      channel: 'sms',
      to: '+14155550199',
      content: { body: 'x' },
    });
    expect(after.status).toBe('suppressed');
    const bad = await app.inject({
      method: 'POST',
      url: '/sandbox/sms/inbound',
      payload: { from: 'nobody', body: 'hi' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe('body.from');
  });
});

describe('the operator API with ADMIN_API_TOKEN', () => {
  let running: TestService;
  beforeAll(async () => {
    running = await startTestService('pglite', { env: { ADMIN_API_TOKEN: 'a-very-secret-admin-token' } });
  });
  afterAll(() => running?.dispose());

  it('needs the bearer token on /outbox and /sandbox, and nowhere else', async () => {
    const { app } = running.service;
    for (const url of ['/outbox', '/sandbox/messages']) {
      expect((await app.inject(url)).statusCode).toBe(401);
      expect(
        (await app.inject({ url, headers: { authorization: 'Bearer wrong-token' } })).json().error.code,
      ).toBe('unauthorized');
      expect(
        (await app.inject({ url, headers: { authorization: 'Bearer a-very-secret-admin-token' } }))
          .statusCode,
      ).toBe(200);
    }
    expect((await app.inject('/health/ready')).statusCode).toBe(200);
  });
});
