// Email through SendGrid's official SDK client (@sendgrid/client, whose base URL is configurable), with
// the Mail Send body built as @sendgrid/mail builds it (mailSendBody). SendGrid takes no idempotency key and offers no read-back of sent mail, so a crash
// between its 202 and our record can send a message twice: duplicates are bounded by the sends in
// flight at the crash (see README).
import sendgridClient from '@sendgrid/client';
import type { Config } from '../../../config.ts';
import { createHttpTransport, formEncode } from '../http-transport.ts';
import {
  type ChannelDriver,
  type EmailContent,
  isTransientStatus,
  ProviderError,
  parseRetryAfter,
  unreachable,
} from '../types.ts';

// The packages export a shared default instance; the classes hang off it (typed only as `export =`).
// Our own instances keep this driver's key and base URL out of any other code using the SDK.
type SendGridClient = typeof sendgridClient;
interface SdkRequest {
  url: string;
  baseURL: string;
  method: string;
  data?: unknown;
  params?: Record<string, unknown>;
  headers: Record<string, string>;
  timeout?: number;
}
const { Client } = sendgridClient as unknown as { Client: new () => SendGridClient };

/**
 * The SDK's client, sending through our transport (see http-transport.ts). The SDK still merges
 * headers, auth and defaults (`createRequest`); its answers and errors keep the SDK's shapes: a
 * `[Response, body]` pair, or an error with `code` (the status) and `response.{headers, body}`.
 */
class TransportClient extends Client {
  readonly #transport = createHttpTransport();
  readonly #timeoutMs: number;
  #mailSend: SdkRequest | undefined;
  constructor(timeoutMs: number) {
    super();
    this.#timeoutMs = timeoutMs;
  }
  override async request(data: Parameters<SendGridClient['request']>[0]) {
    // What axios would have been given: url, baseURL, method, headers, data, params, timeout.
    return this.#exchange(this.createRequest(data) as unknown as SdkRequest);
  }
  /**
   * POST /v3/mail/send with a body built by the caller. The request around it (auth, headers, base
   * URL, timeout) is the SDK's, made once: `createRequest` deep-merges every request, body included,
   * into a copy of the defaults, and with @sendgrid/mail building the body that cost a busy worker
   * more CPU than anything else it did per email.
   */
  async mailSend(body: object) {
    this.#mailSend ??= this.createRequest({ method: 'POST', url: '/v3/mail/send' }) as unknown as SdkRequest;
    return this.#exchange({ ...this.#mailSend, data: body });
  }
  async #exchange(request: SdkRequest) {
    // Joined as axios joins them, so a base URL with a path (a proxy prefix) keeps it.
    const url = /^https?:\/\//.test(request.url)
      ? new URL(request.url)
      : new URL(`${request.baseURL.replace(/\/+$/, '')}/${request.url.replace(/^\/+/, '')}`);
    if (request.params) url.search = formEncode(request.params);
    const answer = await this.#transport.request({
      method: request.method.toUpperCase(),
      url,
      headers: request.headers,
      body: request.data === undefined ? undefined : JSON.stringify(request.data),
      timeoutMs: request.timeout ?? this.#timeoutMs,
    });
    const body = /json/.test(answer.headers['content-type'] ?? '') ? parseJson(answer.body) : answer.body;
    if (answer.status >= 400)
      throw Object.assign(new Error(`HTTP ${answer.status}`), {
        code: answer.status,
        response: { headers: answer.headers, body },
      });
    return [{ statusCode: answer.status, body, headers: answer.headers }, body] as Awaited<
      ReturnType<SendGridClient['request']>
    >;
  }
}

/**
 * Mail Send v3's body for one message to one recipient: what @sendgrid/mail's `Mail` helper makes of
 * `{ to, from, subject, text, html, customArgs }` (test/sendgrid-body.test.ts holds the two equal).
 * Built here because the helper's camel-case conversion and deep copies were a busy worker's largest
 * cost per email.
 */
export function mailSendBody(
  from: SendGridConfig['from'],
  message: { id: string; recipient: string },
  content: EmailContent,
): object {
  return {
    from: { email: from.email, ...(from.name ? { name: from.name } : {}) },
    subject: content.subject,
    personalizations: [{ to: [{ email: message.recipient }] }],
    content: [
      ...(typeof content.text === 'string' ? [{ value: content.text, type: 'text/plain' }] : []),
      ...(content.html ? [{ value: content.html, type: 'text/html' }] : []),
    ],
    // Comes back on every event webhook, tying events to the row even without the message id.
    custom_args: { outbox_id: message.id },
  };
}

/** A body that says it is JSON but is not stays text, as axios leaves it. */
function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : text;
  } catch {
    return text;
  }
}

type SendGridConfig = Extract<Config['channels']['email'], { driver: 'sendgrid' }>;

export function sendgridError(error: unknown): ProviderError {
  const response = (error as { response?: { headers?: Record<string, string>; body?: unknown } }).response;
  const status =
    typeof (error as { code?: unknown }).code === 'number'
      ? ((error as { code: number }).code as number)
      : undefined;
  if (status === undefined) {
    return unreachable('SendGrid', error);
  }
  const body = response?.body as { errors?: Array<{ message?: string; field?: string | null }> } | undefined;
  const detail = body?.errors?.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
  return new ProviderError(`SendGrid ${status}: ${detail || (error as Error).message}`, {
    permanent: !isTransientStatus(status),
    status,
    code: String(status),
    retryAfterMs: parseRetryAfter(response?.headers?.['retry-after']),
  });
}

export function createSendGridDriver(config: SendGridConfig, options: { timeoutMs: number }): ChannelDriver {
  const client = new TransportClient(options.timeoutMs);
  // In this order: setApiKey resets the base URL.
  client.setApiKey(config.apiKey);
  client.setDefaultRequest('baseUrl', config.baseUrl);
  return {
    name: 'sendgrid',
    channel: 'email',
    async verify() {
      let scopes: string[];
      try {
        const [, body] = await client.request({ method: 'GET', url: '/v3/scopes' });
        scopes = (body as { scopes?: string[] }).scopes ?? [];
      } catch (error) {
        throw sendgridError(error);
      }
      if (!scopes.includes('mail.send')) throw new Error('the API key lacks the Mail Send permission');
      return `the API key may send mail as ${config.from.email}`;
    },
    async send(message) {
      const content = message.content as unknown as EmailContent;
      try {
        const [response] = await client.mailSend(mailSendBody(config.from, message, content));
        const id = response.headers['x-message-id'];
        return { providerId: typeof id === 'string' && id ? id : `sendgrid-${message.id}` };
      } catch (error) {
        throw sendgridError(error);
      }
    },
  };
}
