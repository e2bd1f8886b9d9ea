// The HTTP door: a card number anywhere in a request (URL, query, path parameter, body field, object
// key) is 400 invalid_input naming the field, without quoting it; fields a route redacts itself and
// webhooks pass; ordinary ids, timestamps and phone numbers pass.
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCardNumberPolicy } from '../src/platform/http/card-policy.ts';
import { installErrorHandling } from '../src/platform/http/error-handler.ts';

describe('card-number policy at the HTTP door', () => {
  const app = Fastify();
  const seen: unknown[] = [];
  beforeAll(async () => {
    installErrorHandling(app);
    installCardNumberPolicy(app);
    app.post('/things/:id', async (request) => {
      seen.push(request.body);
      return { ok: true };
    });
    app.post('/chatty', { config: { cardNumbers: { redactedFields: ['body.message'] } } }, async () => ({
      ok: true,
    }));
    app.post('/webhooks/provider', async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(() => app.close());

  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });

  it('refuses a card number in a body field, a nested field, an object key, the query and the path', async () => {
    const cases: Array<[string, object, string]> = [
      ['/things/1', { name: 'Jane', note: 'card 4242 4242 4242 4242' }, 'body.note'],
      [
        '/things/1',
        { items: [{ vendor: 'ok' }, { vendor: '４２４２４２４２４２４２４２４２' }] },
        'body.items.1.vendor',
      ],
      ['/things/1', { map: { '5555555555554444': 1 } }, 'body.map'],
      ['/things/1?ref=4012-8888-8888-1881', {}, 'url'],
      ['/things/378282246310005', {}, 'url'],
    ];
    for (const [url, payload, field] of cases) {
      const response = await post(url, payload);
      expect(response.statusCode, url).toBe(400);
      const error = response.json().error;
      expect(error).toMatchObject({ code: 'invalid_input', details: [{ field }] });
      // Without the envelope's requestId: a random UUID can hold "4242" or "4012" by chance.
      expect(response.body.replace(error.requestId, '')).not.toMatch(
        /4242|5555555555554444|4012|378282246310005|４２/,
      );
    }
    expect(seen).toEqual([]);
  });

  it('lets through fields the route redacts itself, webhooks, and ids, timestamps and phone numbers', async () => {
    expect((await post('/chatty', { message: 'my card is 4242424242424242' })).statusCode).toBe(200);
    expect((await post('/webhooks/provider', { Body: '4242424242424242' })).statusCode).toBe(200);
    const ordinary = {
      id: '1b4e28ba-2fa1-41d2-4242-424242424242',
      at: '2026-12-30 01:02:03.123456+00',
      phone: '+4915112345678',
      sid: 'SM0123456789abcdef0123456789abcdef',
      amount: '1,234,567.89',
    };
    expect((await post('/things/1', ordinary)).statusCode).toBe(200);
    expect(seen).toEqual([ordinary]);
  });
});
