// Fake SendGrid v3 Mail Send API, a test double speaking SendGrid's wire format:
// POST /v3/mail/send with a JSON body and "Authorization: Bearer <key>", answering 202 with an
// empty body and an X-Message-Id header; errors as { errors: [{ message, field, help }] }.
//
// Point @sendgrid/mail at it (setApiKey resets baseUrl, so call it first):
//
//   const client = new Client();               // import { Client } from '@sendgrid/client'
//   client.setApiKey(apiKey);
//   client.setDefaultRequest('baseUrl', fake.url);
//   const mail = new MailService();            // import { MailService } from '@sendgrid/mail'
//   mail.setClient(client);
//   mail.setTimeout(ms);                       // = client.setDefaultRequest('timeout', ms), typed
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import {
  type FakeResponse,
  type HttpFake,
  quoteRequest,
  type RecordedRequest,
  startHttpFake,
} from './http-fake.ts';

export interface SendGridErrorItem {
  message: string;
  field: string | null;
  help: string | null;
}

export interface SendGridSentMessage {
  /** The X-Message-Id answered for the request. */
  messageId: string;
  /** Every to/cc/bcc address of every personalization: who would get an email. */
  recipients: string[];
  from: string;
  subject: string | undefined;
  /** The request body as sent (personalizations, content, custom_args, ...). */
  body: Record<string, unknown>;
  receivedAt: Date;
}

export interface FakeSendGrid extends HttpFake {
  apiKey: string;
  /** Every email accepted, oldest first; stays empty with `keepMessages: false`. */
  sentMessages: SendGridSentMessage[];
  /** How many emails were accepted (kept or not). */
  sentCount: number;
  /** Next matching sends answer 429 with X-RateLimit-Limit/Remaining/Reset (and Retry-After if set). */
  rateLimit(options?: { resetInSec?: number; retryAfterSec?: number; times?: number }): void;
  /** Next matching requests fail with a 400 whose error message quotes the request (the API key too). */
  failQuotingRequest(options?: { times?: number }): void;
}

export interface SendGridOptions {
  apiKey: string;
  /** Keys that authenticate but lack the mail.send scope: 403 "access forbidden". */
  restrictedKeys?: string[];
  /** When set, a from address outside this list gets SendGrid's 403 Sender Identity error. */
  verifiedSenders?: string[];
  /**
   * Keep every request and every accepted email with its body (the default). A benchmark passes
   * false and counts with `sentCount`: 200,000 HTML emails, each kept as raw text and parsed JSON,
   * made 1.8 GB of the benchmark's process.
   */
  keepMessages?: boolean;
}

const SEND_PATH = '/v3/mail/send';
const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export function sendGridError(status: number, errors: SendGridErrorItem[]): FakeResponse {
  return { status, body: { errors } };
}

/** A SendGrid message id: 22 characters of URL-safe base64, e.g. "LRzXl_NHStOGhQ4kofSm_A". */
export function newSendGridMessageId(): string {
  return randomBytes(16).toString('base64url');
}

interface Address {
  email?: unknown;
}

function validate(body: Record<string, unknown>): SendGridErrorItem[] {
  const errors: SendGridErrorItem[] = [];
  const hasTemplate = typeof body.template_id === 'string';
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    errors.push({
      message: 'The personalizations field is required and must have at least one personalization.',
      field: 'personalizations',
      help: `${HELP}#message.personalizations`,
    });
  } else {
    personalizations.forEach((p: Record<string, unknown>, i) => {
      const to = p?.to;
      if (!Array.isArray(to) || to.length === 0) {
        errors.push({
          message:
            'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          field: `personalizations.${i}.to`,
          help: `${HELP}#message.personalizations.to`,
        });
        return;
      }
      for (const kind of ['to', 'cc', 'bcc']) {
        const list = p[kind];
        if (!Array.isArray(list)) continue;
        list.forEach((address: Address, j) => {
          if (typeof address?.email !== 'string' || !EMAIL.test(address.email)) {
            errors.push({
              message: 'Does not contain a valid address.',
              field: `personalizations.${i}.${kind}.${j}.email`,
              help: `${HELP}#message.personalizations.${kind}`,
            });
          }
        });
      }
    });
  }
  const from = body.from as Address | undefined;
  if (typeof from?.email !== 'string') {
    errors.push({
      message:
        'The from object must be provided for every email send. It is an object that requires an email parameter, but may also contain a name parameter.',
      field: 'from',
      help: `${HELP}#message.from`,
    });
  } else if (!EMAIL.test(from.email)) {
    errors.push({
      message: 'The from email does not contain a valid address.',
      field: 'from.email',
      help: `${HELP}#message.from`,
    });
  }
  const everyHasSubject =
    Array.isArray(personalizations) &&
    personalizations.every(
      (p: Record<string, unknown>) => typeof p?.subject === 'string' && p.subject !== '',
    );
  if (!hasTemplate && !everyHasSubject && (typeof body.subject !== 'string' || body.subject === '')) {
    errors.push({
      message:
        'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
      field: 'subject',
      help: `${HELP}#message.subject`,
    });
  }
  if (!hasTemplate && (!Array.isArray(body.content) || body.content.length === 0)) {
    errors.push({
      message:
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
      field: 'content',
      help: `${HELP}#message.content`,
    });
  }
  return errors;
}

function recipientsOf(body: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const p of body.personalizations as Array<Record<string, unknown>>) {
    for (const kind of ['to', 'cc', 'bcc']) {
      const list = p[kind];
      if (Array.isArray(list)) for (const a of list as Address[]) out.push(String(a.email));
    }
  }
  return out;
}

export async function startFakeSendGrid(options: SendGridOptions): Promise<FakeSendGrid> {
  const { apiKey } = options;
  const keepMessages = options.keepMessages ?? true;
  const sentMessages: SendGridSentMessage[] = [];
  let sentCount = 0;

  /** The key check every endpoint shares: undefined when the request may proceed. */
  const refuse = (req: RecordedRequest): FakeResponse | undefined => {
    const auth = String(req.headers.authorization ?? '');
    if (!auth) {
      return sendGridError(401, [{ message: 'authorization required', field: null, help: null }]);
    }
    const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (options.restrictedKeys?.includes(key)) {
      return sendGridError(403, [{ message: 'access forbidden', field: null, help: null }]);
    }
    if (key !== apiKey) {
      return sendGridError(401, [
        {
          message: 'The provided authorization grant is invalid, expired, or revoked',
          field: null,
          help: null,
        },
      ]);
    }
    return undefined;
  };

  const send = (req: RecordedRequest): FakeResponse => {
    const refused = refuse(req);
    if (refused) return refused;
    const body = req.json;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendGridError(400, [{ message: 'Bad Request', field: null, help: null }]);
    }
    const mail = body as Record<string, unknown>;
    const errors = validate(mail);
    if (errors.length > 0) return sendGridError(400, errors);
    const from = String((mail.from as Address).email);
    if (options.verifiedSenders && !options.verifiedSenders.includes(from)) {
      return sendGridError(403, [
        {
          message:
            'The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements',
          field: 'from',
          help: null,
        },
      ]);
    }
    // Sandbox mode validates and answers 200 without delivering anything.
    const settings = mail.mail_settings as { sandbox_mode?: { enable?: boolean } } | undefined;
    if (settings?.sandbox_mode?.enable) return { status: 200 };

    const messageId = newSendGridMessageId();
    sentCount += 1;
    if (keepMessages)
      sentMessages.push({
        messageId,
        recipients: recipientsOf(mail),
        from,
        subject: typeof mail.subject === 'string' ? mail.subject : undefined,
        body: mail,
        receivedAt: req.receivedAt,
      });
    return { status: 202, headers: { 'X-Message-Id': messageId } };
  };

  const base = await startHttpFake(
    (req) => {
      if (req.path === SEND_PATH && req.method === 'POST') return send(req);
      // GET /v3/scopes: the permissions of the key, as `switchboard doctor` checks them.
      if (req.path === '/v3/scopes' && req.method === 'GET') {
        return (
          refuse(req) ?? { status: 200, body: { scopes: ['mail.send', 'scopes.read', 'user.profile.read'] } }
        );
      }
      return sendGridError(404, [{ message: 'resource not found', field: null, help: null }]);
    },
    { recordRequests: keepMessages },
  );

  const extras = {
    apiKey,
    sentMessages,
    get sentCount() {
      return sentCount;
    },
    rateLimit(opts: { resetInSec?: number; retryAfterSec?: number; times?: number } = {}) {
      const reset = Math.floor(Date.now() / 1000) + (opts.resetInSec ?? 1);
      const headers: Record<string, string> = {
        'X-RateLimit-Limit': '600',
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': String(reset),
      };
      if (opts.retryAfterSec !== undefined) headers['Retry-After'] = String(opts.retryAfterSec);
      base.inject({
        match: (req) => req.path === SEND_PATH,
        times: opts.times,
        status: 429,
        headers,
        body: { errors: [{ field: null, message: 'too many requests' }] },
      });
    },
    failQuotingRequest(opts: { times?: number } = {}) {
      base.inject({
        times: opts.times,
        status: 400,
        body: (req) => ({ errors: [{ field: null, message: quoteRequest(req) }] }),
      });
    },
  };
  // defineProperties, not Object.assign: the getter stays a getter (assign would copy its 0).
  return Object.defineProperties(base, Object.getOwnPropertyDescriptors(extras)) as FakeSendGrid;
}

// ---------------------------------------------------------------------------------------------
// Signed Event Webhook

export interface SendGridEventSigner {
  /** Base64 DER SubjectPublicKeyInfo, the form SendGrid shows under Mail Settings > Event Webhook. */
  publicKey: string;
  /** Base64 DER ECDSA P-256 / SHA-256 signature of timestamp + payload, as in header
   * X-Twilio-Email-Event-Webhook-Signature (the timestamp goes in X-Twilio-Email-Event-Webhook-Timestamp). */
  sign(timestamp: string, payload: string): string;
}

export const SENDGRID_SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
export const SENDGRID_TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

export function sendGridEventSigner(): SendGridEventSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    sign(timestamp, payload) {
      return sign('sha256', Buffer.from(timestamp + payload, 'utf8'), privateKey).toString('base64');
    },
  };
}

export type SendGridEventType = 'processed' | 'delivered' | 'bounce' | 'dropped' | 'deferred';

export interface SendGridEvent {
  email: string;
  timestamp: number;
  event: SendGridEventType;
  sg_event_id: string;
  sg_message_id: string;
  'smtp-id': string;
  [customArg: string]: unknown;
}

/**
 * A realistic Event Webhook batch for one sent message. SendGrid's sg_message_id is the
 * X-Message-Id plus a ".filter..." suffix; custom_args come back as top-level event fields.
 */
export function buildSendGridEvents(options: {
  messageId: string;
  email: string;
  events?: SendGridEventType[];
  customArgs?: Record<string, string>;
  /** Unix seconds of the first event (default: now); later events are 1 s apart. */
  timestamp?: number;
}): SendGridEvent[] {
  const events = options.events ?? ['processed', 'delivered'];
  const start = options.timestamp ?? Math.floor(Date.now() / 1000);
  const suffix = `filterdrecv-7bc86b958d-2x5fp-1-${start.toString(16).toUpperCase()}-2.0`;
  return events.map((event, i) => {
    const base: SendGridEvent = {
      email: options.email,
      timestamp: start + i,
      event,
      sg_event_id: randomBytes(24).toString('base64url'),
      sg_message_id: `${options.messageId}.${suffix}`,
      'smtp-id': `<${options.messageId}@ismtpd0001p1iad2.sendgrid.net>`,
      ...options.customArgs,
    };
    switch (event) {
      case 'delivered':
        return {
          ...base,
          ip: '168.1.1.1',
          response: '250 2.0.0 OK 1700000000 x1si123456qkb.1 - gsmtp',
          tls: 1,
        };
      case 'bounce':
        return {
          ...base,
          ip: '168.1.1.1',
          type: 'bounce',
          status: '5.1.1',
          reason:
            "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
          bounce_classification: 'Invalid Address',
          tls: 1,
        };
      case 'dropped':
        return { ...base, reason: 'Bounced Address' };
      case 'deferred':
        return {
          ...base,
          ip: '168.1.1.1',
          response: '421 4.7.0 Try again later, closing connection.',
          attempt: '1',
          tls: 1,
        };
      default:
        return base;
    }
  });
}

/** The Event Webhook request SendGrid would POST: body (JSON plus CRLF) and signed headers. */
export function signedEventRequest(
  signer: SendGridEventSigner,
  events: SendGridEvent[],
  timestamp = String(Math.floor(Date.now() / 1000)),
): { body: string; headers: Record<string, string> } {
  const body = `${JSON.stringify(events)}\r\n`;
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      [SENDGRID_SIGNATURE_HEADER]: signer.sign(timestamp, body),
      [SENDGRID_TIMESTAMP_HEADER]: timestamp,
    },
  };
}
