// Card numbers in every shape, through every text the service takes (PayBot's chat at each step,
// its ids, a card split over several messages, invoice vendor names, subscriber names, URL paths
// and queries, X-Request-Id), on the real service with a language model behind PayBot (the fake
// OpenAI, answering with whatever the customer wrote, so anything that reaches it would come back).
// Afterwards the whole log output, every row of every table, every response and every model prompt
// are searched, after reading digits of any script as 0-9 and dropping separators, and must hold
// none of the generated numbers. Generated with fast-check, fixed seed, bounded runs.
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyApp } from '../src/apps/daily/app.ts';
import { invoicesApp } from '../src/apps/invoices/app.ts';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { type FakeOpenAI, startFakeOpenAI } from './fakes/openai.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { cardNumber, cardShape, containsPan } from './helpers/card-shapes.ts';
import { databaseKinds } from './helpers/databases.ts';
import { dumpAllRows } from './helpers/dump.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const API_KEY = 'chat-key-for-card-tests-0123';
const AUTH = { authorization: `Bearer ${API_KEY}` };
const RUNS = { seed: 1157, numRuns: 24 };

/** `pan` cut into pieces of 4-6 digits, as someone typing it one group per message would. */
function pieces(pan: string): fc.Arbitrary<string[]> {
  return fc.array(fc.integer({ min: 4, max: 6 }), { minLength: 4, maxLength: 5 }).map((sizes) => {
    const out: string[] = [];
    let at = 0;
    for (const size of sizes) {
      if (pan.length - at < 8) break;
      out.push(pan.slice(at, at + size));
      at += size;
    }
    const rest = pan.slice(at);
    if (rest.length > 6) out.push(rest.slice(0, 4), rest.slice(4));
    else out.push(rest);
    return out;
  });
}

describe.each(databaseKinds)('card numbers on %s', (kind) => {
  let stripe: FakeStripe;
  let openai: FakeOpenAI;
  let running: TestService;
  const responses: string[] = [];
  const pans = new Set<string>();
  let sessions = 0;

  const inject = async (options: InjectOptions) => {
    const response = await running.service.app.inject(options);
    responses.push(JSON.stringify({ headers: response.headers, body: response.body }));
    return response;
  };
  const chat = (sessionId: string, message: string, extra: Record<string, unknown> = {}) =>
    inject({ method: 'POST', url: '/chat', headers: AUTH, payload: { sessionId, message, ...extra } });

  beforeAll(async () => {
    [stripe, openai] = await Promise.all([
      startFakeStripe(),
      startFakeOpenAI({ apiKey: 'sk-openai-for-card-tests' }),
    ]);
    // The worst model: it reads back whatever the customer wrote as their name.
    openai.reply = (body) => {
      const last = body.messages.at(-1)?.content;
      const text = typeof last === 'string' ? last : '';
      const wrote = text.split('The customer wrote: ')[1] ?? text;
      return JSON.stringify({ name: wrote, amount: null, currency: null });
    };
    running = await startTestService(kind, {
      apps: [createPaymentsApp(), invoicesApp, dailyApp],
      env: {
        ...stripe.env,
        CHAT_API_KEYS: API_KEY,
        PUBLIC_URL: 'https://pay.example.com',
        OPENAI_API_KEY: 'sk-openai-for-card-tests',
        OPENAI_BASE_URL: openai.baseUrl,
        AI_MAX_RETRIES: '0',
        PAYMENTS_INTERPRETER_TIMEOUT_SECONDS: '5',
        CHAT_RATE_LIMIT_PER_SESSION: '1000',
        CHAT_RATE_LIMIT_PER_KEY: '100000',
      },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await Promise.all([stripe?.close(), openai?.close()]);
  });

  const shaped = cardNumber().chain((pan) =>
    fc.record({
      pan: fc.constant(pan),
      text: cardShape(pan),
      split: pieces(pan),
      step: fc.constantFrom(0, 1, 2),
    }),
  );

  it('never lets a card number reach a log, a row, a response or a model prompt', async () => {
    await fc.assert(
      fc.asyncProperty(shaped, async ({ pan, text, split, step }) => {
        pans.add(pan);
        const session = `card-${kind}-${sessions++}`;

        // The chat, with the card typed at the name, amount or card step.
        const before = ['Jane Doe', '$20.00'].slice(0, step);
        for (const message of before) expect((await chat(session, message)).statusCode).toBe(200);
        const answer = await chat(session, text);
        expect(answer.statusCode, answer.body).toBe(200);
        expect(answer.json().response).toMatch(/never type card details/);

        // Ids holding a card number are refused, not stored and not quoted.
        for (const ids of [{ sessionId: text }, { sessionId: session, invoiceId: text }]) {
          const refused = await inject({
            method: 'POST',
            url: '/chat',
            headers: AUTH,
            payload: { message: 'hello', ...ids },
          });
          expect(refused.statusCode, refused.body).toBe(400);
          expect(refused.json().error.code).toBe('invalid_input');
        }

        // The card in pieces, one message each, at the amount step: no piece becomes the amount.
        const pieceSession = `${session}-pieces`;
        await chat(pieceSession, 'Jane Doe');
        for (const piece of split) expect((await chat(pieceSession, piece)).statusCode).toBe(200);
        const [row] = await running.service.db.query<{ state: { amountMinor?: number } }>(
          'select state from chat_sessions where id = $1',
          [pieceSession],
        );
        expect(row?.state.amountMinor, JSON.stringify(split)).toBeUndefined();

        // Other text fields: refused with the envelope, never stored.
        const invoice = await inject({
          method: 'POST',
          url: '/invoices',
          payload: {
            id: `I-${sessions}`,
            vendor_name: text,
            total_minor: 100,
            currency: 'USD',
            matched_status: 'NEEDS_REVIEW',
          },
        });
        expect(invoice.statusCode, invoice.body).toBe(400);
        expect(invoice.json().error.code).toBe('invalid_input');
        const subscriber = await inject({
          method: 'POST',
          url: '/subscribers',
          payload: { phone: `+1415555${String(1000 + sessions).slice(-4)}`, name: text },
        });
        expect(subscriber.statusCode, subscriber.body).toBe(400);
        for (const url of [
          `/invoices/${encodeURIComponent(text)}`,
          `/invoices?vendor=${encodeURIComponent(text)}`,
          `/nowhere/${pan}`,
        ]) {
          const refused = await inject({ method: 'GET', url });
          expect(refused.statusCode, url).toBe(400);
          expect(refused.json().error.code).toBe('invalid_input');
        }

        // A request id holding a card number is replaced, not echoed.
        for (const requestId of [
          pan,
          pan.replace(/(\d{4})(?=\d)/g, '$1-'),
          pan.replace(/(\d{4})(?=\d)/g, '$1.'),
        ]) {
          const echoed = await inject({
            method: 'GET',
            url: '/health/live',
            headers: { 'x-request-id': requestId },
          });
          expect(containsPan(String(echoed.headers['x-request-id']), pan)).toBe(false);
        }
      }),
      RUNS,
    );

    const prompts = openai.chats().map((body) => JSON.stringify(body.messages));
    expect(prompts.length).toBeGreaterThan(0);
    const haystacks: Record<string, string[]> = {
      logs: running.logs.lines(),
      rows: await dumpAllRows(running.service.db),
      responses,
      // Joined with nothing between them: a card sent to the model in pieces would show here.
      prompts: [prompts.join('')],
    };
    const leaks: string[] = [];
    for (const [where, items] of Object.entries(haystacks)) {
      for (const item of items)
        for (const pan of pans)
          if (containsPan(item, pan)) leaks.push(`${where}: ${pan} in ${item.slice(0, 300)}`);
    }
    expect(leaks).toEqual([]);
    // The searches saw the traffic: the log holds the request lines, the rows the sessions.
    expect(haystacks.logs?.some((line) => line.includes('incoming request'))).toBe(true);
    expect(haystacks.rows?.some((line) => line.includes('chat_sessions'))).toBe(true);
  }, 240_000);
});
