// Operator routes (/outbox, /sandbox, /invoices) show message contents, recipients and invoices. With ADMIN_API_TOKEN
// set they need `Authorization: Bearer <token>`; without it the config only allows a loopback HOST.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { credentialGuard } from './credential-failures.ts';

export type Guard = (request: FastifyRequest) => Promise<void>;

export function adminGuard(token: string | null): Guard {
  if (!token) return async () => {};
  // Wrong tokens count against the caller's address (credential-failures.ts), so guessing is limited.
  return (request) =>
    credentialGuard(request, async () => {
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      if (!sameSecret(given, token)) {
        throw new AppError('unauthorized', 'This route needs Authorization: Bearer <ADMIN_API_TOKEN>');
      }
    });
}

/**
 * Whether `given` is the secret `expected` (a token, a CSRF token), in constant time whatever was
 * sent: the digests compared are of equal length. Empty and non-string values never match.
 */
export function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || !given) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

const digest = (value: string) => createHash('sha256').update(value).digest();
