// Operator routes (/outbox, /sandbox, /invoices) show message contents, recipients and invoices. With ADMIN_API_TOKEN
// set they need `Authorization: Bearer <token>`; without it the config only allows a loopback HOST.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { credentialGuard } from './credential-failures.ts';

export type Guard = (request: FastifyRequest) => Promise<void>;

export function adminGuard(token: string | null): Guard {
  if (!token) return async () => {};
  const expected = digest(token);
  // Wrong tokens count against the caller's address (credential-failures.ts), so guessing is limited.
  return (request) =>
    credentialGuard(request, async () => {
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      // Compare digests: equal length, constant time, whatever was sent.
      if (!given || !timingSafeEqual(digest(given), expected)) {
        throw new AppError('unauthorized', 'This route needs Authorization: Bearer <ADMIN_API_TOKEN>');
      }
    });
}

const digest = (value: string) => createHash('sha256').update(value).digest();
