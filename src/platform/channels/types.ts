// What travels through the outbox, per channel, and what a driver must do with it.
import type { OutboxRow } from './schema.ts';

export type Channel = 'sms' | 'email' | 'slack';
export const CHANNELS: readonly Channel[] = ['sms', 'email', 'slack'];

export interface SmsContent {
  body: string;
}
export interface EmailContent {
  subject: string;
  text: string;
  html?: string;
}
export interface SlackContent {
  text: string;
  /** Reply in this thread. */
  threadTs?: string;
  blocks?: unknown[];
}
export interface ContentByChannel {
  sms: SmsContent;
  email: EmailContent;
  slack: SlackContent;
}

export interface SendResult {
  /** The provider's id for the message: Twilio SID, SendGrid X-Message-Id, Slack ts. */
  providerId: string;
  /** `delivered` when the driver knows at once (the sandbox); otherwise status callbacks tell. */
  status?: 'sent' | 'delivered';
}

export interface ChannelDriver {
  /** `twilio`, `sendgrid`, `smtp`, `slack` or `sandbox`: shown in /info and stored on each row. */
  readonly name: string;
  readonly channel: Channel;
  send(message: OutboxRow): Promise<SendResult>;
  /**
   * Before a retry, asks the provider whether an earlier attempt (begun at or after `since`) went
   * out after all: a crash between sending and recording, or an answer lost to a timeout or a
   * reset. Only where the provider lets us read back what was sent. Returns every sent message
   * that matches (the outbox skips those another row already owns); empty: not found, send it.
   * It pages through the provider's list until past `since`; where that takes more than the
   * configured bound it throws a transient `readBackLimitError`, so the outbox retries rather
   * than send again on an incomplete answer (and fails the message as delivery unknown once that
   * has gone on for OUTBOX_READBACK_GIVE_UP_AFTER_MINUTES).
   */
  findSent?(message: OutboxRow, since: Date): Promise<SendResult[]>;
  /** Checks the credentials against the provider (for `switchboard doctor`); resolves with a detail. */
  verify(): Promise<string>;
}

export type Drivers = Record<Channel, ChannelDriver>;

/** A provider's refusal, classified once by the driver so the outbox decides retry or not. */
export class ProviderError extends Error {
  readonly permanent: boolean;
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** The provider says the recipient opted out (Twilio 21610): suppress the number everywhere. */
  readonly suppressRecipient: boolean;
  /**
   * No answer came (reset, refused, timed out): unlike a refusal, the provider may have acted on
   * the request, so a resend must read back first.
   */
  readonly unanswered: boolean;
  constructor(
    message: string,
    options: {
      permanent: boolean;
      code?: string;
      status?: number;
      retryAfterMs?: number;
      suppressRecipient?: boolean;
      unanswered?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = 'ProviderError';
    this.permanent = options.permanent;
    this.code = options.code;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.suppressRecipient = options.suppressRecipient ?? false;
    this.unanswered = options.unanswered ?? false;
  }
}

/** HTTP statuses worth retrying: throttling, timeouts at the provider's edge and server faults. */
export const isTransientStatus = (status: number | undefined) =>
  status === undefined ||
  status === 408 ||
  status === 409 ||
  status === 425 ||
  status === 429 ||
  status >= 500;

/** Network faults (reset, refused, DNS, timeouts) are transient. */
export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return (
    typeof code === 'string' &&
    [
      'ECONNRESET',
      'ECONNREFUSED',
      'ETIMEDOUT',
      'ECONNABORTED',
      'EPIPE',
      'ENOTFOUND',
      'EAI_AGAIN',
      'UND_ERR_SOCKET',
      'ESOCKET',
      'ETIMEOUT',
    ].includes(code)
  );
}

/**
 * A call that got no answer from the provider (reset, refused, timed out): always worth retrying.
 * The provider may still have acted on it, which is why the outbox reconciles before a retry.
 */
export function unreachable(provider: string, error: unknown, networkError: unknown = error): ProviderError {
  const code = isNetworkError(networkError) ? (networkError as { code: string }).code : undefined;
  return new ProviderError(`${provider} unreachable: ${(error as Error).message}`, {
    permanent: false,
    unanswered: true,
    cause: error,
    ...(code ? { code } : {}),
  });
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(
  value: string | number | undefined | null,
  now = Date.now(),
): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The code of `readBackLimitError`. */
export const READBACK_LIMIT = 'readback_limit';

/** A read-back that would list more than `max` messages: retried later, never taken as "not sent". */
export function readBackLimitError(provider: string, max: number): ProviderError {
  return new ProviderError(
    `${provider} read-back stopped after ${max} messages without reaching the earlier attempt`,
    { permanent: false, code: READBACK_LIMIT },
  );
}
