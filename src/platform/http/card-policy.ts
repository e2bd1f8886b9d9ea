// Card numbers are refused at the door of every route (PCI DSS: we never store, log or quote one).
// A URL, query, path parameter or body field holding a card number in any shape (platform/
// card-numbers.ts) is 400 `invalid_input` naming the field, before any handler, store or log sees
// the value; the answer never quotes it (PCI DSS FAQ 1157). Free-text fields that redact card
// numbers themselves and carry on (PayBot's chat message) are named in the route's config:
// `config: { cardNumbers: { redactedFields: ['body.message'] } }`. Webhooks are the providers'
// signed content and are answered by their own routes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { containsCardNumber } from '../card-numbers.ts';
import { AppError } from '../errors.ts';
import { percentDecoded } from '../redact.ts';

export interface CardNumberRouteConfig {
  cardNumbers?: { redactedFields: string[] };
}

const MAX_DEPTH = 32;
const REFUSED = 'Card numbers are not accepted here: enter the card only in the secure card form';

/** The dotted path of the first string (or object key) holding a card number, or null. */
export function fieldWithCardNumber(
  value: unknown,
  path: string,
  skip: ReadonlySet<string>,
  depth = 0,
): string | null {
  if (skip.has(path)) return null;
  if (typeof value === 'string') return containsCardNumber(value) ? path : null;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return null;
  if (Buffer.isBuffer(value)) return containsCardNumber(value.toString('utf8')) ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = fieldWithCardNumber(value[i], `${path}.${i}`, skip, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, inner] of Object.entries(value)) {
    if (containsCardNumber(key)) return path;
    const found = fieldWithCardNumber(inner, `${path}.${key}`, skip, depth + 1);
    if (found) return found;
  }
  return null;
}

function refuse(field: string): AppError {
  return new AppError('invalid_input', REFUSED, {
    details: [{ field, message: 'looks like a card number' }],
  });
}

export function installCardNumberPolicy(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (containsCardNumber(percentDecoded(request.url))) throw refuse('url');
  });
  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (request.routeOptions.url?.startsWith('/webhooks/')) return;
    const config = request.routeOptions.config as CardNumberRouteConfig | undefined;
    const skip = new Set(config?.cardNumbers?.redactedFields ?? []);
    for (const [part, value] of [
      ['params', request.params],
      ['query', request.query],
      ['body', request.body],
    ] as const) {
      const field = fieldWithCardNumber(value, part, skip);
      if (field) throw refuse(field);
    }
  });
}
