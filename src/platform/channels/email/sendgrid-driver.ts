// Email through SendGrid's official SDK (@sendgrid/mail over @sendgrid/client, whose base URL is
// configurable). SendGrid takes no idempotency key and offers no read-back of sent mail, so a crash
// between its 202 and our record can send a message twice: duplicates are bounded by the sends in
// flight at the crash (see README).
import sendgridClient from '@sendgrid/client';
import sendgridMail from '@sendgrid/mail';
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
  constructor(timeoutMs: number) {
    super();
    this.#timeoutMs = timeoutMs;
  }
  override async request(data: Parameters<SendGridClient['request']>[0]) {
    // What axios would have been given: url, baseURL, method, headers, data, params, timeout.
    const request = this.createRequest(data) as unknown as SdkRequest;
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
/** A body that says it is JSON but is not stays text, as axios leaves it. */
function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : text;
  } catch {
    return text;
  }
}

const { MailService } = sendgridMail as unknown as { MailService: new () => typeof sendgridMail };

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
  const mail = new MailService();
  mail.setClient(client);
  mail.setTimeout(options.timeoutMs);
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
        const [response] = await mail.send({
          to: message.recipient,
          from: { email: config.from.email, ...(config.from.name ? { name: config.from.name } : {}) },
          subject: content.subject,
          text: content.text,
          ...(content.html ? { html: content.html } : {}),
          // Comes back on every event webhook, tying events to the row even without the message id.
          customArgs: { outbox_id: message.id },
        });
        const id = response.headers['x-message-id'];
        return { providerId: typeof id === 'string' && id ? id : `sendgrid-${message.id}` };
      } catch (error) {
        throw sendgridError(error);
      }
    },
  };
}
