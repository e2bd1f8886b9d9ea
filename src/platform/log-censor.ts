// Secrets removed from log lines by key, as pino's `redact` option did with log.ts's REDACT_PATHS:
// a secret key at the top of a line or one or two levels down, and the signature and cookie headers
// of a logged request or response, become '[REDACTED]'. Done here because pino's redactor
// (@pinojs/redact) parses every path again, character by character, for each value it looks at, and
// the wildcard paths make that every value of every line and of every child logger's bindings: 60%
// of all the service allocated at LOG_LEVEL=info under bench/chat. What a caller logged is never
// changed: an object holding a secret is copied, the rest is passed through as it is.

export const CENSOR = '[REDACTED]';

/** Headers censored at `req.headers.*` and `res.headers.*` besides the secret keys. */
const HEADER_SECRETS: Record<string, ReadonlySet<string>> = {
  req: new Set([
    'authorization',
    'cookie',
    'x-api-key',
    'x-twilio-signature',
    'x-slack-signature',
    'stripe-signature',
  ]),
  res: new Set(['set-cookie']),
};

/** A line (or a child logger's bindings) with every secret in its first three levels censored. */
export function censorLine(
  line: Record<string, unknown>,
  secretKeys: ReadonlySet<string>,
): Record<string, unknown> {
  return censorAt(line, 0, null, null, secretKeys) as Record<string, unknown>;
}

/** What a serializer made of the line's `top` key, censored as if it had been in the line. */
export function censorValue(top: string, value: unknown, secretKeys: ReadonlySet<string>): unknown {
  return censorAt(value, 1, top, null, secretKeys);
}

function censorAt(
  value: unknown,
  depth: number,
  top: string | null,
  parent: string | null,
  secretKeys: ReadonlySet<string>,
): unknown {
  if (depth > 2 || value === null || typeof value !== 'object') return value;
  // Dates, Buffers and the like are written by their own toJSON, never by their keys.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const headers = depth === 2 && parent === 'headers' && top !== null ? HEADER_SECRETS[top] : undefined;
  let copy: Record<string, unknown> | null = null;
  // for...in rather than Object.entries: no array of pairs for every object of every line.
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const inner = (value as Record<string, unknown>)[key];
    const secret = secretKeys.has(key) || headers?.has(key) === true;
    const next = secret ? CENSOR : censorAt(inner, depth + 1, depth === 0 ? key : top, key, secretKeys);
    if (next === inner) continue;
    // The same JSON as the original: its own enumerable keys (an array stays an array).
    copy ??= (Array.isArray(value) ? [...value] : { ...value }) as Record<string, unknown>;
    copy[key] = next;
  }
  return copy ?? value;
}
