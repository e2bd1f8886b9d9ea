// PayBot with a language model configured: the real service with the AI SDK's mock model in place of
// the provider, so the app picks the model interpreter itself (platform/ai), as it does in production.
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentsApp } from '../src/apps/payments/app.ts';
import { readModelAnswer } from '../src/apps/payments/model-interpreter.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { databaseKinds } from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const API_KEY = 'chat-key-for-model-tests-0123456789';
const AUTH = { authorization: `Bearer ${API_KEY}` };
const CARD = '4242 4242 4242 4242';

describe('readModelAnswer', () => {
  it('reads a name and an exact amount from the JSON the model gives, and nothing from anything else', () => {
    expect(readModelAnswer('{"name": "Ziggy Stardust", "amount": null, "currency": null}', 'USD')).toEqual({
      name: 'Ziggy Stardust',
    });
    expect(readModelAnswer('Sure! {"name": null, "amount": "45.1", "currency": "eur"}', 'USD')).toEqual({
      amount: { minor: 4510, currency: 'EUR' },
    });
    expect(readModelAnswer('{"amount": 1234.5}', 'JPY')).toBeNull();
    expect(readModelAnswer('{"amount": "19.99"}', 'USD')).toEqual({
      amount: { minor: 1999, currency: 'USD' },
    });
    expect(readModelAnswer('{"name": null, "amount": null}', 'USD')).toBeNull();
    expect(readModelAnswer('I think the name is Jane', 'USD')).toBeNull();
    expect(readModelAnswer('{"name": "Jane", ', 'USD')).toBeNull();
  });
});

describe.each(databaseKinds)('PayBot with a language model on %s', (kind) => {
  let stripe: FakeStripe;
  let service: TestService;
  const prompts: string[] = [];
  let answers: string[] = [];
  let failing = false;
  const model = new MockLanguageModelV3({
    doGenerate: async (options) => {
      prompts.push(JSON.stringify(options.prompt));
      if (failing) throw new Error('the provider is down');
      return {
        content: [
          { type: 'text', text: answers.shift() ?? '{"name": null, "amount": null, "currency": null}' },
        ],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: 40, noCache: 40, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: 12, text: 12, reasoning: undefined },
        },
        warnings: [],
      };
    },
  });

  beforeAll(async () => {
    stripe = await startFakeStripe();
    service = await startTestService(kind, {
      apps: [paymentsApp],
      languageModel: model,
      env: {
        ...stripe.env,
        CHAT_API_KEYS: API_KEY,
        // A configured provider; the mock model answers in its place.
        OPENAI_API_KEY: 'sk-test-key-for-the-mock',
        AI_MAX_RETRIES: '0',
      },
    });
  });
  afterAll(async () => {
    await service?.dispose();
    await stripe?.close();
  });

  const chat = async (session: string, message: string) => {
    const response = await service.service.app.inject({
      method: 'POST',
      url: '/chat',
      headers: AUTH,
      payload: { sessionId: session, message },
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { response: string; currentField: string; status: string };
  };

  it('asks the model only about what the rules cannot read, never with the card number in it', async () => {
    await chat('m-1', 'hello, I would like to pay');
    let asked = prompts.length;
    let answer = await chat('m-1', 'Jane Doe');
    expect(prompts.length).toBe(asked);
    expect(answer.currentField).toBe('amount');

    await chat('m-1', 'restart');
    answers = ['{"name": "Ziggy Stardust", "amount": null, "currency": null}'];
    asked = prompts.length;
    answer = await chat('m-1', `everyone knows me as the starman, my card is ${CARD}`);
    expect(prompts.length).toBe(asked + 1);
    expect(answer.response).toContain('Ziggy Stardust');
    expect(answer.currentField).toBe('amount');
    expect(prompts.at(-1)).toContain('[REDACTED CARD]');

    answers = ['{"name": null, "amount": "45.10", "currency": "USD"}'];
    answer = await chat('m-1', 'the usual, forty-five dollars and ten cents');
    expect(answer.currentField).toBe('card');
    expect(answer.response).toContain('$45.10');

    for (const prompt of prompts) {
      expect(prompt).not.toContain('4242');
      expect(prompt).toContain('The bot asked for');
    }
  });

  it('times each turn, apart for the turns that waited on Stripe', async () => {
    const count = async (stripe: string) => {
      const text = (await service.service.app.inject({ method: 'GET', url: '/metrics' })).body;
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`paybot_turn_duration_seconds_count{stripe="${stripe}"}`));
      return Number(line?.split(' ').pop() ?? 0);
    };
    const [none, called] = [await count('none'), await count('called')];
    await chat('m-3', 'hello');
    await chat('m-3', 'Jane Doe');
    expect(await count('none')).toBe(none + 2);
    expect(await count('called')).toBe(called);
    // The amount completes the form: the card step opens at Stripe.
    const answer = await chat('m-3', '$12.00');
    expect(answer.currentField).toBe('card');
    expect(await count('called')).toBe(called + 1);
    expect(await count('none')).toBe(none + 2);
  });

  it('answers with the rules alone when the model fails', async () => {
    await chat('m-2', 'hi');
    failing = true;
    try {
      const asked = prompts.length;
      const answer = await chat('m-2', 'you know who I am, the usual person');
      expect(prompts.length).toBe(asked + 1);
      expect(answer.currentField).toBe('name');
      expect(answer.response).toContain('could not read a name');
    } finally {
      failing = false;
    }
  });
});
