// Twilio signs each webhook with HMAC-SHA1 over the exact URL it called plus the sorted POST
// parameters (X-Twilio-Signature); the SDK's validateRequest checks it. Behind a proxy the URL we
// see is not the one Twilio called, so PUBLIC_URL names it.
import type { FastifyRequest } from 'fastify';
// The SDK's webhooks module alone (node:crypto and url only), not the whole REST client.
import twilioWebhooks from 'twilio/lib/webhooks/webhooks.js';
import { invalidInput } from '../../errors.ts';

/** The URL the caller used; a Host header that makes no URL (`Host: [`) is the caller's error. */
export function publicRequestUrl(
  request: Pick<FastifyRequest, 'protocol' | 'host' | 'url'>,
  publicUrl: string | null,
): string {
  const url = publicUrl
    ? `${publicUrl}${request.url}`
    : `${request.protocol}://${request.host}${request.url}`;
  if (!URL.canParse(url))
    throw invalidInput('The Host header is not a valid host name', [
      { field: 'headers.host', message: 'is not a valid host[:port]' },
    ]);
  return url;
}

export type SignatureCheck = 'valid' | 'missing' | 'invalid';

export function checkTwilioSignature(
  request: FastifyRequest,
  authToken: string,
  publicUrl: string | null,
): SignatureCheck {
  const signature = request.headers['x-twilio-signature'];
  if (typeof signature !== 'string' || !signature) return 'missing';
  const url = publicRequestUrl(request, publicUrl);
  const body = request.body;
  const params =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, string>) : {};
  try {
    return twilioWebhooks.validateRequest(authToken, signature, url, params) ? 'valid' : 'invalid';
  } catch {
    // The SDK throws on shapes it does not expect (a repeated key is an array): not a valid signature.
    return 'invalid';
  }
}
