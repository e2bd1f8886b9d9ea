// Provider delivery reports moved onto outbox rows. Both providers retry and may reorder events;
// applyProviderStatus only ever moves a row forward, so any order ends in the same state.
import type { Database } from '../../db/database.ts';
import { withTransaction } from '../../db/transaction.ts';
import type { Metrics } from '../../metrics.ts';
import { applyProviderStatus } from '../outbox/store.ts';
import { suppress } from '../suppression.ts';
import { firstSighting } from '../webhook-events.ts';

// Maps, not object literals: a provider status is outside text, and `constructor` or `__proto__`
// must not find Object.prototype's members.
const TWILIO_STATUS = new Map<string, 'sent' | 'delivered' | 'undelivered' | 'failed'>([
  ['sent', 'sent'],
  ['delivered', 'delivered'],
  ['read', 'delivered'],
  ['undelivered', 'undelivered'],
  ['failed', 'failed'],
]);

export interface TwilioStatusReport {
  MessageSid?: string;
  MessageStatus?: string;
  ErrorCode?: string;
  To?: string;
}

export type StatusResult = 'updated' | 'unchanged' | 'duplicate';

export async function applyTwilioStatus(
  deps: { db: Database; metrics: Metrics },
  eventId: string,
  report: TwilioStatusReport,
): Promise<StatusResult> {
  const status = report.MessageStatus ? TWILIO_STATUS.get(report.MessageStatus) : undefined;
  return withTransaction(deps.db, async (tx) => {
    if (!(await firstSighting(tx, 'twilio-status', eventId))) return 'duplicate';
    if (!report.MessageSid || !status) return 'unchanged';
    const errorCode = report.ErrorCode && report.ErrorCode !== '0' ? report.ErrorCode : null;
    const row = await applyProviderStatus(
      tx,
      { driver: 'twilio', providerId: report.MessageSid },
      {
        status,
        ...(errorCode ? { errorCode, error: `Twilio reported ${status} with error ${errorCode}` } : {}),
      },
    );
    // 21610: the handset owner texted STOP to this sender; no app may text them again.
    if (errorCode === '21610' && row)
      await suppress(tx, row.recipient, 'provider', 'twilio 21610 in a status callback');
    if (row) deps.metrics.outboxMessages.inc({ channel: 'sms', outcome: status });
    return row ? 'updated' : 'unchanged';
  });
}

export interface SendGridEvent {
  event?: string;
  sg_event_id?: string | null | undefined;
  sg_message_id?: string | null | undefined;
  reason?: string | null | undefined;
  response?: string | null | undefined;
  status?: string | null | undefined;
}

const SENDGRID_STATUS = new Map<string, 'sent' | 'delivered' | 'undelivered'>([
  ['processed', 'sent'],
  ['delivered', 'delivered'],
  ['bounce', 'undelivered'],
  ['dropped', 'undelivered'],
  // deferred: SendGrid keeps trying; the row stays `sent` until delivered or bounced.
]);

export async function applySendGridEvents(
  deps: { db: Database; metrics: Metrics },
  events: SendGridEvent[],
): Promise<{ updated: number; unchanged: number; duplicates: number }> {
  const counts = { updated: 0, unchanged: 0, duplicates: 0 };
  for (const event of events) {
    const result = await withTransaction(deps.db, async (tx): Promise<StatusResult> => {
      if (event.sg_event_id && !(await firstSighting(tx, 'sendgrid', event.sg_event_id))) return 'duplicate';
      const status = event.event ? SENDGRID_STATUS.get(event.event) : undefined;
      // sg_message_id is the X-Message-Id we stored, plus a suffix after the first dot.
      const providerId = event.sg_message_id?.split('.')[0];
      if (!status || !providerId) return 'unchanged';
      const reason = event.reason ?? event.response;
      const row = await applyProviderStatus(
        tx,
        { driver: 'sendgrid', providerId },
        {
          status,
          ...(status === 'undelivered' ? { errorCode: event.event ?? null, error: reason ?? null } : {}),
        },
      );
      if (row) deps.metrics.outboxMessages.inc({ channel: 'email', outcome: status });
      return row ? 'updated' : 'unchanged';
    });
    counts[result === 'duplicate' ? 'duplicates' : result] += 1;
  }
  return counts;
}
