// One input policy for every route, before any schema or handler sees the request: text PostgreSQL
// cannot store is refused as `400 invalid_input` naming the field, instead of failing deep in an
// INSERT as a 500. PostgreSQL's text types reject the NUL character (U+0000) outright, and UTF-8
// has no encoding for a lone UTF-16 surrogate (`\ud800` in JSON), which the driver then refuses.
// The same check runs on webhook bodies after their signature check (they are parsed there).
import type { FastifyInstance } from 'fastify';
import { type ErrorDetail, invalidInput } from '../errors.ts';

/** Deeper than any request body we accept; a deeper one is refused rather than walked. */
const MAX_DEPTH = 32;

/** Why `text` cannot be stored, or null when it can. */
export function unstorableReason(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (!text.isWellFormed()) return 'contains a lone UTF-16 surrogate, which is not valid Unicode';
  return null;
}

/** The first string (value or object key) in `value` that cannot be stored, with its dotted path. */
export function findUnstorableText(value: unknown, path: string, depth = 0): ErrorDetail | null {
  if (typeof value === 'string') {
    const reason = unstorableReason(value);
    return reason ? { field: path, message: reason } : null;
  }
  if (value === null || typeof value !== 'object') return null;
  if (depth > MAX_DEPTH) return { field: path, message: `is nested deeper than ${MAX_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findUnstorableText(value[index], `${path}.${index}`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const keyReason = unstorableReason(key);
    const field = `${path}.${keyReason ? JSON.stringify(key) : key}`;
    if (keyReason) return { field, message: `the key ${keyReason}` };
    const found = findUnstorableText((value as Record<string, unknown>)[key], field, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Throws `400 invalid_input` naming the field when any text in `value` cannot be stored. */
export function assertStorable(value: unknown, path: string): void {
  const found = findUnstorableText(value, path);
  if (found) throw invalidInput(`\`${found.field}\` ${found.message}`, [found]);
}

/**
 * Checks the path parameters, the query, the parsed body and the headers of every request. Runs in
 * preValidation: after the body is parsed, before the route's schema and handler.
 */
export function installInputPolicy(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    assertStorable(request.params, 'params');
    assertStorable(request.query, 'querystring');
    assertStorable(request.body, 'body');
    // Node's parser already refuses NUL in a header; this covers every other way in (inject, proxies
    // that decode), since some headers (request ids, idempotency keys) are data we keep.
    assertStorable(request.headers, 'headers');
  });
}
