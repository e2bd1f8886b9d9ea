// The /pay page is opened by customers, who hold no API key. The page gets a token bound to one
// chat session (an HMAC of the session id), which /chat accepts for that session only. The secret
// is made once and kept in platform_state, so every replica signs and checks alike.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../../platform/db/database.ts';
import { sql } from '../../platform/db/drizzle.ts';
import { rowsOf } from './store.ts';

const KEY = 'payments.page-token-secret';

export async function loadPageSecret(db: Database): Promise<Buffer> {
  const fresh = randomBytes(32).toString('base64');
  await db.orm.execute(
    sql`insert into platform_state (key, value) values (${KEY}, ${JSON.stringify(fresh)}::jsonb) on conflict (key) do nothing`,
  );
  const result = await db.orm.execute(sql`select value from platform_state where key = ${KEY}`);
  const rows = rowsOf<{ value: unknown }>(result);
  return Buffer.from(String(rows[0]?.value), 'base64');
}

export function signSession(secret: Buffer, sessionId: string): string {
  return createHmac('sha256', secret).update(`paybot-page:${sessionId}`).digest('base64url');
}

export function checkSessionToken(secret: Buffer, sessionId: string, token: string): boolean {
  const expected = Buffer.from(signSession(secret, sessionId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// Resuming a page session (back from Checkout: /pay?session=web-...) needs more than the id, which
// travels in URLs (Stripe's success_url, history, referrers): the HttpOnly cookie handed out when the
// page made the session, holding its own HMAC (another purpose than the page token's).
export const RESUME_COOKIE = 'paybot_session';

export function resumeProof(secret: Buffer, sessionId: string): string {
  return createHmac('sha256', secret).update(`paybot-resume:${sessionId}`).digest('base64url');
}

/** Whether the request's Cookie header proves it opened `sessionId` on this browser. */
export function canResume(secret: Buffer, sessionId: string, cookieHeader: string | undefined): boolean {
  const value = readCookie(cookieHeader, RESUME_COOKIE);
  if (!value) return false;
  const [id, proof] = value.split('.');
  if (id !== sessionId || !proof) return false;
  const expected = Buffer.from(resumeProof(secret, sessionId));
  const given = Buffer.from(proof);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The Set-Cookie value for a session the page just made. Lax: the top-level return from Checkout carries it. */
export function resumeCookie(secret: Buffer, sessionId: string, secure: boolean): string {
  return `${RESUME_COOKIE}=${sessionId}.${resumeProof(secret, sessionId)}; Path=/pay; HttpOnly; SameSite=Lax; Max-Age=86400${secure ? '; Secure' : ''}`;
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}
