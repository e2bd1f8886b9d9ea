// Fake Slack Web API, a test double speaking Slack's wire format: POST /api/<method> with a
// form-encoded body (what @slack/web-api v8 sends; complex values such as blocks are JSON strings
// inside the form) or a JSON body, token in "Authorization: Bearer" (or a token argument);
// answers are HTTP 200 { ok: true, ... } or HTTP 200 { ok: false, error }, and rate limiting is
// HTTP 429 with Retry-After in seconds.
//
// Point the real WebClient at it:
//
//   new WebClient(token, {
//     slackApiUrl: `${fake.url}/api/`,
//     retryConfig: { retries: 0 },      // the SDK retries 10 times over ~30 min by default
//     rejectRateLimitedCalls: true,     // 429 -> WebAPIRateLimitedError { retryAfter } at once
//     timeout: 5_000,                   // ms; default 0 = no timeout
//   });
//
// How the SDK treats a 429 (v8, WebClient.makeRequest): when the answer has a parseable Retry-After
// and rejectRateLimitedCalls is false (the default), it pauses its whole request queue for
// Retry-After seconds and retries under retryConfig (default tenRetriesInAboutThirtyMinutes, whose
// own backoff adds 1-2 s more), so a caller sees nothing until the retries run out; with
// retryConfig { retries: 0 } alone it still sleeps Retry-After and then throws a generic
// WebAPIRequestError (the delay only in its message text). With rejectRateLimitedCalls: true it throws
// WebAPIRateLimitedError (code 'slack_webapi_rate_limited_error', retryAfter in seconds) at once,
// with no retry whatever retryConfig says. A 429 without a valid Retry-After is never retried.
// retryConfig also governs other failures: HTTP errors (WebAPIHTTPError, e.g. a 500) and network
// errors or timeouts (WebAPIRequestError) are retried under it, so production code that does its
// own retries wants retryConfig: { retries: 0 } as well.
import {
  type FakeResponse,
  type HttpFake,
  quoteRequest,
  type RecordedRequest,
  startHttpFake,
} from './http-fake.ts';

export interface SlackMessage {
  type: 'message';
  ts: string;
  text: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  team?: string;
  blocks?: unknown[];
  thread_ts?: string;
  reply_count?: number;
  latest_reply?: string;
  reactions?: Array<{ name: string; users: string[]; count: number }>;
  /** Set once a message is edited, as Slack's history shows it: who, and the edit's ts. */
  edited?: { user: string; ts: string };
}

export interface SlackPostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  /** Every argument as received (strings from a form body, values from a JSON body). */
  args: Record<string, unknown>;
}

export interface SlackChannel {
  id: string;
  name?: string;
  /** Whether the bot is a member (posting to a channel it is not in gives not_in_channel). */
  member?: boolean;
}

export interface FakeSlack extends HttpFake {
  token: string;
  teamId: string;
  botUserId: string;
  postedMessages: SlackPostedMessage[];
  addChannel(channel: SlackChannel): void;
  /** Adds a message (from a user by default) to a channel's history; returns its ts. */
  seedMessage(
    channel: string,
    message: { text: string; user?: string; ts?: string; thread_ts?: string },
  ): string;
  /**
   * A person edits a stored message, as Slack records it: the history then shows the new text with
   * `edited: { user, ts }` (the message keeps its own ts). Returns the edit's ts.
   */
  editMessage(channel: string, ts: string, text: string): string;
  /** Messages stored for a channel, oldest first. */
  history(channel: string): SlackMessage[];
  /** Next matching calls (of `method`, or any) answer HTTP 429 with Retry-After. */
  rateLimit(options?: { method?: string; retryAfterSec?: number; times?: number }): void;
  /** Next matching calls fail (ok: false) with response_metadata quoting the request (the token too). */
  failQuotingRequest(options?: { method?: string; times?: number }): void;
  /** Lets apps.connections.open answer this app token with a Socket Mode URL. */
  enableSocketMode(appToken: string, url: string): void;
  /** Next matching calls answer HTTP 200 { ok: false, error }. */
  failWith(error: string, options?: { method?: string; times?: number }): void;
}

const TEAM_ID = 'T0FAKETEAM1';
const BOT_USER = 'U0FAKEBOT01';
const BOT_ID = 'B0FAKEBOT01';
const APP_ID = 'A0FAKEAPP01';
const SCOPES = 'chat:write,im:write,reactions:write,channels:history,groups:history,im:history,mpim:history';

const ok = (body: Record<string, unknown> = {}): FakeResponse => ({
  status: 200,
  headers: { 'X-OAuth-Scopes': SCOPES },
  body: { ok: true, ...body },
});
const fail = (error: string): FakeResponse => ({ status: 200, body: { ok: false, error } });

/** Arguments from the query string, then a form or JSON body; JSON strings (blocks) decoded. */
function argsOf(req: RecordedRequest): Record<string, unknown> {
  const args: Record<string, unknown> = Object.fromEntries(req.query);
  if (req.form) Object.assign(args, Object.fromEntries(req.form));
  if (req.json && typeof req.json === 'object') Object.assign(args, req.json);
  return args;
}

const str = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : String(value);

const truthy = (value: unknown): boolean =>
  value === true || value === 'true' || value === '1' || value === 1;

/** Slack's cursor for history is base64("next_ts:" + ts without the dot). */
const encodeCursor = (ts: string) => Buffer.from(`next_ts:${ts.replace('.', '')}`).toString('base64');
function decodeCursor(cursor: string): string | undefined {
  const match = /^next_ts:(\d+)(\d{6})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return match ? `${match[1]}.${match[2]}` : undefined;
}
const tsValue = (ts: string) => Number(ts);

export async function startFakeSlack(options: {
  token: string;
  channels?: SlackChannel[];
}): Promise<FakeSlack> {
  const { token } = options;
  const channels = new Map<string, SlackChannel>();
  for (const c of options.channels ?? [{ id: 'C0GENERAL01', name: 'general', member: true }])
    channels.set(c.id, c);
  const messages = new Map<string, SlackMessage[]>();
  const postedMessages: SlackPostedMessage[] = [];
  let lastMicros = 0;

  const nextTs = (): string => {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  };
  const resolveChannel = (value: unknown): SlackChannel | undefined => {
    const key = str(value)?.replace(/^#/, '');
    if (!key) return undefined;
    return channels.get(key) ?? [...channels.values()].find((c) => c.name === key);
  };
  const store = (channel: string, message: SlackMessage) => {
    const list = messages.get(channel) ?? [];
    list.push(message);
    list.sort((a, b) => tsValue(a.ts) - tsValue(b.ts));
    messages.set(channel, list);
    if (message.thread_ts && message.thread_ts !== message.ts) {
      const parent = list.find((m) => m.ts === message.thread_ts);
      if (parent) {
        parent.thread_ts = parent.ts;
        parent.reply_count = (parent.reply_count ?? 0) + 1;
        parent.latest_reply = message.ts;
      }
    }
  };
  const findMessage = (channel: string, ts: unknown) => messages.get(channel)?.find((m) => m.ts === str(ts));

  const methods: Record<string, (args: Record<string, unknown>) => FakeResponse> = {
    'auth.test': () =>
      ok({
        url: 'https://fake-workspace.slack.com/',
        team: 'Fake Workspace',
        user: 'switchboard',
        team_id: TEAM_ID,
        user_id: BOT_USER,
        bot_id: BOT_ID,
        is_enterprise_install: false,
      }),

    'chat.postMessage': (args) => {
      const channel = resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      if (channel.member === false) return fail('not_in_channel');
      let blocks: unknown = args.blocks;
      if (typeof blocks === 'string') {
        try {
          blocks = JSON.parse(blocks);
        } catch {
          return fail('invalid_blocks_format');
        }
      }
      if (blocks !== undefined && !Array.isArray(blocks)) return fail('invalid_blocks');
      const text = str(args.text) ?? '';
      if (!text && !blocks && !args.attachments) return fail('no_text');
      if (text.length > 40_000) return fail('msg_too_long');
      const ts = nextTs();
      const threadTs = str(args.thread_ts);
      const message: SlackMessage = {
        type: 'message',
        ts,
        text,
        user: BOT_USER,
        bot_id: BOT_ID,
        app_id: APP_ID,
        team: TEAM_ID,
        ...(blocks ? { blocks: blocks as unknown[] } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
      };
      store(channel.id, message);
      postedMessages.push({
        channel: channel.id,
        ts,
        text,
        ...(blocks ? { blocks: blocks as unknown[] } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        args,
      });
      return ok({
        channel: channel.id,
        ts,
        message: {
          ...message,
          bot_profile: { id: BOT_ID, app_id: APP_ID, name: 'switchboard', team_id: TEAM_ID },
        },
      });
    },

    'chat.getPermalink': (args) => {
      const channel = resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const message = findMessage(channel.id, args.message_ts);
      if (!message) return fail('message_not_found');
      return ok({
        channel: channel.id,
        permalink: `https://fake-workspace.slack.com/archives/${channel.id}/p${message.ts.replace('.', '')}`,
      });
    },

    'conversations.open': (args) => {
      if (args.channel !== undefined) {
        const channel = resolveChannel(args.channel);
        return channel ? ok({ channel: { id: channel.id } }) : fail('channel_not_found');
      }
      const users = (str(args.users) ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
      if (users.length === 0) return fail('users_list_not_supplied');
      if (users.some((u) => !/^[UW][A-Z0-9]{2,}$/.test(u))) return fail('user_not_found');
      const prefix = users.length > 1 ? 'G' : 'D';
      const id = `${prefix}${Buffer.from([...users].sort().join(','))
        .toString('hex')
        .toUpperCase()
        .slice(-10)}`;
      if (channels.has(id)) return ok({ no_op: true, already_open: true, channel: { id } });
      channels.set(id, { id, member: true });
      return ok({ channel: { id } });
    },

    'reactions.add': (args) => {
      const channel = resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const name = str(args.name)?.replace(/^:|:$/g, '');
      if (!name || !/^[a-z0-9_+'-]+$/.test(name)) return fail('invalid_name');
      const message = findMessage(channel.id, args.timestamp);
      if (!message) return fail('message_not_found');
      message.reactions ??= [];
      const reaction = message.reactions.find((r) => r.name === name);
      if (reaction?.users.includes(BOT_USER)) return fail('already_reacted');
      if (reaction) {
        reaction.users.push(BOT_USER);
        reaction.count += 1;
      } else {
        message.reactions.push({ name, users: [BOT_USER], count: 1 });
      }
      return ok();
    },

    'reactions.remove': (args) => {
      const channel = resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const name = str(args.name)?.replace(/^:|:$/g, '');
      const message = findMessage(channel.id, args.timestamp);
      if (!message) return fail('message_not_found');
      const reaction = message.reactions?.find((r) => r.name === name);
      if (!reaction?.users.includes(BOT_USER)) return fail('no_reaction');
      reaction.users = reaction.users.filter((u) => u !== BOT_USER);
      reaction.count -= 1;
      if (reaction.count === 0) message.reactions = message.reactions?.filter((r) => r !== reaction);
      return ok();
    },

    'conversations.history': (args) => {
      const channel = resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      if (channel.member === false) return fail('not_in_channel');
      const inclusive = truthy(args.inclusive);
      const oldest = Number(str(args.oldest) ?? 0);
      const latest = args.latest === undefined ? Number.POSITIVE_INFINITY : Number(str(args.latest));
      const limit = Math.min(Math.max(Number(str(args.limit) ?? 100) || 100, 1), 999);
      const cursorTs = args.cursor ? decodeCursor(String(args.cursor)) : undefined;
      if (args.cursor && !cursorTs) return fail('invalid_cursor');
      const candidates = (messages.get(channel.id) ?? [])
        .filter((m) => !m.thread_ts || m.thread_ts === m.ts) // replies live in conversations.replies
        .filter((m) => {
          const t = tsValue(m.ts);
          if (inclusive ? t < oldest : t <= oldest) return false;
          if (inclusive ? t > latest : t >= latest) return false;
          return cursorTs === undefined || t <= tsValue(cursorTs);
        })
        .reverse(); // newest first
      const page = candidates.slice(0, limit);
      const next = candidates[limit];
      return ok({
        messages: page,
        has_more: next !== undefined,
        pin_count: 0,
        channel_actions_ts: null,
        channel_actions_count: 0,
        ...(next ? { response_metadata: { next_cursor: encodeCursor(next.ts) } } : {}),
      });
    },
    // A thread: the parent and its replies, oldest first (Slack pages these too; one page is enough here).
    'conversations.replies': (args) => {
      const channel = resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const parent = str(args.ts);
      if (!parent) return fail('invalid_arguments');
      const oldest = Number(str(args.oldest) ?? 0);
      const thread = (messages.get(channel.id) ?? []).filter(
        (m) => (m.ts === parent || m.thread_ts === parent) && (m.ts === parent || tsValue(m.ts) > oldest),
      );
      if (!thread.some((m) => m.ts === parent)) return fail('thread_not_found');
      return ok({ messages: thread, has_more: false });
    },
  };

  let socketMode: { appToken: string; url: string } | null = null;
  const base = await startHttpFake((req) => {
    const method = req.path.replace(/^\/api\//, '');
    // Socket Mode: the app-level token (xapp-...) opens a WebSocket URL (see slack-socket.ts).
    if (method === 'apps.connections.open') {
      const header = String(req.headers.authorization ?? '');
      if (!socketMode) return fail('not_allowed_token_type');
      return header === `Bearer ${socketMode.appToken}` ? ok({ url: socketMode.url }) : fail('invalid_auth');
    }
    const handler = req.path.startsWith('/api/') ? methods[method] : undefined;
    if (!handler) return { status: 404, body: { ok: false, error: 'unknown_method', req_method: method } };
    const args = argsOf(req);
    const header = String(req.headers.authorization ?? '');
    const given = header.startsWith('Bearer ') ? header.slice(7) : str(args.token);
    if (!given) return fail('not_authed');
    if (given !== token) return fail('invalid_auth');
    return handler(args);
  });

  const methodMatch = (method?: string) => (req: RecordedRequest) =>
    method === undefined || req.path === `/api/${method}`;

  const extras = {
    token,
    teamId: TEAM_ID,
    botUserId: BOT_USER,
    postedMessages,
    addChannel(channel: SlackChannel) {
      channels.set(channel.id, channel);
    },
    seedMessage(channel: string, message: { text: string; user?: string; ts?: string; thread_ts?: string }) {
      const target = resolveChannel(channel);
      if (!target) throw new Error(`fake Slack: no channel ${channel}`);
      const ts = message.ts ?? nextTs();
      store(target.id, {
        type: 'message',
        ts,
        text: message.text,
        user: message.user ?? 'U0FAKEUSER1',
        team: TEAM_ID,
        ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      });
      return ts;
    },
    editMessage(channel: string, ts: string, text: string) {
      const target = resolveChannel(channel);
      const message = target && (messages.get(target.id) ?? []).find((m) => m.ts === ts);
      if (!message) throw new Error(`fake Slack: no message ${ts} in ${channel}`);
      const editTs = nextTs();
      message.text = text;
      message.edited = { user: message.user ?? 'U0FAKEUSER1', ts: editTs };
      return editTs;
    },
    history(channel: string) {
      const target = resolveChannel(channel);
      return target ? [...(messages.get(target.id) ?? [])] : [];
    },
    rateLimit(opts: { method?: string; retryAfterSec?: number; times?: number } = {}) {
      base.inject({
        match: methodMatch(opts.method),
        times: opts.times,
        status: 429,
        headers: { 'Retry-After': String(opts.retryAfterSec ?? 1) },
        body: { ok: false, error: 'ratelimited' },
      });
    },
    enableSocketMode(appToken: string, url: string) {
      socketMode = { appToken, url };
    },
    failQuotingRequest(opts: { method?: string; times?: number } = {}) {
      base.inject({
        match: methodMatch(opts.method),
        times: opts.times,
        status: 200,
        body: (req) => ({
          ok: false,
          error: 'invalid_arguments',
          response_metadata: { messages: [`[ERROR] ${quoteRequest(req)}`] },
        }),
      });
    },
    failWith(error: string, opts: { method?: string; times?: number } = {}) {
      base.inject({
        match: methodMatch(opts.method),
        times: opts.times,
        status: 200,
        body: { ok: false, error },
      });
    },
  };
  return Object.assign(base, extras);
}
