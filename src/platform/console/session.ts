// Console sessions: a random token in an HttpOnly, SameSite=Strict cookie, its SHA-256 in the
// database (so any replica recognises it and logout ends it everywhere), and a per-session CSRF
// token every console form carries. Without ADMIN_API_TOKEN (the loopback-only default) a session
// is opened on the first visit, so actions are still CSRF-checked and audited under one name.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { eq, lt } from '../db/drizzle.ts';
import { consoleSessions } from '../db/schema.ts';
import type { DbOrTx } from '../db/transaction.ts';

export const SESSION_COOKIE = 'sb_console';

export interface ConsoleSession {
  operator: string;
  csrfToken: string;
  expiresAt: Date;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

export async function openSession(
  db: DbOrTx,
  operator: string,
  ttlMs: number,
): Promise<{ token: string; session: ConsoleSession }> {
  const token = newToken();
  const session = { operator, csrfToken: newToken(), expiresAt: new Date(Date.now() + ttlMs) };
  // Expired sessions go when a new one is made: the table never grows past the live ones by much.
  await db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, new Date()));
  await db.insert(consoleSessions).values({ id: hash(token), ...session });
  return { token, session };
}

export async function findSession(db: DbOrTx, token: string | undefined): Promise<ConsoleSession | null> {
  if (!token || token.length > 200) return null;
  const [row] = await db
    .select()
    .from(consoleSessions)
    .where(eq(consoleSessions.id, hash(token)));
  if (!row || row.expiresAt.getTime() <= Date.now()) return null;
  return { operator: row.operator, csrfToken: row.csrfToken, expiresAt: row.expiresAt };
}

export async function closeSession(db: DbOrTx, token: string | undefined): Promise<void> {
  if (token) await db.delete(consoleSessions).where(eq(consoleSessions.id, hash(token)));
}

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, ttlMs: number) {
  reply.header('set-cookie', cookie(request, token, Math.floor(ttlMs / 1000)));
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply) {
  reply.header('set-cookie', cookie(request, '', 0));
}

const cookie = (request: FastifyRequest, value: string, maxAge: number) =>
  [
    `${SESSION_COOKIE}=${encodeURIComponent(value)}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAge}`,
    // Behind TLS (directly or through a trusted proxy) the cookie is never sent in the clear.
    ...(request.protocol === 'https' ? ['Secure'] : []),
  ].join('; ');
