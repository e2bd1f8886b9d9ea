// Callers of POST /chat authenticate with `Authorization: Bearer <key>`: keys from CHAT_API_KEYS
// (simple installs) or created with `switchboard payments create-key`, stored as SHA-256 hashes.
// A key is long and random, so a plain hash (no salt, no slow KDF) is the usual and sufficient choice.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Database } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { credentialGuard } from '../../platform/http/credential-failures.ts';
import { countActiveKeys, findActiveKey } from './store.ts';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export function generateKey(): string {
  return `sbk_${randomBytes(24).toString('base64url')}`;
}

export interface Caller {
  /** What rate limits count against: the key's hash prefix, or the address without keys. */
  id: string;
}

/**
 * Checks the caller's key. With no key configured at all, /chat is open: the config allows that only
 * for a loopback HOST (`openAllowed`), as for the operator routes.
 */
export function chatAuth(db: Database, envKeys: string[], openAllowed: boolean) {
  const envHashes = envKeys.map((key) => Buffer.from(hashKey(key), 'hex'));
  // Whether any stored key exists, cached briefly so an open install does not query per message.
  let storedKeys: { count: number; at: number } | null = null;
  const anyStored = async () => {
    if (!storedKeys || Date.now() - storedKeys.at > 5000)
      storedKeys = { count: await countActiveKeys(db.orm), at: Date.now() };
    return storedKeys.count > 0;
  };
  // Wrong keys count against the caller's address (credential-failures.ts), so guessing is limited.
  return (request: FastifyRequest): Promise<Caller> => credentialGuard(request, () => verify(request));
  async function verify(request: FastifyRequest): Promise<Caller> {
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!given) {
      if (envHashes.length === 0 && !(await anyStored())) {
        if (openAllowed) return { id: `ip:${request.ip}` };
        throw new AppError(
          'unauthorized',
          'No chat API key is configured: create one with `switchboard payments create-key`',
        );
      }
      throw new AppError('unauthorized', 'POST /chat needs Authorization: Bearer <API key>');
    }
    const hash = hashKey(given);
    const digest = Buffer.from(hash, 'hex');
    if (envHashes.some((known) => timingSafeEqual(known, digest))) return { id: `key:${hash.slice(0, 16)}` };
    const stored = await findActiveKey(db.orm, hash);
    if (stored) return { id: `key:${hash.slice(0, 16)}` };
    throw new AppError('unauthorized', 'Unknown or revoked API key');
  }
}
