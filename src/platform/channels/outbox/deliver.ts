// Delivers one outbox row. The row, not the job, is the source of truth: a job that runs twice, or
// after the row moved on, does nothing; a row a crash left in `sending` is first looked up at the
// provider (where it can be) so it is never sent twice; provider throttling and faults are retried
// here with backoff and jitter, honouring Retry-After, so one row's delay never blocks a worker.
import { eq, sql } from 'drizzle-orm';
import type { Config } from '../../../config.ts';
import type { Database } from '../../db/database.ts';
import { type Tx, withTransaction } from '../../db/transaction.ts';
import { errorMessage } from '../../errors.ts';
import type { JobContext, JobSystem } from '../../jobs/job-system.ts';
import { scrubText } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import type { SendPacer } from '../pacing.ts';
import { type OutboxRow, outboxMessages } from '../schema.ts';
import { nextSendTime } from '../sms/quiet-hours.ts';
import { isSuppressed, suppress } from '../suppression.ts';
import { type Drivers, ProviderError, type SendResult } from '../types.ts';
import type { OutboxJobs } from './jobs.ts';

/**
 * Whether a message may still go out, checked in the transaction that claims it: null to send, or
 * the reason not to. E.g. an invoice alert is pointless once the invoice left review.
 */
export type Precondition = (meta: Record<string, unknown>, tx: Tx) => Promise<string | null>;

export interface DeliverDeps {
  db: Database;
  jobs: JobSystem<OutboxJobs>;
  drivers: Drivers;
  pacer: SendPacer;
  metrics: Metrics;
  config: Pick<Config, 'outbox' | 'sms'>;
  preconditions?: ReadonlyMap<string, Precondition>;
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
  | 'failed';

export async function deliverMessage(
  deps: DeliverDeps,
  id: string,
  context: Pick<JobContext, 'log' | 'signal'>,
): Promise<DeliveryOutcome> {
  const now = deps.now?.() ?? new Date();
  const claim = await claimForSending(deps, id, now);
  if (claim.kind !== 'claimed') return claim.kind;
  const { row, previousAttemptAt } = claim;
  const driver = deps.drivers[row.channel];

  // An earlier attempt may have reached the provider although we never recorded it (the process
  // died, or the answer was lost to a timeout or a reset): ask before sending again.
  if (previousAttemptAt && driver.findSent) {
    let matches: SendResult[] = [];
    try {
      matches = await driver.findSent(row, previousAttemptAt);
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      // Cannot ask now: try again later rather than risk a duplicate...
      if (!error.permanent) return handleProviderError(deps, row, driver.name, error, context);
      // ...unless we never can (a missing read scope): then sending is the only way forward.
      context.log.warn(
        { outboxId: row.id, code: error.code },
        'cannot read back what the provider sent; sending again',
      );
    }
    const found = await unclaimed(deps.db, row.id, driver.name, matches);
    if (found) {
      await recordSent(deps, row, driver.name, found);
      context.log.info(
        { outboxId: row.id, providerId: found.providerId },
        'an earlier attempt went out after all; not sending again',
      );
      return 'reconciled';
    }
  }

  if (row.sender && row.channel === 'sms')
    await deps.pacer.take(row.sender, row.segments ?? 1, context.signal);

  const started = performance.now();
  const observe = (outcome: string) =>
    deps.metrics.providerRequests.observe(
      { channel: row.channel, driver: driver.name, outcome },
      (performance.now() - started) / 1000,
    );
  try {
    const result = await driver.send(row);
    observe('ok');
    await recordSent(deps, row, driver.name, result);
    return result.status === 'delivered' ? 'delivered' : 'sent';
  } catch (error) {
    if (!(error instanceof ProviderError)) {
      // Not a provider answer (a bug, the database): let the job retry; the row stays `sending`
      // and the next attempt reconciles first.
      observe('error');
      throw error;
    }
    observe(error.permanent ? 'permanent' : 'transient');
    return handleProviderError(deps, row, driver.name, error, context);
  }
}

async function failedPrecondition(deps: DeliverDeps, row: OutboxRow, tx: Tx): Promise<string | null> {
  const name = row.meta.precondition;
  if (typeof name !== 'string') return null;
  const check = deps.preconditions?.get(name);
  // The app that set it is not running here: send rather than hold the message forever.
  if (!check) return null;
  return check(row.meta, tx);
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

type Claim =
  | { kind: 'claimed'; row: OutboxRow; previousAttemptAt: Date | null }
  | { kind: 'already_done' | 'not_due' | 'held_for_quiet_hours' | 'suppressed' | 'cancelled' | 'failed' };

/** Locks the row, decides whether it is to be sent now, and marks the attempt. */
async function claimForSending(deps: DeliverDeps, id: string, now: Date): Promise<Claim> {
  const decision = await withTransaction(deps.db, async (tx) => {
    const [row] = await tx.select().from(outboxMessages).where(eq(outboxMessages.id, id)).for('update');
    if (!row || (row.status !== 'queued' && row.status !== 'sending'))
      return { kind: 'already_done' as const };
    // An early or duplicate job: the job scheduled for send_after will come.
    if (row.status === 'queued' && row.sendAfter && row.sendAfter.getTime() > now.getTime() + 1000) {
      return { kind: 'not_due' as const };
    }
    if (row.channel === 'sms' && (await isSuppressed(tx, row.recipient))) {
      await tx
        .update(outboxMessages)
        .set({
          status: 'suppressed',
          lastError: 'the recipient opted out (suppression list)',
          updatedAt: sql`now()`,
        })
        .where(eq(outboxMessages.id, id));
      return { kind: 'suppressed' as const };
    }
    const reason = await failedPrecondition(deps, row, tx);
    if (reason) {
      await tx
        .update(outboxMessages)
        .set({ status: 'cancelled', lastError: reason, updatedAt: sql`now()` })
        .where(eq(outboxMessages.id, id));
      return { kind: 'cancelled' as const };
    }
    if (row.attempts >= deps.config.outbox.maxAttempts) {
      await tx
        .update(outboxMessages)
        .set({
          status: 'failed',
          lastError: `gave up after ${row.attempts} attempts: ${row.lastError ?? 'no answer recorded'}`,
          updatedAt: sql`now()`,
        })
        .where(eq(outboxMessages.id, id));
      return { kind: 'failed' as const };
    }
    // Retries can push a message past the evening: quiet hours are checked again at send time.
    const quiet = deps.config.sms.quietHours;
    if (row.channel === 'sms' && quiet && row.status === 'queued') {
      const opens = nextSendTime(now, row.timeZone ?? quiet.defaultTimeZone, quiet.window);
      if (opens.getTime() > now.getTime()) {
        await tx
          .update(outboxMessages)
          .set({ sendAfter: opens, updatedAt: sql`now()` })
          .where(eq(outboxMessages.id, id));
        return { kind: 'held_for_quiet_hours' as const, opens };
      }
    }
    const [claimed] = await tx
      .update(outboxMessages)
      .set({
        status: 'sending',
        attempts: sql`${outboxMessages.attempts} + 1`,
        attemptStartedAt: now,
        updatedAt: sql`now()`,
      })
      .where(eq(outboxMessages.id, id))
      .returning();
    return { kind: 'claimed' as const, row: claimed as OutboxRow, previousAttemptAt: row.attemptStartedAt };
  });
  if (decision.kind === 'held_for_quiet_hours') {
    await deps.jobs.send('outbox.deliver', { id }, { singletonKey: id, startAfter: decision.opens });
    return { kind: 'held_for_quiet_hours' };
  }
  if (decision.kind === 'suppressed')
    deps.metrics.outboxMessages.inc({ channel: 'sms', outcome: 'suppressed' });
  return decision;
}

async function recordSent(
  deps: DeliverDeps,
  row: OutboxRow,
  driver: string,
  result: SendResult,
): Promise<void> {
  const delivered = result.status === 'delivered';
  await deps.db.orm
    .update(outboxMessages)
    .set({
      // A fast status callback may have moved the row on already; never move it back.
      status: sql`case when ${outboxMessages.status} in ('queued', 'sending') then ${delivered ? 'delivered' : 'sent'} else ${outboxMessages.status} end`,
      driver,
      providerId: result.providerId,
      sentAt: sql`coalesce(${outboxMessages.sentAt}, now())`,
      ...(delivered ? { deliveredAt: sql`now()` } : {}),
      lastError: null,
      errorCode: null,
      updatedAt: sql`now()`,
    })
    .where(eq(outboxMessages.id, row.id));
  deps.metrics.outboxMessages.inc({ channel: row.channel, outcome: delivered ? 'delivered' : 'sent' });
}

async function handleProviderError(
  deps: DeliverDeps,
  row: OutboxRow,
  driver: string,
  error: ProviderError,
  context: Pick<JobContext, 'log'>,
): Promise<DeliveryOutcome> {
  const message = scrubText(errorMessage(error)).slice(0, 1000);
  const giveUp = error.permanent || row.attempts >= deps.config.outbox.maxAttempts;
  if (giveUp) {
    await withTransaction(deps.db, async (tx) => {
      await tx
        .update(outboxMessages)
        .set({
          status: 'failed',
          driver,
          errorCode: error.code ?? null,
          lastError: message,
          updatedAt: sql`now()`,
        })
        .where(eq(outboxMessages.id, row.id));
      if (error.suppressRecipient && row.channel === 'sms') {
        await suppress(tx, row.recipient, 'provider', `${driver} ${error.code ?? ''}: ${message}`.trim());
      }
    });
    deps.metrics.outboxMessages.inc({ channel: row.channel, outcome: 'failed' });
    context.log.warn(
      { outboxId: row.id, code: error.code, attempts: row.attempts, permanent: error.permanent },
      'message failed',
    );
    return 'failed';
  }
  const delayMs = retryDelay(deps, row.attempts, error.retryAfterMs);
  const sendAfter = new Date((deps.now?.() ?? new Date()).getTime() + delayMs);
  await withTransaction(deps.db, async (tx) => {
    await tx
      .update(outboxMessages)
      .set({
        status: 'queued',
        sendAfter,
        driver,
        errorCode: error.code ?? null,
        lastError: message,
        updatedAt: sql`now()`,
      })
      .where(eq(outboxMessages.id, row.id));
    await deps.jobs.send(
      'outbox.deliver',
      { id: row.id },
      { tx, singletonKey: row.id, startAfter: sendAfter },
    );
  });
  deps.metrics.outboxMessages.inc({ channel: row.channel, outcome: 'retried' });
  context.log.info(
    { outboxId: row.id, code: error.code, attempt: row.attempts, delayMs },
    'provider refused for now; retry scheduled',
  );
  return 'retry_scheduled';
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
