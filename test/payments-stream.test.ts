// POST /chat as server-sent events: a real listening server read with fetch, the stream parsed by an
// independent SSE parser (eventsource-parser, the one the AI SDK uses). The events and their order,
// the final event's contract equal to the JSON answer, errors still the JSON envelope with their
// status, and JSON for everyone who does not ask for the stream.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { wantsEventStream } from '../src/apps/payments/chat-stream.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const KEY = 'stream-test-key-0123456789abc';

describe('POST /chat as server-sent events', () => {
  let stripe: FakeStripe;
  let running: TestService;
  let url: string;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    running = await startTestService('pglite', {
      apps: [createPaymentsApp()],
      env: { ...stripe.env, PAYMENTS_CARD_MODE: 'embedded', CHAT_API_KEYS: KEY },
    });
    url = await running.service.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await running?.dispose();
    await stripe?.close();
  });

  async function post(body: object, accept: string) {
    return fetch(`${url}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', accept },
      body: JSON.stringify(body),
    });
  }

  async function events(response: Response): Promise<EventSourceMessage[]> {
    const seen: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => seen.push(event) });
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
      parser.feed(decoder.decode(chunk, { stream: true }));
    return seen;
  }

  it('streams the rule-based answer as one event, then the whole contract', async () => {
    const response = await post({ sessionId: 'sse-1', message: 'Hi, I am Jane Doe' }, 'text/event-stream');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const seen = await events(response);
    expect(seen.map((event) => event.event)).toEqual(['message', 'done']);
    const done = JSON.parse(seen[1]?.data as string);
    expect(done).toEqual({
      response: expect.stringContaining('Thanks, Jane Doe.'),
      status: 'collecting',
      sessionId: 'sse-1',
      currentField: 'amount',
    });
    expect(JSON.parse(seen[0]?.data as string)).toEqual({ text: done.response });
  });

  it('carries the payment action in the final event, as the JSON answer does', async () => {
    const seen = await events(await post({ sessionId: 'sse-1', message: '$12.50' }, 'text/event-stream'));
    const done = JSON.parse(seen.at(-1)?.data as string);
    expect(done).toMatchObject({
      status: 'collecting',
      currentField: 'card',
      payment: { publishableKey: 'pk_test_fake_paybot', amount: 1250, currency: 'usd' },
    });
  });

  it('answers JSON to everyone else, and errors as the JSON envelope with their status', async () => {
    for (const accept of ['application/json', '*/*', 'application/json, text/event-stream']) {
      const response = await post({ sessionId: 'sse-2', message: 'hello' }, accept);
      expect(response.headers.get('content-type'), accept).toMatch(/^application\/json/);
      expect(await response.json()).toMatchObject({ sessionId: 'sse-2', currentField: 'name' });
    }
    const refused = await fetch(`${url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ sessionId: 'sse-3', message: 'hi' }),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const bad = await post({ sessionId: 'bad id!', message: 'hi' }, 'text/event-stream');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_input');
  });

  it('reads Accept the way clients write it', () => {
    expect(wantsEventStream('text/event-stream')).toBe(true);
    expect(wantsEventStream('Text/Event-Stream; charset=utf-8')).toBe(true);
    expect(wantsEventStream('text/event-stream, application/json;q=0.5')).toBe(true);
    expect(wantsEventStream('application/json, text/event-stream')).toBe(false);
    expect(wantsEventStream(undefined)).toBe(false);
    expect(wantsEventStream('*/*')).toBe(false);
  });

  it('GET /pay/status answers the page for its own session only', async () => {
    const page = await fetch(`${url}/pay`);
    const html = await page.text();
    const session = html.match(/data-session="([^"]+)"/)?.[1] as string;
    const token = html.match(/data-token="([^"]+)"/)?.[1] as string;
    const status = (id: string, headers: Record<string, string>) =>
      fetch(`${url}/pay/status?session=${encodeURIComponent(id)}`, { headers });
    // No turn yet: no session to report on.
    expect((await status(session, { 'x-pay-page-token': token })).status).toBe(404);
    await fetch(`${url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pay-page-token': token },
      body: JSON.stringify({ sessionId: session, message: 'I am Ann Lee, pay $7, ann@example.com' }),
    });
    const answer = await status(session, { 'x-pay-page-token': token });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({
      status: 'collecting',
      currentField: 'card',
      charging: false,
      amountText: '$7.00',
      description: 'Payment to PayBot',
      receiptEmail: 'ann@example.com',
      reference: null,
    });
    expect((await status(session, {})).status).toBe(401);
    expect((await status(session, { 'x-pay-page-token': 'forged' })).status).toBe(401);
    expect((await status('sse-1', { 'x-pay-page-token': token })).status).toBe(401);
  });
});
