// Delivers one outbox row. The row, not the job, is the source of truth: a job that runs twice, or
// after the row moved on, does nothing; a row a crash left in `sending` is first looked up at the
// provider (where it can be) so it is never sent twice; provider throttling and faults are retried
// here with backoff and jitter, honouring Retry-After, so one row's delay never blocks a worker.

import type { Config } from '../../../config.ts';
import type { Database } from '../../db/database.ts';
import { and, anyOf, eq, sql } from '../../db/drizzle.ts';
import { type Tx, withTransaction } from '../../db/transaction.ts';
import { retryWhileDatabaseUnavailable } from '../../db/unavailable.ts';
import { errorMessage } from '../../errors.ts';
import type { JobContext, JobSystem } from '../../jobs/job-system.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { errorText } from '../../redact.ts';
import { inSpan, SpanKind } from '../../tracing/tracing.ts';
import type { SendPacer } from '../pacing.ts';
import { type OutboxRow, outboxMessages } from '../schema.ts';
import { nextSendTime } from '../sms/quiet-hours.ts';
import { SUPPRESSED_REASON, suppress, suppressedAmong } from '../suppression.ts';
import { type Drivers, ProviderError, READBACK_LIMIT, type SendResult } from '../types.ts';
import type { OutboxJobs } from './jobs.ts';
import type { LeaseHold, LeaseKeeper } from './lease.ts';

/**
 * Whether a message may still go out, checked in the transaction that claims it: null to send, or
 * the reason not to. E.g. an invoice alert is pointless once the invoice left review. It gets the
 * `meta` of every message of a claim at once (one query for a whole batch) and answers for each.
 */
export type Precondition = (metas: Array<Record<string, unknown>>, tx: Tx) => Promise<Array<string | null>>;

export interface DeliverDeps {
  db: Database;
  jobs: JobSystem<OutboxJobs>;
  drivers: Drivers;
  pacer: SendPacer;
  /** Keeps the leases of this process's running attempts. */
  leases: LeaseKeeper;
  metrics: Metrics;
  config: Pick<Config, 'outbox' | 'sms'>;
  preconditions?: ReadonlyMap<string, Precondition>;
  /** Gathers the claims of concurrent deliveries into one statement (see coalesce.ts). */
  claimer?: (id: string) => Promise<Claim>;
  /** Gathers the records of concurrent deliveries into one statement. */
  recorder?: (record: SentRecord) => Promise<void>;
  now?: () => Date;
  /** Randomness for jitter (tests pass a fixed one). */
  random?: () => number;
}

export type DeliveryOutcome =
  | 'sent'
  | 'delivered'
  | 'already_done'
  | 'not_due'
  | 'held_for_quiet_hours'
  | 'suppressed'
  | 'cancelled'
  | 'reconciled'
  | 'retry_scheduled'
  | 'in_progress'
  | 'handed_back'
  | 'lost_lease'
  | 'failed';

export async function deliverMessage(
  deps: DeliverDeps,
  id: string,
  context: Pick<JobContext, 'log' | 'signal'>,
): Promise<DeliveryOutcome> {
  const now = deps.now?.() ?? new Date();
  // Nothing has happened yet: while the database is away, wait for it rather than fail the job.
  const claim = await retryWhileDatabaseUnavailable(
    async () =>
      deps.claimer ? await deps.claimer(id) : ((await claimMany(deps, [id], now)).get(id) as Claim),
    { what: 'the claim of an outbox message', log: lazyWarn(context), signal: context.signal },
  );
  if (claim.kind !== 'claimed') return claim.kind;
  const hold = deps.leases.hold(claim.row.attemptId as string, claim.claimedAt);
  // Another job for the same row in the same batch got this claim first.
  if (!hold) return 'in_progress';
  try {
    return await attempt(deps, claim, hold, context);
  } finally {
    hold.drop();
  }
}

/**
 * The job's logger, asked for only when a warning is written: a job's logger is a pino child made on
 * first use, and making one per message cost a busy worker more CPU than the rest of its job wrapper.
 */
const lazyWarn = (context: Pick<JobContext, 'log'>): Pick<Logger, 'warn'> => ({
  warn: ((...args: Parameters<Logger['warn']>) => context.log.warn(...args)) as Logger['warn'],
});

/** One claimed attempt: read back what earlier attempts may have sent, wait for pacing, send once. */
async function attempt(
  deps: DeliverDeps,
  claim: Extract<Claim, { kind: 'claimed' }>,
  hold: LeaseHold,
  context: Pick<JobContext, 'log' | 'signal'>,
): Promise<DeliveryOutcome> {
  const { row, readBackSince } = claim;
  const driver = deps.drivers[row.channel];
  const signal = AbortSignal.any([context.signal, hold.signal]);
  const owned = { id: row.id, channel: row.channel, attemptId: row.attemptId as string, readBackSince };

  // Earlier attempts may have reached the provider although we never recorded it (the process
  // died, or the answer was lost to a timeout or a reset): ask, over all of them, before sending.
  if (readBackSince && driver.findSent) {
    let matches: SendResult[] = [];
    try {
      const findSent = driver.findSent.bind(driver);
      matches = await inSpan(`read back ${row.channel}`, providerSpan(row, driver.name), () =>
        findSent(row, readBackSince),
      );
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      // Cannot ask now: try again later rather than risk a duplicate. Not a send: no attempt used.
      // A read-back that cannot decide for too long (a number getting more messages than the bound
      // lists) would wait forever: past the bound the message ends as delivery unknown, not resent.
      if (!error.permanent)
        return handleProviderError(deps, owned, row, driver.name, error, context, {
          readBack: true,
          deliveryUnknownSince: readBackOverdue(deps, readBackSince) ? readBackSince : null,
        });
      // ...unless we never can (a missing read scope): then sending is the only way forward.
      context.log.warn(
        { outboxId: row.id, code: error.code },
        'cannot read back what the provider sent; sending again',
      );
    }
    const found = await unclaimed(deps.db, row.id, driver.name, matches);
    if (found) {
      await recordSent(deps, row, driver.name, found, lazyWarn(context));
      context.log.info(
        { outboxId: row.id, providerId: found.providerId },
        'an earlier attempt went out after all; not sending again',
      );
      return 'reconciled';
    }
  }

  try {
    if (row.sender && row.channel === 'sms') await deps.pacer.take(row.sender, row.segments ?? 1, signal);
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  // The last moment to stop: past here the provider may have the message.
  if (signal.aborted || !hold.valid())
    return handBack(deps, owned, signal.reason ?? hold.signal.reason, context);

  const started = performance.now();
  const observe = (outcome: string) =>
    deps.metrics.providerRequests.observe(
      { channel: row.channel, driver: driver.name, outcome },
      (performance.now() - started) / 1000,
    );
  try {
    const result = await inSpan(`send ${row.channel}`, providerSpan(row, driver.name), async (span) => {
      const sent = await driver.send(row);
      span.setAttribute('outbox.provider_id', sent.providerId);
      return sent;
    });
    observe('ok');
    await recordSent(deps, row, driver.name, result, lazyWarn(context));
    return result.status === 'delivered' ? 'delivered' : 'sent';
  } catch (error) {
    if (!(error instanceof ProviderError)) {
      // Not a provider answer (a bug, the database): let the job retry; the row stays `sending`
      // until its lease runs out, and the next attempt reads back first.
      observe('error');
      throw error;
    }
    observe(error.permanent ? 'permanent' : 'transient');
    return handleProviderError(deps, owned, row, driver.name, error, context, {
      readBack: false,
      deliveryUnknownSince: null,
    });
  }
}

/** A provider call's span: which message, to whom it belongs (the dedupe key), which attempt. */
const providerSpan = (row: OutboxRow, driver: string) => ({
  kind: SpanKind.CLIENT,
  attributes: {
    'outbox.id': row.id,
    'outbox.dedupe_key': row.dedupeKey,
    'outbox.channel': row.channel,
    'outbox.driver': driver,
    'outbox.attempt': row.attempts,
  },
});

/** The attempt the outbox row belongs to, and what it must restore if it ends without sending. */
interface OwnedAttempt {
  id: string;
  channel: string;
  attemptId: string;
  /** `unconfirmed_since` before this attempt claimed the row. */
  readBackSince: Date | null;
}

/**
 * An attempt stopped before it sent (its job expired or the worker is stopping, or it lost its lease):
 * the row goes back to `queued` with a new job, its attempt not counted, if the attempt still owns it.
 */
async function handBack(
  deps: DeliverDeps,
  owned: OwnedAttempt,
  reason: unknown,
  context: Pick<JobContext, 'log'>,
): Promise<DeliveryOutcome> {
  const released = await withTransaction(deps.db, async (tx) => {
    const rows = await tx
      .update(outboxMessages)
      .set({
        status: 'queued',
        attempts: sql`greatest(${outboxMessages.attempts} - 1, 0)`,
        ...releasedLease(owned),
        sendAfter: null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(outboxMessages.id, owned.id), eq(outboxMessages.attemptId, owned.attemptId)))
      .returning({ id: outboxMessages.id });
    if (rows.length)
      await deps.jobs.send('outbox.deliver', { id: owned.id }, { tx, singletonKey: nextJobKey(owned) });
    return rows.length > 0;
  });
  deps.metrics.outboxMessages.inc({ channel: owned.channel, outcome: 'handed_back' });
  context.log.info(
    { outboxId: owned.id, reason: errorMessage(reason), released },
    released
      ? 'send attempt stopped before sending; message handed back to the queue'
      : 'send attempt stopped before sending; another attempt owns the message now',
  );
  return 'handed_back';
}

/**
 * The job that follows an attempt is keyed by that attempt, not by the row alone: a job pg-boss
 * still counts as active for the row's key (a killed worker's, until it expires) keeps every
 * other job of that key from being fetched. One follow-up per attempt, however it ended.
 */
export const nextJobKey = (owned: { id: string; attemptId: string | null }) =>
  `${owned.id}:${owned.attemptId ?? 'none'}`;

/** The columns that end an attempt's ownership of its row. */
const releasedLease = (owned: OwnedAttempt) => ({
  attemptId: null,
  leaseExpiresAt: null,
  unconfirmedSince: owned.readBackSince,
});

/** For each row, the reason a precondition gives not to send it (null: send). One call per precondition. */
async function failedPreconditions(
  deps: DeliverDeps,
  rows: OutboxRow[],
  tx: Tx,
): Promise<Map<string, string | null>> {
  const reasons = new Map<string, string | null>();
  const byName = new Map<string, OutboxRow[]>();
  for (const row of rows) {
    const name = row.meta.precondition;
    // The app that set it is not running here: send rather than hold the message forever.
    if (typeof name !== 'string' || !deps.preconditions?.has(name)) continue;
    byName.set(name, [...(byName.get(name) ?? []), row]);
  }
  for (const [name, group] of byName) {
    const check = deps.preconditions?.get(name) as Precondition;
    const answers = await check(
      group.map((row) => row.meta),
      tx,
    );
    for (const [index, row] of group.entries()) reasons.set(row.id, answers[index] ?? null);
  }
  return reasons;
}

/** The first match that no other outbox row has recorded as its own (identical texts to one number). */
async function unclaimed(
  db: Database,
  id: string,
  driver: string,
  matches: SendResult[],
): Promise<SendResult | undefined> {
  for (const match of matches) {
    const owners = await db.query(
      'select 1 from outbox_messages where driver = $1 and provider_id = $2 and id <> $3 limit 1',
      [driver, match.providerId, id],
    );
    if (owners.length === 0) return match;
  }
  return undefined;
}

export type Claim =
  | {
      kind: 'claimed';
      row: OutboxRow;
      /** Since when earlier attempts may have sent without our knowing (null: none did). */
      readBackSince: Date | null;
      /** This process's clock just before the claim: where its lease deadline counts from. */
      claimedAt: number;
    }
  | {
      kind:
        | 'already_done'
        | 'in_progress'
        | 'not_due'
        | 'held_for_quiet_hours'
        | 'suppressed'
        | 'cancelled'
        | 'failed';
    };

/** Locks the rows, decides for each whether it is to be sent now, and marks the attempts. */
export async function claimMany(deps: DeliverDeps, ids: string[], now: Date): Promise<Map<string, Claim>> {
  const decisions = new Map<string, Claim>();
  const held: Array<{ id: string; opens: Date }> = [];
  const claimedAt = Date.now();
  await withTransaction(deps.db, async (tx) => {
    const selected = await tx
      .select({
        row: outboxMessages,
        // Judged by the database's clock, the one that stamped the lease.
        leaseLive: sql<boolean>`coalesce(${outboxMessages.leaseExpiresAt} > now(), false)`,
      })
      .from(outboxMessages)
      .where(anyOf(outboxMessages.id, ids))
      .for('update');
    // Another attempt owns these and is alive: it sends them, or its lease runs out first.
    for (const { row } of selected.filter((s) => s.row.status === 'sending' && s.leaseLive))
      decisions.set(row.id, { kind: 'in_progress' });
    const rows = selected.filter((s) => !decisions.has(s.row.id)).map((s) => s.row);
    const phones = rows.filter((row) => row.channel === 'sms').map((row) => row.recipient);
    const suppressed = await suppressedAmong(tx, phones);
    const reasons = await failedPreconditions(
      deps,
      rows.filter((row) => row.status === 'queued' || row.status === 'sending'),
      tx,
    );
    const toClaim: OutboxRow[] = [];
    const setStatus = (id: string, values: Partial<typeof outboxMessages.$inferInsert>) =>
      tx
        .update(outboxMessages)
        .set({ attemptId: null, leaseExpiresAt: null, ...values, updatedAt: sql`now()` })
        .where(eq(outboxMessages.id, id));
    for (const row of rows) {
      if (row.status !== 'queued' && row.status !== 'sending') continue;
      // An early or duplicate job: the job scheduled for send_after will come.
      if (row.status === 'queued' && row.sendAfter && row.sendAfter.getTime() > now.getTime() + 1000) {
        decisions.set(row.id, { kind: 'not_due' });
      } else if (row.channel === 'sms' && suppressed.has(row.recipient)) {
        await setStatus(row.id, { status: 'suppressed', errorCode: null, lastError: SUPPRESSED_REASON });
        decisions.set(row.id, { kind: 'suppressed' });
        deps.metrics.outboxMessages.inc({ channel: 'sms', outcome: 'suppressed' });
      } else {
        const reason = reasons.get(row.id);
        const opens = quietHoursOpen(deps, row, now);
        if (reason) {
          await setStatus(row.id, { status: 'cancelled', errorCode: null, lastError: reason });
          decisions.set(row.id, { kind: 'cancelled' });
        } else if (row.attempts >= deps.config.outbox.maxAttempts) {
          await setStatus(row.id, {
            status: 'failed',
            lastError: `gave up after ${row.attempts} attempts: ${row.lastError ?? 'no answer recorded'}`,
          });
          decisions.set(row.id, { kind: 'failed' });
        } else if (opens) {
          await setStatus(row.id, { sendAfter: opens });
          held.push({ id: row.id, opens });
          decisions.set(row.id, { kind: 'held_for_quiet_hours' });
        } else {
          toClaim.push(row);
        }
      }
    }
    if (toClaim.length) {
      const claimed = await tx
        .update(outboxMessages)
        .set({
          status: 'sending',
          attempts: sql`${outboxMessages.attempts} + 1`,
          attemptStartedAt: now,
          attemptId: sql`gen_random_uuid()`,
          leaseExpiresAt: sql`now() + make_interval(secs => ${deps.config.outbox.leaseMs / 1000})`,
          // The earliest attempt that may go unrecorded: a read-back covers from there, however
          // many attempts ended in between without sending (a failed read-back, a crash, a timeout).
          unconfirmedSince: sql`coalesce(${outboxMessages.unconfirmedSince}, ${now})`,
          updatedAt: sql`now()`,
        })
        .where(
          anyOf(
            outboxMessages.id,
            toClaim.map((row) => row.id),
          ),
        )
        // Only what the claim changed: the rest is as just selected, and returning whole rows read
        // every message's content (an email's HTML) back and parsed it a second time.
        .returning({
          id: outboxMessages.id,
          status: outboxMessages.status,
          attempts: outboxMessages.attempts,
          attemptStartedAt: outboxMessages.attemptStartedAt,
          attemptId: outboxMessages.attemptId,
          leaseExpiresAt: outboxMessages.leaseExpiresAt,
          unconfirmedSince: outboxMessages.unconfirmedSince,
          updatedAt: outboxMessages.updatedAt,
        });
      const previous = new Map(toClaim.map((row) => [row.id, row]));
      for (const changed of claimed) {
        const before = previous.get(changed.id) as OutboxRow;
        decisions.set(changed.id, {
          kind: 'claimed',
          row: { ...before, ...changed },
          readBackSince: before.unconfirmedSince ?? null,
          claimedAt,
        });
      }
    }
  });
  for (const { id, opens } of held)
    await deps.jobs.send('outbox.deliver', { id }, { singletonKey: id, startAfter: opens });
  for (const id of ids) if (!decisions.has(id)) decisions.set(id, { kind: 'already_done' });
  return decisions;
}

/** Retries can push a message past the evening: quiet hours are checked again at send time. */
function quietHoursOpen(deps: DeliverDeps, row: OutboxRow, now: Date): Date | null {
  const quiet = deps.config.sms.quietHours;
  if (row.channel !== 'sms' || !quiet || row.status !== 'queued') return null;
  const opens = nextSendTime(now, row.timeZone ?? quiet.defaultTimeZone, quiet.window);
  return opens.getTime() > now.getTime() ? opens : null;
}

export interface SentRecord {
  row: OutboxRow;
  driver: string;
  result: SendResult;
}

/** Records sends, many in one statement. A fast status callback may have moved a row on already: never back. */
export async function recordMany(deps: DeliverDeps, records: SentRecord[]): Promise<void> {
  await deps.db.query(
    `update outbox_messages as o set
       status = case when o.status in ('queued', 'sending') then v.status else o.status end,
       driver = v.driver,
       provider_id = v.provider_id,
       sent_at = coalesce(o.sent_at, now()),
       delivered_at = case when v.status = 'delivered' then now() else o.delivered_at end,
       last_error = null,
       error_code = null,
       attempt_id = null,
       lease_expires_at = null,
       unconfirmed_since = null,
       updated_at = now()
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as v(id, status, driver, provider_id)
     where o.id = v.id`,
    [
      records.map((r) => r.row.id),
      records.map((r) => (r.result.status === 'delivered' ? 'delivered' : 'sent')),
      records.map((r) => r.driver),
      records.map((r) => r.result.providerId),
    ],
  );
  for (const r of records) {
    deps.metrics.outboxMessages.inc({
      channel: r.row.channel,
      outcome: r.result.status === 'delivered' ? 'delivered' : 'sent',
    });
  }
}

/**
 * Records a send. The provider has the message: if the database is away, keep trying (the job's
 * expiry does not matter here) rather than leave it to a read-back, which not every channel has.
 */
async function recordSent(
  deps: DeliverDeps,
  row: OutboxRow,
  driver: string,
  result: SendResult,
  log: Pick<Logger, 'warn'>,
): Promise<void> {
  await retryWhileDatabaseUnavailable(
    () =>
      deps.recorder ? deps.recorder({ row, driver, result }) : recordMany(deps, [{ row, driver, result }]),
    { what: 'the record of a sent message', log },
  );
}

async function handleProviderError(
  deps: DeliverDeps,
  owned: OwnedAttempt,
  row: OutboxRow,
  driver: string,
  error: ProviderError,
  context: Pick<JobContext, 'log'>,
  /** deliveryUnknownSince: a read-back failing past the bound, counted from then: fail, never resend. */
  options: { readBack: boolean; deliveryUnknownSince: Date | null },
): Promise<DeliveryOutcome> {
  const deliveryUnknown = options.deliveryUnknownSince !== null;
  const message = options.deliveryUnknownSince
    ? deliveryUnknownReason(deps, driver, options.deliveryUnknownSince, errorText(error))
    : errorText(error);
  // A read-back that failed sent nothing: it does not use up one of the message's send attempts.
  const attempts = options.readBack ? row.attempts - 1 : row.attempts;
  const giveUp =
    deliveryUnknown || (!options.readBack && (error.permanent || attempts >= deps.config.outbox.maxAttempts));
  const errorCode = deliveryUnknown ? DELIVERY_UNKNOWN : (error.code ?? null);
  const ours = and(eq(outboxMessages.id, row.id), eq(outboxMessages.attemptId, owned.attemptId));
  // A send the provider answered with a refusal did not go out; one that got no answer may have.
  const unconfirmedSince =
    !options.readBack && error.unanswered
      ? (owned.readBackSince ?? row.attemptStartedAt)
      : owned.readBackSince;
  if (giveUp) {
    const settled = await withTransaction(deps.db, async (tx) => {
      const rows = await tx
        .update(outboxMessages)
        .set({
          status: 'failed',
          ...(options.readBack ? { attempts } : {}),
          driver,
          errorCode,
          lastError: message,
          ...releasedLease(owned),
          unconfirmedSince,
          updatedAt: sql`now()`,
        })
        .where(ours)
        .returning({ id: outboxMessages.id });
      if (rows.length && error.suppressRecipient && row.channel === 'sms') {
        await suppress(tx, row.recipient, 'provider', `${driver} ${error.code ?? ''}: ${message}`.trim());
      }
      return rows.length > 0;
    });
    if (!settled) return lostLease(owned, context);
    deps.metrics.outboxMessages.inc({ channel: row.channel, outcome: 'failed' });
    context.log.warn(
      { outboxId: row.id, code: errorCode, attempts, permanent: error.permanent },
      deliveryUnknown
        ? 'message failed: the read-back could not tell in time whether it went out; not sent again'
        : 'message failed',
    );
    return 'failed';
  }
  const delayMs =
    options.readBack && error.code === READBACK_LIMIT && owned.readBackSince
      ? readBackLimitDelay(deps, owned.readBackSince)
      : retryDelay(deps, Math.max(1, attempts), error.retryAfterMs);
  const sendAfter = new Date((deps.now?.() ?? new Date()).getTime() + delayMs);
  const requeued = await withTransaction(deps.db, async (tx) => {
    const rows = await tx
      .update(outboxMessages)
      .set({
        status: 'queued',
        attempts,
        sendAfter,
        driver,
        errorCode: error.code ?? null,
        lastError: message,
        ...releasedLease(owned),
        unconfirmedSince,
        updatedAt: sql`now()`,
      })
      .where(ours)
      .returning({ id: outboxMessages.id });
    if (rows.length)
      await deps.jobs.send(
        'outbox.deliver',
        { id: row.id },
        { tx, singletonKey: nextJobKey(owned), startAfter: sendAfter },
      );
    return rows.length > 0;
  });
  if (!requeued) return lostLease(owned, context);
  deps.metrics.outboxMessages.inc({ channel: row.channel, outcome: 'retried' });
  context.log.info(
    { outboxId: row.id, code: error.code, attempt: attempts, delayMs, readBack: options.readBack },
    options.readBack
      ? 'could not read back what the provider sent; retry scheduled, nothing sent'
      : 'provider refused for now; retry scheduled',
  );
  return 'retry_scheduled';
}

/** The error code of a message failed because no read-back could tell whether it went out. */
export const DELIVERY_UNKNOWN = 'delivery_unknown';

/** Whether a read-back covering attempts since `since` has been failing for longer than the bound. */
function readBackOverdue(deps: DeliverDeps, since: Date): boolean {
  const now = (deps.now?.() ?? new Date()).getTime();
  return now - since.getTime() > deps.config.outbox.readBackGiveUpMs;
}

/** What the operator reads on the row: that it may have gone out, since when, and why we cannot tell. */
function deliveryUnknownReason(deps: DeliverDeps, driver: string, since: Date, cause: string) {
  const minutes = Math.round(deps.config.outbox.readBackGiveUpMs / 60_000);
  return (
    `delivery unknown: an attempt since ${since.toISOString()} may have reached ` +
    `${driver}, and for over ${minutes} min no read-back could tell; not sent again, to avoid a ` +
    `duplicate (last read-back: ${cause})`
  );
}

/** The row moved on under another attempt while this one talked to the provider: leave it be. */
function lostLease(owned: OwnedAttempt, context: Pick<JobContext, 'log'>): DeliveryOutcome {
  context.log.warn({ outboxId: owned.id }, 'send attempt lost its lease; the row is left to its new owner');
  return 'lost_lease';
}

/**
 * When to try again a read-back refused for its limit (more messages to the number since the attempt
 * than one read-back lists). Each such read-back lists the whole limit (10,000 messages by default),
 * and it can only be refused again while messages to the number since the attempt only grow: tried
 * after the message has been undecided twice as long (at least the first retry delay, at most the
 * last), and just past the give-up bound rather than later, where it ends as delivery unknown. At the
 * ordinary retry delay, which a read-back does not raise (it uses no attempt), it was repeated every
 * few seconds until the bound: about 900 listings of 10,000 messages in an hour, for each such row.
 */
export function readBackLimitDelay(deps: Pick<DeliverDeps, 'config' | 'now'>, since: Date): number {
  const now = (deps.now?.() ?? new Date()).getTime();
  const { retryBaseMs, retryMaxMs, readBackGiveUpMs } = deps.config.outbox;
  const undecidedMs = now - since.getTime();
  const justPastBoundMs = since.getTime() + readBackGiveUpMs + 1000 - now;
  return Math.round(Math.max(retryBaseMs, Math.min(undecidedMs, retryMaxMs, justPastBoundMs)));
}

/** Exponential backoff with full jitter, never sooner than the provider's Retry-After. */
export function retryDelay(
  deps: Pick<DeliverDeps, 'config' | 'random'>,
  attempts: number,
  retryAfterMs?: number,
): number {
  const { retryBaseMs, retryMaxMs } = deps.config.outbox;
  const ceiling = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
  const jittered = ceiling / 2 + (ceiling / 2) * (deps.random ?? Math.random)();
  return Math.round(Math.min(retryMaxMs, Math.max(jittered, retryAfterMs ?? 0)));
}
