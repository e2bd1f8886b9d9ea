// SMS through Twilio's official SDK. The SDK has no base-URL setting, so a RequestClient subclass
// rewrites api.twilio.com to TWILIO_API_BASE_URL (a regional edge, a proxy, or a test fake); it also
// turns error responses into ProviderErrors while their headers (Retry-After) are still at hand,
// which the SDK's own RestException drops.
import twilio from 'twilio';
import type TwilioRequestClient from 'twilio/lib/base/RequestClient.js';
import type { Config } from '../../../config.ts';
import { createHttpTransport, formEncode } from '../http-transport.ts';
import type { OutboxRow } from '../schema.ts';
import {
  type ChannelDriver,
  ProviderError,
  parseRetryAfter,
  readBackLimitError,
  type SendResult,
  unreachable,
} from '../types.ts';

type TwilioSmsConfig = Extract<Config['channels']['sms'], { driver: 'twilio' }>;

/** Twilio errors that will not change on retry. 21610 also means the person texted STOP. */
const PERMANENT_CODES = new Set([
  21211, 21212, 21408, 21601, 21602, 21604, 21606, 21608, 21610, 21612, 21614, 21617, 30003, 30005, 30006,
  30007,
]);

export function twilioErrorFromResponse(
  status: number,
  body: unknown,
  headers: Record<string, unknown>,
): ProviderError {
  const parsed = (typeof body === 'string' ? safeJson(body) : body) as {
    code?: number;
    message?: string;
  } | null;
  const code = parsed?.code;
  const permanent =
    code !== undefined
      ? PERMANENT_CODES.has(code) || (status >= 400 && status < 500 && status !== 429)
      : status >= 400 && status < 500 && status !== 429 && status !== 408;
  return new ProviderError(
    `Twilio ${status}${code ? ` ${code}` : ''}: ${parsed?.message ?? 'no error message'}`,
    {
      permanent,
      status,
      ...(code !== undefined ? { code: String(code) } : {}),
      retryAfterMs: parseRetryAfter(headers['retry-after'] as string | undefined),
      suppressRecipient: code === 21610,
    },
  );
}

/**
 * The SDK's HTTP client, sending through our transport (see http-transport.ts) to the configured base
 * URL. Its options are the SDK's own: the method, the full api.twilio.com URI, Basic credentials or an
 * auth strategy, form data for POST and query params for GET.
 */
class RoutedRequestClient extends twilio.RequestClient {
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #transport = createHttpTransport();
  constructor(baseUrl: string, timeoutMs: number) {
    super({ timeout: timeoutMs, keepAlive: true, autoRetry: false });
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
  }
  override async request<TData>(opts: TwilioRequestClient.RequestOptions<TData>) {
    const url = new URL(opts.uri.replace(/^https:\/\/[a-z0-9.-]*\.twilio\.com/, this.#baseUrl));
    if (opts.params) url.search = formEncode(opts.params as Record<string, unknown>);
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined) };
    if (opts.username && opts.password)
      headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    else if (opts.authStrategy) headers.Authorization = await opts.authStrategy.getAuthString();
    let body: string | undefined;
    if (opts.data !== undefined && opts.data !== null)
      body =
        headers['Content-Type'] === 'application/json'
          ? JSON.stringify(opts.data)
          : formEncode(opts.data as Record<string, unknown>);
    const answer = await this.#transport
      .request({ method: opts.method.toUpperCase(), url, headers, body, timeoutMs: this.#timeoutMs })
      .catch((error: unknown) => {
        throw unreachable('Twilio', error);
      });
    if (answer.status >= 400) throw twilioErrorFromResponse(answer.status, answer.body, answer.headers);
    // The SDK parses a string body itself.
    return { statusCode: answer.status, body: answer.body as TData, headers: answer.headers };
  }
}

export function createTwilioDriver(
  config: TwilioSmsConfig,
  options: { timeoutMs: number; statusCallbackUrl: string | null; readBackMax?: number },
): ChannelDriver {
  const client = twilio(config.accountSid, config.authToken, {
    httpClient: new RoutedRequestClient(config.baseUrl, options.timeoutMs),
  });
  const sender = config.messagingServiceSid
    ? { messagingServiceSid: config.messagingServiceSid }
    : { from: config.from ?? '' };
  return {
    name: 'twilio',
    channel: 'sms',
    async send(message: OutboxRow) {
      const created = await client.messages.create({
        to: message.recipient,
        body: String(message.content.body),
        ...sender,
        ...(options.statusCallbackUrl ? { statusCallback: options.statusCallbackUrl } : {}),
      });
      return { providerId: created.sid };
    },
    async verify() {
      const account = await client.api.v2010.accounts(config.accountSid).fetch();
      if (account.status !== 'active') throw new Error(`the Twilio account is ${account.status}`);
      return `account "${account.friendlyName}" is active; sending as ${config.from ?? config.messagingServiceSid}`;
    },
    /**
     * Twilio takes no idempotency key, but lists what was sent: a message to this number with this
     * body, created since the earlier attempt began, is the one we failed to record. The list comes
     * newest first; it is paged until a message older than the attempt, however many were sent to the
     * number since (an AP line may get hundreds), within a bound. Not filtered on DateSent: a message
     * Twilio has only queued has no sent date yet, and such a filter would hide it.
     */
    async findSent(message: OutboxRow, sinceDate: Date) {
      // A minute of slack for clock skew between us and Twilio.
      const since = sinceDate.getTime() - 60_000;
      const max = options.readBackMax ?? 10_000;
      const matches: SendResult[] = [];
      let listed = 0;
      let reachedSince = false;
      await new Promise<void>((resolve, reject) => {
        client.messages.each(
          {
            to: message.recipient,
            pageSize: 200,
            done: (error?: Error) => (error ? reject(error) : resolve()),
          },
          (sent, stop) => {
            if ((sent.dateCreated?.getTime() ?? 0) < since) {
              reachedSince = true;
              return stop();
            }
            if (++listed > max) return stop();
            if (sent.body === message.content.body && sent.direction !== 'inbound')
              matches.push({ providerId: sent.sid });
          },
        );
      });
      // The whole window was seen (the list ended, or went past it), or we cannot say "not sent".
      if (listed > max && !reachedSince && matches.length === 0) throw readBackLimitError('Twilio', max);
      return matches;
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
