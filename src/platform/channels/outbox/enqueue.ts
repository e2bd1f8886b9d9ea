// The one call apps make to send anything: a row in the outbox, keyed for dedupe, written in the
// caller's transaction together with the job that delivers it. The same key never produces a second
// message: the unique index decides, also between concurrent callers in several processes.

import type { Config } from '../../../config.ts';
import type { Database } from '../../db/database.ts';
import { inArray, sql } from '../../db/drizzle.ts';
import { type Tx, withTransaction } from '../../db/transaction.ts';
import { AppError, type ErrorDetail } from '../../errors.ts';
import type { JobSystem } from '../../jobs/job-system.ts';
import type { Metrics } from '../../metrics.ts';
import { contentSchemas, type TemplateRegistry } from '../content.ts';
import { normalizeRecipient } from '../recipients.ts';
import { type OutboxStatus, outboxMessages } from '../schema.ts';
import { isValidZone, nextSendTime } from '../sms/quiet-hours.ts';
import { countSegments, fitToSegments } from '../sms/segments.ts';
import { SUPPRESSED_REASON, suppressedAmong } from '../suppression.ts';
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
  const [result] = await enqueueMessages(deps, [input], tx);
  return accepted(input, result);
}

/** The result for one input, or the AppError that says why it was refused. */
export function accepted(input: EnqueueInput, result: BulkEnqueueResult | undefined): EnqueueResult {
  if (!result || 'rejected' in result) {
    throw new AppError('invalid_input', `Cannot enqueue ${input.channel} message "${input.dedupeKey}"`, {
      details: result?.rejected ?? [],
    });
  }
  return result;
}

export type BulkEnqueueResult = EnqueueResult | { dedupeKey: string; rejected: ErrorDetail[] };

/** Rows per INSERT: well under PostgreSQL's 65,535 parameters at ~13 columns a row. */
const CHUNK = 1000;

/**
 * Enqueues many messages with a few statements (one suppression lookup, chunked multi-row inserts,
 * one job insert): what a scan queuing thousands of alerts needs. Each input gets its own result, in
 * order; an invalid one is rejected with its reasons without stopping the others.
 */
export async function enqueueMessages(
  deps: EnqueueDeps,
  inputs: EnqueueInput[],
  tx?: Tx,
): Promise<BulkEnqueueResult[]> {
  const prepared = inputs.map((input) => prepare(deps, input));
  const run = async (t: Tx): Promise<BulkEnqueueResult[]> => {
    const rows = prepared.flatMap((p) => (p.ok ? [p.row] : []));
    const phones = [...new Set(rows.filter((row) => row.channel === 'sms').map((row) => row.recipient))];
    const suppressed = await suppressedAmong(t, phones);
    const statusOf = (row: (typeof rows)[number]): OutboxStatus =>
      row.channel === 'sms' && suppressed.has(row.recipient) ? 'suppressed' : 'queued';

    const inserted = new Map<string, { id: string; status: OutboxStatus }>();
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const returned = await insertRows(
        t,
        chunk.map((row) => {
          const status = statusOf(row);
          return { ...row, status, lastError: status === 'suppressed' ? SUPPRESSED_REASON : null };
        }),
      );
      for (const r of returned) inserted.set(r.dedupeKey, { id: r.id, status: r.status });
    }
    const missing = [...new Set(rows.map((row) => row.dedupeKey).filter((key) => !inserted.has(key)))];
    const existing = new Map<string, { id: string; status: OutboxStatus }>();
    for (let i = 0; i < missing.length; i += CHUNK) {
      const found = await t
        .select({ id: outboxMessages.id, dedupeKey: outboxMessages.dedupeKey, status: outboxMessages.status })
        .from(outboxMessages)
        .where(inArray(outboxMessages.dedupeKey, missing.slice(i, i + CHUNK)));
      for (const r of found) existing.set(r.dedupeKey, { id: r.id, status: r.status });
    }

    const queued = rows.filter((row) => inserted.get(row.dedupeKey)?.status === 'queued');
    await deps.jobs.insert(
      'outbox.deliver',
      queued.map((row) => {
        const id = inserted.get(row.dedupeKey)?.id as string;
        return { payload: { id }, singletonKey: id, ...(row.sendAfter ? { startAfter: row.sendAfter } : {}) };
      }),
      { tx: t },
    );

    // A key given twice in one batch is created once; the second mention is a duplicate.
    const claimed = new Set<string>();
    return prepared.map((p, index): BulkEnqueueResult => {
      if (!p.ok) return { dedupeKey: inputs[index]?.dedupeKey ?? '', rejected: p.details };
      const key = p.row.dedupeKey;
      const created = inserted.get(key);
      if (created && !claimed.has(key)) {
        claimed.add(key);
        return { ...created, created: true };
      }
      const known = created ?? existing.get(key);
      if (!known) throw new Error(`dedupe key ${key} conflicted but no row has it`);
      return { ...known, created: false };
    });
  };
  const results = tx ? await run(tx) : await withTransaction(deps.db, run);
  results.forEach((result, index) => {
    const channel = inputs[index]?.channel ?? 'unknown';
    const outcome =
      'rejected' in result
        ? 'rejected'
        : !result.created
          ? 'duplicate'
          : result.status === 'suppressed'
            ? 'suppressed'
            : 'enqueued';
    deps.metrics.outboxMessages.inc({ channel, outcome });
  });
  return results;
}

type Row = Omit<typeof outboxMessages.$inferInsert, 'status'> & {
  status: OutboxStatus;
  lastError: string | null;
};

/**
 * One multi-row insert from a JSON document: a single parameter whatever the row count, and no
 * per-value parameter handling (a bulk enqueue of a million messages spends its time in the
 * database, not building statements).
 */
async function insertRows(
  t: Tx,
  rows: Row[],
): Promise<Array<{ id: string; dedupeKey: string; status: OutboxStatus }>> {
  const document = JSON.stringify(
    rows.map((row) => ({
      dedupe_key: row.dedupeKey,
      channel: row.channel,
      recipient: row.recipient,
      sender: row.sender ?? null,
      content: row.content,
      status: row.status,
      segments: row.segments ?? null,
      send_after: row.sendAfter ? row.sendAfter.toISOString() : null,
      time_zone: row.timeZone ?? null,
      meta: row.meta ?? {},
      last_error: row.lastError,
    })),
  );
  const result = await t.execute(sql`
    insert into outbox_messages
      (dedupe_key, channel, recipient, sender, content, status, segments, send_after, time_zone, meta, last_error)
    select x.dedupe_key, x.channel, x.recipient, x.sender, x.content, x.status, x.segments, x.send_after,
           x.time_zone, x.meta, x.last_error
    from jsonb_to_recordset(${document}::jsonb) as x(
      dedupe_key text, channel text, recipient text, sender text, content jsonb, status text, segments int,
      send_after timestamptz, time_zone text, meta jsonb, last_error text)
    on conflict (dedupe_key) do nothing
    returning id, dedupe_key, status`);
  return (
    result as unknown as { rows: Array<{ id: string; dedupe_key: string; status: OutboxStatus }> }
  ).rows.map((r) => ({ id: r.id, dedupeKey: r.dedupe_key, status: r.status }));
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
