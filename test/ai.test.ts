// The language-model layer against a real OpenAI-compatible HTTP server (the fake) through the real
// AI SDK providers, and the SDK's own mock model where that is simpler.
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createLanguageModels, type GenerateRequest } from '../src/platform/ai/client.ts';
import { languageModelFor } from '../src/platform/ai/providers.ts';
import { type Database, openDatabase } from '../src/platform/db/database.ts';
import { runMigrations } from '../src/platform/db/migrate.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { type FakeOpenAI, startFakeOpenAI } from './fakes/openai.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { captureLogs } from './helpers/logs.ts';

const KEY = 'sk-test-key-for-the-fake';
const request = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  purpose: 'test.purpose',
  system: 'You write one short line.',
  messages: [{ role: 'user', content: 'Say something kind.' }],
  fallback: (reason) => `offline because ${reason}`,
  ...extra,
});
const metricValue = (text: string, prefix: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);

describe.each(databaseKinds)('platform/ai on %s', (kind) => {
  let target: TestDatabase;
  let db: Database;
  let fake: FakeOpenAI;
  const logs = captureLogs('info');

  beforeAll(async () => {
    target = await createTestDatabase(kind);
    db = await openDatabase(target.config, { log: logs.log, command: 'test' });
    await runMigrations(db);
    fake = await startFakeOpenAI({ apiKey: KEY });
  });
  afterAll(async () => {
    await fake?.close();
    await db?.close();
    await target?.drop();
  });
  afterEach(async () => {
    fake.clearFaults();
    await db.query('delete from ai_usage_daily');
  });

  const client = (env: Record<string, string>, metrics = createMetrics({ processMetrics: false })) => ({
    metrics,
    ai: createLanguageModels({
      config: loadConfig({ LOG_LEVEL: 'silent', ...env }).ai,
      db,
      metrics,
      log: logs.log,
      retryBaseMs: 10,
    }),
  });
  const openai = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: '' };

  it('calls the OpenAI provider with system prompt and messages, and counts tokens and cost by purpose', async () => {
    const { ai, metrics } = client({ ...openai, OPENAI_BASE_URL: fake.baseUrl, AI_MODEL: 'gpt-4o-mini' });
    expect(ai.describe()).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });
    const result = await ai.generate(request({ maxOutputTokens: 50 }));
    expect(result.source).toBe('model');
    expect(result.text).toContain('small steps');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    const sent = fake.chats().at(-1);
    expect(sent?.model).toBe('gpt-4o-mini');
    expect(sent?.messages[0]).toMatchObject({ role: 'system', content: 'You write one short line.' });
    expect(sent?.messages[1]).toMatchObject({ role: 'user', content: 'Say something kind.' });
    expect(sent?.max_tokens ?? sent?.max_completion_tokens).toBe(50);
    const text = await metrics.registry.metrics();
    expect(metricValue(text, 'ai_calls_total{purpose="test.purpose",provider="openai",outcome="ok"}')).toBe(
      1,
    );
    expect(metricValue(text, 'ai_tokens_total{purpose="test.purpose",direction="output"}')).toBe(
      result.usage.outputTokens,
    );
    expect(metricValue(text, 'ai_estimated_cost_usd_total{purpose="test.purpose"}')).toBeGreaterThan(0);
    const [usage] = await db.query<{ calls: number; output_tokens: string }>('select * from ai_usage_daily');
    expect(usage).toMatchObject({ calls: 1 });
    expect(Number(usage?.output_tokens)).toBe(result.usage.outputTokens);
  });

  it('speaks to any OpenAI-compatible server by base URL (Ollama, llama.cpp, vLLM)', async () => {
    const { ai } = client({
      AI_PROVIDER: 'openai-compatible',
      AI_BASE_URL: fake.baseUrl,
      AI_API_KEY: KEY,
      AI_MODEL: 'llama3.2:1b',
    });
    const result = await ai.generate(request());
    expect(result.source).toBe('model');
    expect(fake.chats().at(-1)?.model).toBe('llama3.2:1b');
  });

  it('retries 5xx and 429 with backoff, then answers', async () => {
    const { ai } = client({ ...openai, OPENAI_BASE_URL: fake.baseUrl, AI_MAX_RETRIES: '2' });
    fake.inject({ status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
    fake.inject({ status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'slow down' } } });
    const before = fake.requests.length;
    const result = await ai.generate(request());
    expect(result).toMatchObject({ source: 'model', attempts: 3 });
    expect(fake.requests.length - before).toBe(3);
  });

  it('falls back to the offline generator when the provider times out on every attempt', async () => {
    const { ai, metrics } = client({
      ...openai,
      OPENAI_BASE_URL: fake.baseUrl,
      AI_TIMEOUT_SECONDS: '0.3',
      AI_MAX_RETRIES: '1',
    });
    fake.inject({ hang: true, times: 2 });
    const started = Date.now();
    const result = await ai.generate(request());
    expect(result).toMatchObject({ source: 'offline', reason: 'timeout', text: 'offline because timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
    const text = await metrics.registry.metrics();
    expect(
      metricValue(text, 'ai_calls_total{purpose="test.purpose",provider="openai",outcome="timeout"}'),
    ).toBe(2);
    expect(metricValue(text, 'ai_fallbacks_total{purpose="test.purpose",reason="timeout"}')).toBe(1);
  });

  it('does not retry a refusal such as a wrong key, and without a fallback says why it failed', async () => {
    const { ai } = client({ OPENAI_API_KEY: 'sk-wrong-key-123', OPENAI_BASE_URL: fake.baseUrl });
    const before = fake.requests.length;
    const offline = await ai.generate(request());
    expect(offline).toMatchObject({ source: 'offline', reason: 'provider_error' });
    expect(fake.requests.length - before).toBe(1);
    await expect(ai.generate(request({ fallback: undefined }))).rejects.toMatchObject({
      name: 'AiUnavailableError',
      reason: 'provider_error',
    });
    expect(logs.text()).not.toContain('sk-wrong-key-123');
  });

  it('stops calling the model once the daily token budget is spent, and refuses calls over the per-call budget', async () => {
    const { ai } = client({ ...openai, OPENAI_BASE_URL: fake.baseUrl, AI_DAILY_TOKEN_BUDGET: '400' });
    const first = await ai.generate(request({ maxOutputTokens: 100 }));
    expect(first.source).toBe('model');
    await db.query("update ai_usage_daily set output_tokens = 390 where purpose = 'test.purpose'");
    const before = fake.requests.length;
    const spent = await ai.generate(request({ maxOutputTokens: 100 }));
    expect(spent).toMatchObject({ source: 'offline', reason: 'budget_exhausted' });
    expect(fake.requests.length).toBe(before);

    const small = client({ ...openai, OPENAI_BASE_URL: fake.baseUrl, AI_MAX_TOKENS_PER_CALL: '100' }).ai;
    const large = await small.generate(request({ messages: [{ role: 'user', content: 'x'.repeat(2000) }] }));
    expect(large).toMatchObject({ source: 'offline', reason: 'call_too_large' });
  });

  it('uses the offline generator when no provider is configured', async () => {
    const { ai } = client({});
    expect(ai.describe()).toMatchObject({ provider: 'offline', model: null });
    expect(await ai.generate(request())).toMatchObject({
      source: 'offline',
      reason: 'not_configured',
      attempts: 0,
    });
  });

  it('works with the SDK mock model (Anthropic-style usage fields)', async () => {
    const model = new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [{ type: 'text', text: '  Keep going.  ' }],
        finishReason: { unified: 'stop', raw: 'end_turn' },
        usage: {
          inputTokens: { total: 12, noCache: 12, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: 3, text: 3, reasoning: undefined },
        },
        warnings: [],
      }),
    });
    const metrics = createMetrics({ processMetrics: false });
    const ai = createLanguageModels({
      config: loadConfig({ LOG_LEVEL: 'silent', ANTHROPIC_API_KEY: 'sk-ant-test-key' }).ai,
      db,
      metrics,
      log: logs.log,
      model,
    });
    const result = await ai.generate(request());
    expect(result).toMatchObject({
      text: 'Keep going.',
      source: 'model',
      usage: { inputTokens: 12, outputTokens: 3 },
    });
    expect(model.doGenerateCalls[0]?.prompt[0]).toMatchObject({ role: 'system' });
  });
});

describe('provider selection by config', () => {
  it('builds OpenAI, Anthropic, Bedrock (inference profile ids) and OpenAI-compatible models', async () => {
    const make = async (env: Record<string, string>) => {
      const config = loadConfig({ LOG_LEVEL: 'silent', ...env }).ai;
      const model = (await languageModelFor(config.provider)) as { provider: string; modelId: string } | null;
      return model && { provider: model.provider, modelId: model.modelId };
    };
    expect(await make({ OPENAI_API_KEY: KEY })).toEqual({ provider: 'openai.chat', modelId: 'gpt-4o-mini' });
    expect((await make({ ANTHROPIC_API_KEY: 'sk-ant-test-key' }))?.provider).toBe('anthropic.messages');
    expect(
      await make({
        AI_PROVIDER: 'bedrock',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret-access-key-example',
      }),
    ).toEqual({ provider: 'amazon-bedrock', modelId: 'us.meta.llama3-2-1b-instruct-v1:0' });
    expect(
      await make({
        AI_PROVIDER: 'openai-compatible',
        AI_BASE_URL: 'http://127.0.0.1:11434/v1',
        AI_MODEL: 'llama3.2',
      }),
    ).toEqual({ provider: 'openai-compatible.chat', modelId: 'llama3.2' });
    expect(await make({})).toBeNull();
  });

  it('refuses half-configured providers at boot, naming the variable', () => {
    expect(() => loadConfig({ AI_PROVIDER: 'bedrock' })).toThrow(/AWS_REGION/);
    expect(() => loadConfig({ AI_PROVIDER: 'openai-compatible', AI_MODEL: 'x' })).toThrow(/AI_BASE_URL/);
    expect(() => loadConfig({ AI_PROVIDER: 'openai' })).toThrow(/OPENAI_API_KEY/);
  });
});
