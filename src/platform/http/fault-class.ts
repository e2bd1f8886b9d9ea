// Whose fault an unexpected error is, so the error handler answers a provider's outage with 502
// and a component's (database, Redis) with 503, and keeps 500 for our own bugs. Errors are
// recognised by class or by their well-known names and codes (the SDKs' own, PostgreSQL's
// SQLSTATE, Node's socket codes), through the `cause` chain, since drivers wrap what they catch.
import { ProviderError } from '../channels/types.ts';
import { isUnavailableComponentError } from '../db/unavailable.ts';

export type FaultClass = 'provider' | 'component';

/** Provider SDK errors by name: the AI SDK's, Stripe's (every refusal or outage), ours. */
const PROVIDER_NAMES = /^(AiUnavailableError|AI_APICallError|AI_RetryError|Stripe\w*Error)$/;

export function classifyFault(error: unknown): FaultClass | null {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const found = classifyOne(current);
    if (found) return found;
    current = current.cause;
  }
  return null;
}

function classifyOne(error: Error): FaultClass | null {
  if (error instanceof ProviderError || PROVIDER_NAMES.test(error.name)) return 'provider';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('slack_webapi_')) return 'provider';
  return isUnavailableComponentError(error) ? 'component' : null;
}
