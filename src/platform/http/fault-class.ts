// Whose fault an unexpected error is, so the error handler answers a provider's outage with 502
// and a component's (database, Redis) with 503, and keeps 500 for our own bugs. Errors are
// recognised by class or by their well-known names and codes (the SDKs' own, PostgreSQL's
// SQLSTATE, Node's socket codes), through the `cause` chain, since drivers wrap what they catch.
import { ProviderError } from '../channels/types.ts';

export type FaultClass = 'provider' | 'component';

/** Node's socket and DNS failures: the other end is down or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** SQLSTATE classes and codes meaning the database cannot serve now (not that the query is wrong). */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4])/;

/** Messages of component clients that carry no code (ioredis while offline, pg-pool, PGlite). */
const COMPONENT_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'PGlite is closed',
  'Client has encountered a connection error',
];

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
  if (typeof code === 'string') {
    if (code.startsWith('slack_webapi_')) return 'provider';
    if (UNAVAILABLE_SQLSTATE.test(code) && code.length === 5) return 'component';
    if (NETWORK_CODES.has(code)) return 'component';
  }
  if (error.name === 'MaxRetriesPerRequestError') return 'component';
  if (COMPONENT_MESSAGES.some((message) => error.message.includes(message))) return 'component';
  return null;
}
