import { Counter } from 'prom-client';
import type { Metrics } from '../metrics.ts';

/** Language-model usage by purpose (`daily.message`, `payments.chat`...), for cost and health dashboards. */
export interface AiMetrics {
  calls: Counter<'purpose' | 'provider' | 'outcome'>;
  tokens: Counter<'purpose' | 'direction'>;
  fallbacks: Counter<'purpose' | 'reason'>;
  costUsd: Counter<'purpose'>;
}

export function createAiMetrics(metrics: Metrics): AiMetrics {
  const registers = [metrics.registry];
  return {
    calls: new Counter({
      name: 'ai_calls_total',
      help: 'Language-model calls by purpose, provider and outcome (ok, timeout, error).',
      labelNames: ['purpose', 'provider', 'outcome'],
      registers,
    }),
    tokens: new Counter({
      name: 'ai_tokens_total',
      help: 'Tokens by purpose and direction (input, output).',
      labelNames: ['purpose', 'direction'],
      registers,
    }),
    fallbacks: new Counter({
      name: 'ai_fallbacks_total',
      help: 'Answers from the offline generator instead of the model, by purpose and reason.',
      labelNames: ['purpose', 'reason'],
      registers,
    }),
    costUsd: new Counter({
      name: 'ai_estimated_cost_usd_total',
      help: 'Estimated spend in US dollars by purpose (AI_*_COST_PER_MILLION_TOKENS_CENTS).',
      labelNames: ['purpose'],
      registers,
    }),
  };
}
