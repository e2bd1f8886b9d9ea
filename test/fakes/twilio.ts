// Fake Twilio REST API (2010-04-01 Messages), a test double speaking Twilio's wire format:
// form-encoded requests, HTTP Basic auth (AccountSid:AuthToken), JSON Message resources with
// RFC 2822 dates, Twilio's error JSON { code, message, more_info, status } and page envelopes.
//
// The twilio SDK has no base-URL option; point it here with a custom httpClient:
//
//   class FakeTwilioHttpClient extends twilio.RequestClient {
//     override request<T>(opts: RequestOptions<T>) {
//       opts.uri = opts.uri.replace('https://api.twilio.com', fake.url);
//       return super.request(opts);
//     }
//   }
//   const client = twilio(accountSid, authToken, { httpClient: new FakeTwilioHttpClient({ timeout }) });
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import {
  type FakeResponse,
  type HttpFake,
  quoteRequest,
  type RecordedRequest,
  startHttpFake,
} from './http-fake.ts';

export const TWILIO_API_BASE = 'https://api.twilio.com';

/** The Message resource as Twilio returns it (JSON, snake_case, numbers of segments as strings). */
export interface TwilioMessageResource {
  account_sid: string;
  api_version: string;
  body: string;
  date_created: string;
  date_sent: string | null;
  date_updated: string;
  direction: 'outbound-api';
  error_code: number | null;
  error_message: string | null;
  from: string | null;
  messaging_service_sid: string | null;
  num_media: string;
  num_segments: string;
  price: string | null;
  price_unit: string;
  sid: string;
  status: TwilioMessageStatus;
  subresource_uris: { media: string; feedback: string };
  to: string;
  uri: string;
}

export type TwilioMessageStatus =
  | 'accepted'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'undelivered'
  | 'failed';

/** One message the fake accepted: what would reach a phone. */
export interface TwilioSentMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
  createdAt: Date;
  /** The current resource (status moves on to 'sent' right after the create answer). */
  resource: TwilioMessageResource;
}

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
  detail?: string;
}

export interface FakeTwilio extends HttpFake {
  accountSid: string;
  authToken: string;
  sentMessages: TwilioSentMessage[];
  /** Sends to this number fail: 21211 invalid 'To', 21614 not a mobile number, 21610 unsubscribed. */
  rejectNumber(to: string, code: 21211 | 21614 | 21610 | number, message?: string): void;
  /** Next matching sends answer 429 (Twilio code 20429), with Retry-After when retryAfterSec is set. */
  rateLimit(options?: { retryAfterSec?: number; times?: number }): void;
  /** Next matching requests fail with a 400 whose message quotes the request (credentials included). */
  failQuotingRequest(options?: { times?: number }): void;
  /** Moves a stored message on (as Twilio's delivery pipeline would). */
  setStatus(sid: string, status: TwilioMessageStatus, errorCode?: number): void;
  /**
   * The status callback Twilio would POST to the message's StatusCallback URL now: form params
   * and the X-Twilio-Signature header value.
   */
  statusCallback(sid: string): { url: string; params: Record<string, string>; signature: string };
}

const ACCOUNT = /^\/2010-04-01\/Accounts\/([^/]+)\.json$/;
const MESSAGES = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const MESSAGE = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/;
const E164 = /^\+[1-9]\d{6,14}$/;

const REJECT_MESSAGES: Record<number, (to: string) => string> = {
  21211: (to) => `The 'To' number ${to} is not a valid phone number.`,
  21614: () => "'To' number is not a valid mobile number",
  21610: () => 'Attempt to send to unsubscribed recipient',
};

/** RFC 2822 as Twilio writes it: "Thu, 24 Aug 2023 05:01:45 +0000". */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

export function twilioError(status: number, code: number, message: string, detail?: string): FakeResponse {
  const body: TwilioErrorBody = {
    code,
    message,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  };
  if (detail !== undefined) body.detail = detail;
  return { status, body };
}

/** GSM-7 (160 / 153 per part) or UCS-2 (70 / 67 per part) segment count, as Twilio reports it. */
export function countSegments(body: string): number {
  const basic =
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
  const extended = '^{}\\[~]|€\f';
  let gsmLength = 0;
  let gsm = true;
  for (const ch of body) {
    if (basic.includes(ch)) gsmLength += 1;
    else if (extended.includes(ch)) gsmLength += 2;
    else gsm = false;
  }
  if (body.length === 0) return 1;
  if (gsm) return gsmLength <= 160 ? 1 : Math.ceil(gsmLength / 153);
  return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
}

/** The X-Twilio-Signature value Twilio sends with a webhook, computed by the real SDK. */
export function signTwilioWebhook(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Parses a DateSent filter value: "YYYY-MM-DD" covers the whole UTC day. */
function dateRange(value: string): { start: number; end: number } | undefined {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const start = Date.parse(day ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(start)) return undefined;
  return { start, end: day ? start + 86_400_000 - 1 : start };
}

export async function startFakeTwilio(options: {
  accountSid: string;
  authToken: string;
  /**
   * Keep every request in `requests` (the default). A benchmark passes false: the messages stay in
   * `sentMessages` (the list and a read-back need them), the requests they came in are not kept.
   */
  recordRequests?: boolean;
}): Promise<FakeTwilio> {
  const { accountSid, authToken } = options;
  const sentMessages: TwilioSentMessage[] = [];
  const rejected = new Map<string, { code: number; message?: string }>();
  let lastCreated = 0;

  const authorized = (req: RecordedRequest): boolean => {
    const header = String(req.headers.authorization ?? '');
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded === `${accountSid}:${authToken}`;
  };

  const notFound = (req: RecordedRequest) =>
    twilioError(404, 20404, `The requested resource ${req.path} was not found`);

  const create = (req: RecordedRequest): FakeResponse => {
    const form = req.form ?? new URLSearchParams();
    const to = form.get('To');
    const from = form.get('From');
    const messagingServiceSid = form.get('MessagingServiceSid');
    const body = form.get('Body') ?? '';
    const media = form.getAll('MediaUrl');
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!from && !messagingServiceSid) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (!body && media.length === 0 && !form.get('ContentSid')) {
      return twilioError(400, 21602, 'Message body is required.');
    }
    if (body.length > 1600) {
      return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    }
    const address = to.replace(/^(whatsapp|sms):/, '');
    if (!E164.test(address)) return twilioError(400, 21211, REJECT_MESSAGES[21211]!(to));
    const rejection = rejected.get(to);
    if (rejection) {
      const message = rejection.message ?? REJECT_MESSAGES[rejection.code]?.(to) ?? `Error ${rejection.code}`;
      return twilioError(400, rejection.code, message);
    }

    // Distinct, increasing creation times even within one millisecond.
    lastCreated = Math.max(Date.now(), lastCreated + 1);
    const createdAt = new Date(lastCreated);
    const sid = newSid('SM');
    const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`;
    const viaService = !from && messagingServiceSid !== null;
    const resource: TwilioMessageResource = {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body,
      date_created: rfc2822(createdAt),
      date_sent: null,
      date_updated: rfc2822(createdAt),
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: from ?? null,
      messaging_service_sid: messagingServiceSid,
      num_media: String(media.length),
      // A Messaging Service assigns the sender later, so Twilio reports 0 segments at first.
      num_segments: viaService ? '0' : String(countSegments(body)),
      price: null,
      price_unit: 'USD',
      sid,
      status: viaService ? 'accepted' : 'queued',
      subresource_uris: {
        media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json`,
        feedback: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Feedback.json`,
      },
      to,
      uri,
    };
    const answer: FakeResponse = { status: 201, body: { ...resource } };
    // After the answer Twilio hands the message to the carrier: it is sent now.
    resource.status = 'sent';
    resource.date_sent = rfc2822(createdAt);
    resource.num_segments = String(countSegments(body));
    sentMessages.push({
      sid,
      to,
      from: from ?? null,
      messagingServiceSid,
      body,
      statusCallback: form.get('StatusCallback'),
      createdAt,
      resource,
    });
    return answer;
  };

  const list = (req: RecordedRequest): FakeResponse => {
    const q = req.query;
    const to = q.get('To');
    const from = q.get('From');
    const exact = q.get('DateSent') ? dateRange(q.get('DateSent')!) : undefined;
    const after = q.get('DateSent>') ? dateRange(q.get('DateSent>')!) : undefined;
    const before = q.get('DateSent<') ? dateRange(q.get('DateSent<')!) : undefined;
    const pageSize = Math.min(Math.max(Number(q.get('PageSize') ?? 50) || 50, 1), 1000);
    const page = Math.max(Number(q.get('Page') ?? 0) || 0, 0);

    const matches = (m: TwilioSentMessage) => {
      if (to && m.to !== to) return false;
      if (from && m.from !== from) return false;
      const sentAt = m.resource.date_sent ? Date.parse(m.resource.date_sent) : undefined;
      if (exact || after || before) {
        if (sentAt === undefined) return false;
        if (exact && (sentAt < exact.start || sentAt > exact.end)) return false;
        if (after && sentAt < after.start) return false;
        if (before && sentAt > before.end) return false;
      }
      return true;
    };
    // Newest first, as Twilio lists them: walked back from the newest message (or from the one the
    // page token names) only as far as the page needs, so a number with 100,000 messages (a
    // benchmark's) costs a page, not the whole list, per request.
    // PageToken "PASM..." means: start after that message (what Twilio's next_page_uri carries).
    const token = q.get('PageToken');
    const start = page * pageSize;
    let index = sentMessages.length - 1;
    let skip = start;
    if (token?.startsWith('PA')) {
      const sid = token.slice(2);
      for (let i = index; i >= 0; i -= 1) {
        if (sentMessages[i]?.sid === sid) {
          index = i - 1;
          skip = 0;
          break;
        }
      }
    }
    const items: TwilioSentMessage[] = [];
    let more = false;
    for (; index >= 0; index -= 1) {
      const message = sentMessages[index] as TwilioSentMessage;
      if (!matches(message)) continue;
      if (skip > 0) {
        skip -= 1;
      } else if (items.length === pageSize) {
        more = true;
        break;
      } else {
        items.push(message);
      }
    }

    const filters = new URLSearchParams();
    for (const key of ['To', 'From', 'DateSent', 'DateSent<', 'DateSent>']) {
      const value = q.get(key);
      if (value !== null) filters.set(key, value);
    }
    const base = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
    const pageUri = (n: number, pageToken?: string) => {
      const params = new URLSearchParams(filters);
      params.set('PageSize', String(pageSize));
      params.set('Page', String(n));
      if (pageToken) params.set('PageToken', pageToken);
      return `${base}?${params.toString()}`;
    };
    const last = items.at(-1);
    const hasNext = more && last !== undefined;
    return {
      status: 200,
      body: {
        end: start + Math.max(items.length - 1, 0),
        first_page_uri: pageUri(0),
        next_page_uri: hasNext ? pageUri(page + 1, `PA${last.sid}`) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 && items[0] ? pageUri(page - 1, `PB${items[0].sid}`) : null,
        messages: items.map((m) => m.resource),
        start,
        uri: pageUri(page, token ?? undefined),
      },
    };
  };

  const base = await startHttpFake(
    (req) => {
      const account = ACCOUNT.exec(req.path);
      if (account && req.method === 'GET') {
        if (!authorized(req) || account[1] !== accountSid) return twilioError(401, 20003, 'Authenticate');
        return {
          status: 200,
          body: {
            sid: accountSid,
            friendly_name: 'Switchboard test account',
            status: 'active',
            type: 'Full',
            date_created: rfc2822(new Date()),
          },
        };
      }
      const collection = MESSAGES.exec(req.path);
      const single = MESSAGE.exec(req.path);
      if (!collection && !single) return notFound(req);
      if (!authorized(req)) {
        const answer = twilioError(401, 20003, 'Authenticate', 'Your AccountSid or AuthToken was incorrect.');
        answer.headers = { 'WWW-Authenticate': 'Basic realm="Twilio API"' };
        return answer;
      }
      if ((collection ?? single)![1] !== accountSid) return notFound(req);
      if (collection && req.method === 'POST') return create(req);
      if (collection && req.method === 'GET') return list(req);
      if (single && req.method === 'GET') {
        const message = sentMessages.find((m) => m.sid === single[2]);
        return message ? { status: 200, body: message.resource } : notFound(req);
      }
      return twilioError(405, 20004, 'Method not allowed');
    },
    { recordRequests: options.recordRequests ?? true },
  );

  const extras = {
    accountSid,
    authToken,
    sentMessages,
    rejectNumber(to: string, code: number, message?: string) {
      rejected.set(to, { code, message });
    },
    rateLimit(opts: { retryAfterSec?: number; times?: number } = {}) {
      const answer = twilioError(429, 20429, 'Too Many Requests');
      base.inject({
        match: (req) => req.method === 'POST' && MESSAGES.test(req.path),
        times: opts.times,
        status: 429,
        headers: opts.retryAfterSec === undefined ? {} : { 'Retry-After': String(opts.retryAfterSec) },
        body: answer.body,
      });
    },
    failQuotingRequest(opts: { times?: number } = {}) {
      base.inject({
        times: opts.times,
        status: 400,
        body: (req) => twilioError(400, 21604, quoteRequest(req)).body as object,
      });
    },
    setStatus(sid: string, status: TwilioMessageStatus, errorCode?: number) {
      const message = sentMessages.find((m) => m.sid === sid);
      if (!message) throw new Error(`fake Twilio: no message ${sid}`);
      message.resource.status = status;
      message.resource.date_updated = rfc2822(new Date());
      message.resource.error_code = errorCode ?? null;
    },
    statusCallback(sid: string) {
      const message = sentMessages.find((m) => m.sid === sid);
      if (!message?.statusCallback) throw new Error(`fake Twilio: message ${sid} has no StatusCallback`);
      const r = message.resource;
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        From: r.from ?? '',
        MessageSid: sid,
        MessageStatus: r.status,
        SmsSid: sid,
        SmsStatus: r.status,
        To: r.to,
      };
      if (r.messaging_service_sid) params.MessagingServiceSid = r.messaging_service_sid;
      if (r.error_code !== null) params.ErrorCode = String(r.error_code);
      const url = message.statusCallback;
      return { url, params, signature: signTwilioWebhook(authToken, url, params) };
    },
  };
  return Object.assign(base, extras);
}
