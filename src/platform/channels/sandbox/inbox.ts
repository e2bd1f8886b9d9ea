// The sandbox inbox: what sandbox drivers "sent", and texting back as a person would. The API
// (sandbox/routes.ts) and the console's sandbox page both go through these.
import { randomUUID } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { and, desc, eq, or } from '../../db/drizzle.ts';
import { AppError, invalidInput } from '../../errors.ts';
import type { Channels } from '../channels.ts';
import { sandboxMessages } from '../schema.ts';
import { normalizePhone } from '../sms/phone.ts';
import type { Channel } from '../types.ts';

export type SandboxMessage = typeof sandboxMessages.$inferSelect;

/** Newest first; `party` matches either end (a phone number's whole thread). */
export async function listSandboxMessages(
  db: Database,
  filter: { channel?: Channel; to?: string; party?: string; limit: number },
): Promise<SandboxMessage[]> {
  const conditions: SQL[] = [];
  if (filter.channel) conditions.push(eq(sandboxMessages.channel, filter.channel));
  if (filter.to) conditions.push(eq(sandboxMessages.recipient, filter.to));
  if (filter.party) {
    const either = or(eq(sandboxMessages.recipient, filter.party), eq(sandboxMessages.sender, filter.party));
    if (either) conditions.push(either);
  }
  return db.orm
    .select()
    .from(sandboxMessages)
    .where(and(...conditions))
    .orderBy(desc(sandboxMessages.createdAt))
    .limit(filter.limit);
}

export interface InboundSimulation {
  db: Database;
  drivers: Record<Channel, string>;
  /** The number inbound texts are addressed to (the sandbox "from" number). */
  smsNumber: string;
  defaultRegion: string | undefined;
  receiveSms: Channels['receiveSms'];
}

/** A text from `from` to the sandbox number, handled as one from a phone (STOP, START, HELP, replies). */
export async function simulateInboundSms(deps: InboundSimulation, fromText: string, body: string) {
  if (deps.drivers.sms !== 'sandbox') {
    throw new AppError('conflict', `SMS go through ${deps.drivers.sms}: text the real number instead`);
  }
  const from = normalizePhone(fromText, deps.defaultRegion);
  if (!from.ok)
    throw invalidInput('`from` is not a phone number', [{ field: 'body.from', message: from.reason }]);
  if (!body.trim())
    throw invalidInput('The text is empty', [{ field: 'body.body', message: 'type a message' }]);
  const providerId = `sandbox-in-${randomUUID()}`;
  await deps.db.orm.insert(sandboxMessages).values({
    channel: 'sms',
    direction: 'inbound',
    sender: from.e164,
    recipient: deps.smsNumber,
    content: { body },
  });
  const action = await deps.receiveSms({ from: from.e164, to: deps.smsNumber, body, providerId });
  return { from: from.e164, action, providerId };
}

/**
 * Phone numbers among the newest `window` sandbox SMS, newest conversation first (the inbox's
 * thread list). Bounded: the inbox never reads the whole table, however long the sandbox ran.
 */
export async function sandboxSmsThreads(db: Database, smsNumber: string, limit: number, window = 2000) {
  return db.query<{ phone: string; messages: number; last_at: Date }>(
    `select phone, count(*)::int as messages, max(created_at) as last_at
       from (select case when direction = 'inbound' then sender else recipient end as phone, created_at
               from sandbox_messages where channel = 'sms' order by created_at desc limit $2) recent
      where phone is not null and phone <> $3
      group by phone order by last_at desc limit $1`,
    [limit, window, smsNumber],
  );
}
