// The one call apps make to send anything: a row in the outbox, keyed for dedupe, written in the
// caller's transaction together with the job that delivers it. The same key never produces a second
// message: the unique index decides, also between concurrent callers in several processes.
import { eq } from 'drizzle-orm';
import type { Config } from '../../../config.ts';
import type { Database } from '../../db/database.ts';
import { type Tx, withTransaction } from '../../db/transaction.ts';
import { AppError, type ErrorDetail } from '../../errors.ts';
import type { JobSystem } from '../../jobs/job-system.ts';
import type { Metrics } from '../../metrics.ts';
import { contentSchemas, type TemplateRegistry } from '../content.ts';
import { normalizeRecipient } from '../recipients.ts';
import { type OutboxStatus, outboxMessages } from '../schema.ts';
import { isValidZone, nextSendTime } from '../sms/quiet-hours.ts';
import { countSegments, fitToSegments } from '../sms/segments.ts';
import { isSuppressed } from '../suppression.ts';
import type { Channel, ContentByChannel } from '../types.ts';
import type { OutboxJobs } from './jobs.ts';

export interface EnqueueInput<C extends Channel = Channel> {
  /** One message per key, ever; e.g. `invoice:42:email:ap@example.com`. */
  dedupeKey: string;
  channel: C;
  /** E.164 phone (or a national number with SMS_DEFAULT_REGION), email address, or Slack channel/user id. */
  to: string;
  content?: ContentByChannel[C];
  /** A registered template and its data, instead of `content`. */
  template?: string;
  data?: Record<string, unknown>;
  /** Not before this time. */
  sendAfter?: Date;
  /** The recipient's IANA zone, for quiet hours. */
  timeZone?: string;
  meta?: Record<string, unknown>;
}

export interface EnqueueResult {
  id: string;
  status: OutboxStatus;
  /** False when the dedupe key already had a message: nothing new was queued. */
  created: boolean;
}

export interface EnqueueDeps {
  db: Database;
  jobs: JobSystem<OutboxJobs>;
  config: Pick<Config, 'sms' | 'channels'>;
  templates: TemplateRegistry;
  metrics: Metrics;
  now?: () => Date;
}

/** Enqueues a message, in `tx` when given (the caller's business change and the message commit together). */
export async function enqueueMessage(
  deps: EnqueueDeps,
  input: EnqueueInput,
  tx?: Tx,
): Promise<EnqueueResult> {
  const prepared = prepare(deps, input);
  if (!prepared.ok) {
    deps.metrics.outboxMessages.inc({ channel: input.channel, outcome: 'rejected' });
    throw new AppError('invalid_input', `Cannot enqueue ${input.channel} message "${input.dedupeKey}"`, {
      details: prepared.details,
    });
  }
  const run = async (t: Tx) => {
    const row = prepared.row;
    const suppressed = row.channel === 'sms' && (await isSuppressed(t, row.recipient));
    const status: OutboxStatus = suppressed ? 'suppressed' : 'queued';
    const [inserted] = await t
      .insert(outboxMessages)
      .values({
        ...row,
        status,
        ...(suppressed ? { lastError: 'the recipient opted out (suppression list)' } : {}),
      })
      .onConflictDoNothing({ target: outboxMessages.dedupeKey })
      .returning({ id: outboxMessages.id });
    if (!inserted) {
      const [existing] = await t
        .select({ id: outboxMessages.id, status: outboxMessages.status })
        .from(outboxMessages)
        .where(eq(outboxMessages.dedupeKey, row.dedupeKey));
      if (!existing) throw new Error(`dedupe key ${row.dedupeKey} conflicted but no row has it`);
      return { id: existing.id, status: existing.status, created: false };
    }
    if (status === 'queued') {
      await deps.jobs.send(
        'outbox.deliver',
        { id: inserted.id },
        { tx: t, singletonKey: inserted.id, ...(row.sendAfter ? { startAfter: row.sendAfter } : {}) },
      );
    }
    return { id: inserted.id, status, created: true };
  };
  const result = tx ? await run(tx) : await withTransaction(deps.db, run);
  deps.metrics.outboxMessages.inc({
    channel: input.channel,
    outcome: !result.created ? 'duplicate' : result.status === 'suppressed' ? 'suppressed' : 'enqueued',
  });
  return result;
}

type Prepared =
  | { ok: true; row: Omit<typeof outboxMessages.$inferInsert, 'status'> }
  | { ok: false; details: ErrorDetail[] };

/** Validates and normalises everything that does not need the database. */
function prepare(deps: EnqueueDeps, input: EnqueueInput): Prepared {
  const details: ErrorDetail[] = [];
  const key = input.dedupeKey?.trim() ?? '';
  if (!key || key.length > 500)
    details.push({ field: 'dedupeKey', message: 'required, at most 500 characters' });
  if (!['sms', 'email', 'slack'].includes(input.channel)) {
    return { ok: false, details: [{ field: 'channel', message: 'one of sms, email, slack' }] };
  }
  const recipient = normalizeRecipient(input.channel, input.to ?? '', {
    defaultRegion: deps.config.sms.defaultRegion,
  });
  if (!recipient.ok) details.push({ field: 'to', message: recipient.reason });

  let rawContent: unknown = input.content;
  if (input.template !== undefined) {
    const template = deps.templates[input.template];
    if (!template) details.push({ field: 'template', message: `no template named "${input.template}"` });
    else rawContent = template(input.data ?? {});
  }
  const parsed = contentSchemas[input.channel].safeParse(rawContent);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      details.push({ field: ['content', ...issue.path].join('.'), message: issue.message });
  }
  if (input.timeZone !== undefined && !isValidZone(input.timeZone))
    details.push({ field: 'timeZone', message: 'not an IANA time zone' });
  if (details.length || !recipient.ok || !parsed.success) return { ok: false, details };

  const content = { ...parsed.data } as Record<string, unknown>;
  let segments: number | null = null;
  let sendAfter = input.sendAfter ?? null;
  let sender: string | null = null;
  if (input.channel === 'sms') {
    const fitted = fitToSegments(String(content.body), deps.config.sms.maxSegments);
    content.body = fitted.text;
    segments = countSegments(fitted.text).segments;
    const sms = deps.config.channels.sms;
    sender = sms.driver === 'twilio' ? (sms.from ?? sms.messagingServiceSid) : sms.from;
    const quiet = deps.config.sms.quietHours;
    if (quiet) {
      const due = sendAfter ?? deps.now?.() ?? new Date();
      const opens = nextSendTime(due, input.timeZone ?? quiet.defaultTimeZone, quiet.window);
      if (opens.getTime() !== due.getTime()) sendAfter = opens;
    }
  } else if (input.channel === 'email') {
    sender = deps.config.channels.email.from.email;
  }
  return {
    ok: true,
    row: {
      dedupeKey: key,
      channel: input.channel,
      recipient: recipient.value,
      sender,
      content,
      segments,
      sendAfter,
      timeZone: input.timeZone ?? null,
      meta: input.meta ?? {},
    },
  };
}
