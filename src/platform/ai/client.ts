// One interface to the configured language model for every app: a purpose-tagged call with a system
// prompt and messages, under a timeout, bounded retries with backoff, a token budget per call and
// per day, and metrics by purpose. When no model can answer (none configured, the provider failing,
// the budget spent) the caller's offline generator answers instead, and the result says so.
import type { LanguageModel } from 'ai';
import type { AiConfig } from '../../config.ts';
import { parseRetryAfter } from '../channels/types.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { inSpan, SpanKind } from '../tracing/tracing.ts';
import { type AiMetrics, createAiMetrics } from './metrics.ts';
import { describeProvider, languageModelFor } from './providers.ts';
import { recordUsage, tokensSpent, utcDay } from './usage.ts';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** Why the model did not answer. */
export type FallbackReason =
  | 'not_configured'
  | 'budget_exhausted'
  | 'call_too_large'
  | 'timeout'
  | 'provider_error'
  | 'empty_answer';

export interface GenerateRequest {
  /** What the call is for (`daily.message`, `payments.chat`): metrics and budgets are kept by it. */
  purpose: string;
  system: string;
  messages: ChatMessage[];
  /** At most AI_MAX_OUTPUT_TOKENS. */
  maxOutputTokens?: number;
  temperature?: number;
  /** Per attempt; defaults to AI_TIMEOUT_SECONDS. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The offline answer. Without one, a call the model cannot answer throws AiUnavailableError. */
  fallback?: (reason: FallbackReason) => string | Promise<string>;
}

export interface GenerateResult {
  text: string;
  source: 'model' | 'offline';
  /** Set when `source` is offline. */
  reason?: FallbackReason;
  usage: { inputTokens: number; outputTokens: number };
  attempts: number;
}

export class AiUnavailableError extends Error {
  readonly reason: FallbackReason;
  constructor(reason: FallbackReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AiUnavailableError';
    this.reason = reason;
  }
}

export interface LanguageModels {
  /** What /info shows: the provider and model in use, or `offline`. */
  describe(): { provider: string; model: string | null; dailyTokenBudget: number };
  generate(request: GenerateRequest): Promise<GenerateResult>;
}

export interface LanguageModelDeps {
  config: AiConfig;
  db: Pick<Database, 'query'>;
  metrics: Metrics;
  log: Logger;
  /** A model to use instead of the configured one (tests: the SDK's MockLanguageModelV3). */
  model?: LanguageModel | null;
  now?: () => Date;
  /** First retry delay; doubles per attempt with jitter. */
  retryBaseMs?: number;
}

/** Rough token count for budgeting before a call (about four characters a token). */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

export function createLanguageModels(deps: LanguageModelDeps): LanguageModels {
  const { config, db, log } = deps;
  // The provider's package and the AI SDK are imported on the first call, not at start-up: an
  // offline process never loads them.
  const hasModel = deps.model !== undefined ? deps.model !== null : config.provider.kind !== 'offline';
  let model: Promise<LanguageModel | null> | null = null;
  const resolveModel = () => {
    model ??= deps.model !== undefined ? Promise.resolve(deps.model) : languageModelFor(config.provider);
    return model;
  };
  const described = describeProvider(config.provider);
  const providerName = hasModel ? described.provider : 'offline';
  const metrics: AiMetrics = createAiMetrics(deps.metrics);
  const retryBaseMs = deps.retryBaseMs ?? 500;
  const now = deps.now ?? (() => new Date());
  const aiLog = log.child({ component: 'ai' });

  const fallBack = async (request: GenerateRequest, reason: FallbackReason, cause?: unknown) => {
    metrics.fallbacks.inc({ purpose: request.purpose, reason });
    await recordUsage(db, utcDay(now()), request.purpose, { fallbacks: 1 });
    if (!request.fallback)
      throw new AiUnavailableError(reason, `the language model did not answer (${reason})`, { cause });
    const text = await request.fallback(reason);
    return { text, source: 'offline' as const, reason, usage: { inputTokens: 0, outputTokens: 0 } };
  };

  return {
    describe: () => ({
      provider: providerName,
      model: hasModel ? described.model : null,
      dailyTokenBudget: config.dailyTokenBudget,
    }),

    async generate(request) {
      const languageModel = hasModel ? await resolveModel() : null;
      if (!languageModel) return { ...(await fallBack(request, 'not_configured')), attempts: 0 };
      const ai = await import('ai');
      const maxOutputTokens = Math.min(
        request.maxOutputTokens ?? config.maxOutputTokens,
        config.maxOutputTokens,
      );
      const estimate =
        estimateTokens(request.system) +
        request.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0) +
        maxOutputTokens;
      if (estimate > config.maxTokensPerCall) {
        aiLog.warn({ purpose: request.purpose, estimate }, 'language-model call over AI_MAX_TOKENS_PER_CALL');
        return { ...(await fallBack(request, 'call_too_large')), attempts: 0 };
      }
      const day = utcDay(now());
      if ((await tokensSpent(db, day)) + estimate > config.dailyTokenBudget) {
        aiLog.warn({ purpose: request.purpose }, 'AI_DAILY_TOKEN_BUDGET spent for today: offline answer');
        return { ...(await fallBack(request, 'budget_exhausted')), attempts: 0 };
      }

      let lastReason: FallbackReason = 'provider_error';
      let lastError: unknown;
      const attempts = config.maxRetries + 1;
      for (let attempt = 1; attempt <= attempts; attempt += 1) {
        const timeout = AbortSignal.timeout(request.timeoutMs ?? config.timeoutMs);
        const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
        try {
          // Sizes, never the prompt or the answer (a customer's words; tracing backends keep them).
          const result = await inSpan(
            `chat ${described.model}`,
            {
              kind: SpanKind.CLIENT,
              attributes: {
                'gen_ai.operation.name': 'chat',
                'gen_ai.provider.name': providerName,
                'gen_ai.request.model': described.model,
                'gen_ai.request.max_tokens': maxOutputTokens,
                'switchboard.ai.purpose': request.purpose,
                'switchboard.ai.attempt': attempt,
              },
            },
            async (span) => {
              const answer = await ai.generateText({
                model: languageModel,
                system: request.system,
                messages: request.messages,
                maxOutputTokens,
                ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
                // Retries are ours: each attempt gets its own timeout and is counted.
                maxRetries: 0,
                abortSignal: signal,
              });
              span.setAttributes({
                'gen_ai.usage.input_tokens': answer.usage.inputTokens ?? 0,
                'gen_ai.usage.output_tokens': answer.usage.outputTokens ?? 0,
              });
              return answer;
            },
          );
          const usage = {
            inputTokens: result.usage.inputTokens ?? 0,
            outputTokens: result.usage.outputTokens ?? 0,
          };
          metrics.calls.inc({ purpose: request.purpose, provider: providerName, outcome: 'ok' });
          metrics.tokens.inc({ purpose: request.purpose, direction: 'input' }, usage.inputTokens);
          metrics.tokens.inc({ purpose: request.purpose, direction: 'output' }, usage.outputTokens);
          metrics.costUsd.inc(
            { purpose: request.purpose },
            (usage.inputTokens * config.costPerMillion.inputCents +
              usage.outputTokens * config.costPerMillion.outputCents) /
              1e6 /
              100,
          );
          await recordUsage(db, day, request.purpose, { calls: 1, ...usage });
          const text = result.text.trim();
          if (!text) return { ...(await fallBack(request, 'empty_answer')), attempts: attempt };
          return { text, source: 'model', usage, attempts: attempt };
        } catch (error) {
          if (request.signal?.aborted) throw error;
          const timedOut = timeout.aborted;
          lastReason = timedOut ? 'timeout' : 'provider_error';
          lastError = error;
          metrics.calls.inc({
            purpose: request.purpose,
            provider: providerName,
            outcome: timedOut ? 'timeout' : 'error',
          });
          await recordUsage(db, day, request.purpose, { calls: 1, failures: 1 });
          aiLog.warn(
            { purpose: request.purpose, attempt, reason: lastReason, status: statusOf(error, ai) },
            `language-model call failed: ${hideKeys(String((error as Error).message).slice(0, 200))}`,
          );
          if (!timedOut && !isRetryable(error, ai)) break;
          if (attempt < attempts) await sleep(backoff(error, attempt, retryBaseMs, ai), request.signal);
        }
      }
      return { ...(await fallBack(request, lastReason, lastError)), attempts };
    },
  };
}

/** Providers echo (part of) a rejected key in their error text; it never reaches our logs. */
const hideKeys = (text: string) =>
  text.replace(/\b(sk-[\w-]{4,}|AKIA[0-9A-Z]{8,}|[\w-]*\*{3,}[\w-]*)/g, '[REDACTED]');

type AiSdk = Pick<typeof import('ai'), 'APICallError'>;

const statusOf = (error: unknown, { APICallError }: AiSdk) =>
  APICallError.isInstance(error) ? error.statusCode : undefined;

/** Throttling, server faults and network errors are worth another try; a 400 or 401 is not. */
function isRetryable(error: unknown, { APICallError }: AiSdk): boolean {
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    return status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
  }
  return true;
}

/** Exponential with full jitter, honouring a Retry-After of up to 10 s. */
function backoff(error: unknown, attempt: number, baseMs: number, { APICallError }: AiSdk): number {
  // The outbox's parser: seconds or an HTTP date.
  const retryAfter = parseRetryAfter(
    APICallError.isInstance(error) ? error.responseHeaders?.['retry-after'] : undefined,
  );
  if (retryAfter !== undefined) return Math.min(retryAfter, 10_000);
  return Math.round(baseMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}
