// The /pay page is opened by customers, who hold no API key. The page gets a token bound to one
// chat session (an HMAC of the session id), which /chat accepts for that session only. The secret
// is made once and kept in platform_state, so every replica signs and checks alike.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/database.ts';
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
