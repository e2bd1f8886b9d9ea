// Twilio signs each webhook with HMAC-SHA1 over the exact URL it called plus the sorted POST
// parameters (X-Twilio-Signature); the SDK's validateRequest checks it. Behind a proxy the URL we
// see is not the one Twilio called, so PUBLIC_URL names it.
import type { FastifyRequest } from 'fastify';
import twilio from 'twilio';

export function publicRequestUrl(request: FastifyRequest, publicUrl: string | null): string {
  if (publicUrl) return `${publicUrl}${request.url}`;
  return `${request.protocol}://${request.host}${request.url}`;
}

export type SignatureCheck = 'valid' | 'missing' | 'invalid';

export function checkTwilioSignature(
  request: FastifyRequest,
  authToken: string,
  publicUrl: string | null,
): SignatureCheck {
  const signature = request.headers['x-twilio-signature'];
  if (typeof signature !== 'string' || !signature) return 'missing';
  const params = (request.body ?? {}) as Record<string, string>;
  return twilio.validateRequest(authToken, signature, publicRequestUrl(request, publicUrl), params)
    ? 'valid'
    : 'invalid';
}
