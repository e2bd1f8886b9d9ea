// CreditBot end to end against the Slack and Looker fakes, spoken to through @slack/web-api and
// @looker/sdk-node: Events API intake (signed, deduped), every link form, sums, skipped PSMS,
// failures with the operator's DM and a retry, polling with its cursor, and a restart between
// intake and reply. On PGlite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { slackSignature } from '../src/platform/channels/webhooks/slack-signature.ts';
import { route } from './fakes/http-fake.ts';
import { type FakeLooker, startFakeLooker } from './fakes/looker.ts';
import { type FakeSocketMode, startFakeSocketMode } from './fakes/slack-socket.ts';
import { NO_OPINION_YET } from './helpers/credit-replies.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { type Providers, startProviders } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const SECRET = 'slack-signing-secret-for-tests';
const HOST = 'example.cloud.looker.com';
const CHANNEL = 'C0GENERAL01';
const OPERATOR = 'W014QM1DAPN';
const APP_TOKEN = 'xapp-1-A0FAKEAPP01-test';
const STEADY_ACCOUNT = 'AC0000000000000000000000000000f031';

const verifySql = (account: string) =>
  `SELECT counters.mode, SUM(counters.msg_count), SUM(counters.cost)\nFROM counters\nWHERE counters.product = 'Authy Verify' AND account_sid = '${account}'`;
const rows = (mode: string, msgCount: number, fraudCost: string | number) => [
  { 'counters.fraud_guard_mode': mode, 'counters.msg_count': msgCount, 'counters.fraud_cost': fraudCost },
];

function addQueries(looker: FakeLooker) {
  // Look 11: basic, $7,526.30 -> $4,395.36.
  looker.addQuery(
    { id: '501', slug: 'LookElevenQ', sql: verifySql('A'), rows: rows('basic', 35644, 7526.3) },
    '11',
  );
  // Explore qid: standard, $1,000.00 -> $350.00.
  looker.addQuery({
    id: '502',
    slug: 'ExploreQid502',
    sql: verifySql('B'),
    rows: rows('standard', 900, '1000.00'),
  });
  // Short link: off, $12.345 -> $12.35 (half a cent up).
  looker.addQuery({ id: '503', slug: 'Short503', sql: verifySql('C'), rows: rows('off', 10, '12.345') });
  // Look 14: PSMS (no Authy in the SQL).
  looker.addQuery(
    {
      id: '504',
      slug: 'PsmsQ504',
      sql: "SELECT * FROM counters WHERE product = 'Programmable SMS'",
      rows: rows('off', 1, 1),
    },
    '14',
  );
  // Looks 31 and 32: one real account SID, first credited as usual (basic), then all Fraud Guard off.
  looker.addQuery(
    { id: '531', slug: 'Steady531', sql: verifySql(STEADY_ACCOUNT), rows: rows('basic', 1000, 100) },
    '31',
  );
  looker.addQuery(
    { id: '532', slug: 'Pumped532', sql: verifySql(STEADY_ACCOUNT), rows: rows('off', 1000, 100) },
    '32',
  );
}

describe.each(databaseKinds)('CreditBot on %s', (kind) => {
  let providers: Providers;
  let looker: FakeLooker;
  let socket: FakeSocketMode;
  let target: TestDatabase;
  let running: TestService;
  const app = () => running.service.app;
  let sequence = 0;

  const env = () => ({
    ...providers.env,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_USER_ID: OPERATOR,
    CREDITS_CHANNELS: CHANNEL,
    LOOKER_CLIENT_ID: looker.clientId,
    LOOKER_CLIENT_SECRET: looker.clientSecret,
    LOOKER_BASE_URL: looker.url,
    CREDITS_LOOKER_HOST: HOST,
    SLACK_APP_TOKEN: APP_TOKEN,
    // A flagged credit waits for the operator (the default approver): only looks 31-32 are flagged.
    CREDITS_HOLD_OUTLIERS: 'true',
  });

  /** Posts the message to the fake channel and delivers its event to the service, signed. */
  const postEvent = async (text: string, options: { eventId?: string; ts?: string; extra?: object } = {}) => {
    const ts = options.ts ?? providers.slack.seedMessage(CHANNEL, { text });
    sequence += 1;
    const eventId = options.eventId ?? `Ev${kind}${sequence}`;
    const body = JSON.stringify({
      token: 'legacy',
      team_id: providers.slack.teamId,
      type: 'event_callback',
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'message', channel: CHANNEL, user: 'U0FAKEUSER1', text, ts, ...options.extra },
    });
    const response = await signedPost(body);
    return { ts, eventId, response, body };
  };
  const signedPost = (
    body: string,
    timestamp = String(Math.floor(Date.now() / 1000)),
    secret = SECRET,
    target = app(),
  ) =>
    target.inject({
      method: 'POST',
      url: '/webhooks/slack/events',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(secret, timestamp, body),
      },
      payload: body,
    });
  const repliesTo = (ts: string) => providers.slack.postedMessages.filter((m) => m.thread_ts === ts);
  const replyTo = (ts: string) => waitFor(`the reply to ${ts}`, () => repliesTo(ts)[0]);
  const requestFor = async (ts: string) => {
    const list = (await app().inject('/credits/requests?limit=500')).json() as {
      requests: Array<{ id: string; ts: string }>;
    };
    return list.requests.find((r) => r.ts === ts);
  };
  const reactionsOn = (ts: string) =>
    (providers.slack.history(CHANNEL).find((m) => m.ts === ts)?.reactions ?? []).map((r) => r.name);

  beforeAll(async () => {
    providers = await startProviders();
    looker = await startFakeLooker({ clientId: 'looker-client-id', clientSecret: 'looker-client-secret' });
    addQueries(looker);
    socket = await startFakeSocketMode();
    providers.slack.enableSocketMode(APP_TOKEN, socket.wsUrl);
    target = await createTestDatabase(kind);
    running = await startTestService(kind, { target, apps: [creditsApp], env: env() });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
    await looker?.close();
    await socket?.close();
    await target?.drop();
  });

  it('answers url_verification and refuses unsigned, forged and stale requests', async () => {
    const challenge = JSON.stringify({ token: 't', challenge: 'c-123', type: 'url_verification' });
    const ok = await signedPost(challenge);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ challenge: 'c-123' });

    const unsigned = await app().inject({
      method: 'POST',
      url: '/webhooks/slack/events',
      headers: { 'content-type': 'application/json' },
      payload: challenge,
    });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().error.code).toBe('unauthorized');
    expect((await signedPost(challenge, undefined, 'a-different-secret')).statusCode).toBe(403);
    const stale = await signedPost(challenge, String(Math.floor(Date.now() / 1000) - 301));
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error.message).toMatch(/replay/);
    // A body changed after signing.
    const timestamp = String(Math.floor(Date.now() / 1000));
    const forged = await app().inject({
      method: 'POST',
      url: '/webhooks/slack/events',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(SECRET, timestamp, challenge),
      },
      payload: challenge.replace('c-123', 'c-999'),
    });
    expect(forged.statusCode).toBe(403);
  });

  it('processes every link form in one message and replies once with the sum, with reactions', async () => {
    const text = [
      'Please process this credit request',
      `<https://${HOST}/looks/11|the Look>`,
      `https://${HOST}/explore/Revenue/counters_by_billable_item?qid=ExploreQid502`,
      `https://${HOST}/x/Short503`,
      'https://other-looker.example.com/looks/11',
    ].join('\n');
    const { ts, response } = await postEvent(text);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true, outcome: 'queued' });

    const reply = await replyTo(ts);
    // 4,395.36 + 350.00 + 12.35
    expect(reply.text).toBe(`Approved, $4,757.71, exceptions${NO_OPINION_YET}`);
    expect(reply.channel).toBe(CHANNEL);
    await waitFor('the done reaction', () => reactionsOn(ts).includes('white_check_mark'));
    expect(reactionsOn(ts)).toEqual(expect.arrayContaining(['eyes', 'white_check_mark']));

    const request = (await app().inject(`/credits/requests/${(await requestFor(ts))?.id}`)).json();
    expect(request).toMatchObject({ status: 'done', amountCents: 475771, intake: 'events' });
    expect(
      request.summary.links.map((l: { link: string; creditCents: number }) => [l.link, l.creditCents]),
    ).toEqual([
      ['Look 11', 439536],
      ['Explore Revenue/counters_by_billable_item (qid ExploreQid502)', 35000],
      ['short link Short503', 1235],
    ]);
    expect(request.summary).toMatchObject({ product: 'verify', calculator: 'builtin', amount: '$4,757.71' });
    expect(request.summary.extractedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(request.summary.durationMs).toBeGreaterThanOrEqual(0);
    // Through the SDK: a login, the Look, the query by slug, SQL and rows for each.
    const paths = looker.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'POST /api/4.0/login',
        'GET /api/4.0/looks/11',
        'GET /api/4.0/queries/slug/ExploreQid502',
        'GET /api/4.0/queries/slug/Short503',
        'GET /api/4.0/queries/501/run/sql',
        'GET /api/4.0/queries/501/run/json',
      ]),
    );
  });

  it('never keeps a card number someone posted with the request', async () => {
    const { ts } = await postEvent(`credit https://${HOST}/looks/11 (paid with 4012 8888 8888 1881)`);
    const reply = await replyTo(ts);
    expect(reply.text).toBe(`Approved, $4,395.36, exceptions${NO_OPINION_YET}`);
    const request = (await app().inject(`/credits/requests/${(await requestFor(ts))?.id}`)).json();
    expect(request.text).not.toMatch(/4012|1881/);
    expect(request.text).toContain(`https://${HOST}/looks/11`);
  });

  it('skips a PSMS link and says so in the reply', async () => {
    const { ts } = await postEvent(`credit https://${HOST}/looks/11 and https://${HOST}/looks/14`);
    const reply = await replyTo(ts);
    expect(reply.text).toBe(
      `Approved, $4,395.36, exceptions\nSkipped Look 14: PSMS query: no calculator is configured for PSMS${NO_OPINION_YET}`,
    );
    const request = (await app().inject(`/credits/requests/${(await requestFor(ts))?.id}`)).json();
    expect(request.summary).toMatchObject({ credited: 1, skipped: 1, amountCents: 439536 });
  });

  it('answers a message once, whatever Slack retries and whichever intake sees it', async () => {
    const first = await postEvent(`credit https://${HOST}/looks/11`);
    // Slack's retry of the same event, and the same message as another event (an edit notice, a second app).
    const retry = await signedPost(first.body);
    expect(retry.statusCode).toBe(200);
    expect(retry.json().outcome).toBe('duplicate');
    const again = await postEvent(`credit https://${HOST}/looks/11`, { ts: first.ts });
    expect(again.response.json().outcome).toBe('duplicate');
    await replyTo(first.ts);
    // Polling reads the channel history, which holds this message too.
    expect((await app().inject({ method: 'POST', url: '/credits/poll' })).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(repliesTo(first.ts)).toHaveLength(1);
  });

  it('takes requests over Socket Mode, acknowledged, and deduped with the Events API', async () => {
    await socket.waitForConnection();
    const text = `socket https://${HOST}/looks/11`;
    const ts = providers.slack.seedMessage(CHANNEL, { text });
    const payload = {
      type: 'event_callback',
      event_id: `EvSock${kind}`,
      event: { type: 'message', channel: CHANNEL, user: 'U0FAKEUSER1', text, ts },
    };
    socket.pushEvent(`env-${kind}-1`, payload);
    await waitFor('the acknowledgement', () => socket.acks.includes(`env-${kind}-1`));
    expect((await replyTo(ts)).text).toBe(`Approved, $4,395.36, exceptions${NO_OPINION_YET}`);
    // Slack redelivers the envelope; the Events API brings the same message too.
    socket.pushEvent(`env-${kind}-2`, payload);
    await waitFor('the second acknowledgement', () => socket.acks.includes(`env-${kind}-2`));
    expect((await postEvent(text, { ts })).response.json().outcome).toBe('duplicate');
    expect((await requestFor(ts)) ?? {}).toMatchObject({ ts });
    const request = (await app().inject(`/credits/requests/${(await requestFor(ts))?.id}`)).json();
    expect(request.intake).toBe('socket');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(repliesTo(ts)).toHaveLength(1);
  });

  it("releases a held reply when the operator's approval reaction arrives over Socket Mode, once", async () => {
    await socket.waitForConnection();
    for (let i = 0; i < 3; i++) {
      const { ts } = await postEvent(`steady ${i} https://${HOST}/looks/31`);
      expect((await replyTo(ts)).text).toBe(`Approved, $58.40, exceptions${NO_OPINION_YET}`);
    }
    const { ts } = await postEvent(`pumped https://${HOST}/looks/32`);
    const held = await waitFor('the held request', async () => {
      const found = await requestFor(ts);
      const request = found && (await app().inject(`/credits/requests/${found.id}`)).json();
      return request?.status === 'done' ? request : undefined;
    });
    expect(held.flag.kinds).toEqual(['ratio_history']);
    expect(held.hold).toMatchObject({ approvedAt: null });
    const dm = await waitFor('the DM', () =>
      providers.slack.postedMessages.find((m) => m.channel.startsWith('D') && m.text.includes(held.id)),
    );
    expect(dm.text).toContain('react :heavy_check_mark: on the request');
    const reaction = (user: string, envelope: string) => {
      socket.pushEvent(envelope, {
        type: 'event_callback',
        event_id: `Ev${envelope}`,
        event: {
          type: 'reaction_added',
          user,
          reaction: 'heavy_check_mark',
          item: { type: 'message', channel: CHANNEL, ts },
          event_ts: String(Date.now() / 1000),
        },
      });
      return waitFor(`the acknowledgement of ${envelope}`, () => socket.acks.includes(envelope));
    };
    // Someone else's reaction is acknowledged and changes nothing.
    await reaction('U0SOMEONE01', `react-${kind}-1`);
    expect((await app().inject(`/credits/requests/${held.id}`)).json().hold.approvedAt).toBeNull();
    expect(repliesTo(ts)).toEqual([]);
    await reaction(OPERATOR, `react-${kind}-2`);
    const reply = await replyTo(ts);
    expect(reply.text).toBe(`Approved, $100.00, exceptions${NO_OPINION_YET}`);
    const approved = (await app().inject(`/credits/requests/${held.id}`)).json();
    expect(approved.hold).toMatchObject({ approvedBy: OPERATOR, via: 'slack', correctedCents: null });
    // Slack redelivers the envelope, and the operator reacts again: still one reply.
    await reaction(OPERATOR, `react-${kind}-2`);
    await reaction(OPERATOR, `react-${kind}-3`);
    await waitFor('the done reaction', () => reactionsOn(ts).includes('white_check_mark') || undefined);
    expect(repliesTo(ts)).toHaveLength(1);
  });

  it('acknowledges and drops a Socket Mode event of the wrong shape, so it is not redelivered forever', async () => {
    await socket.waitForConnection();
    const ts = '1700000001.000001';
    for (const [envelope, event] of [
      [`bad-${kind}-1`, { type: 'message', channel: CHANNEL, text: 5, ts }],
      [`bad-${kind}-2`, { type: 'message', channel: { id: CHANNEL }, text: 'x', ts }],
      [`bad-${kind}-3`, { type: 'message', channel: CHANNEL, text: `https://${HOST}/looks/11\u0000`, ts }],
    ] as const) {
      socket.pushEvent(envelope, { type: 'event_callback', event_id: `Ev${envelope}`, event });
      await waitFor('the acknowledgement', () => socket.acks.includes(envelope));
    }
    expect(await requestFor(ts)).toBeUndefined();
  });

  it('ignores bot messages, thread replies and messages without a Looker link', async () => {
    // Events only (not in the channel's history, which later polls read).
    const bot = await postEvent(`https://${HOST}/looks/11`, {
      ts: '1700000000.000002',
      extra: { bot_id: 'B0FAKEBOT01', subtype: 'bot_message' },
    });
    expect(bot.response.json().outcome).toBe('ignored');
    const reply = await postEvent(`https://${HOST}/looks/11`, {
      ts: '1700000000.000003',
      extra: { thread_ts: '1700000000.000001' },
    });
    expect(reply.response.json().outcome).toBe('ignored');
    const plain = await postEvent('thanks!', { ts: '1700000000.000004' });
    expect(plain.response.json().outcome).toBe('ignored');
    expect(await requestFor(bot.ts)).toBeUndefined();
  });

  it('tells the operator and the thread when a query is missing, and answers after a retry', async () => {
    const { ts } = await postEvent(`credit https://${HOST}/looks/99`);
    const note = await replyTo(ts);
    expect(note.text).toMatch(/^This request needs a person: Looker has no Look 99 \(404\)/);
    const dm = await waitFor('the operator DM', () =>
      providers.slack.postedMessages.find(
        (m) => m.channel.startsWith('D') && m.text.includes(ts.replace('.', '')),
      ),
    );
    expect(dm.text).toContain(`https://fake-workspace.slack.com/archives/${CHANNEL}/p${ts.replace('.', '')}`);
    expect(dm.text).toContain('Reason: Looker has no Look 99 (404)');
    await waitFor('the failed reaction', () => reactionsOn(ts).includes('x'));
    const failed = await requestFor(ts);
    expect((await app().inject(`/credits/requests/${failed?.id}`)).json()).toMatchObject({
      status: 'failed',
    });

    // Someone fixes the Look; the retry answers in the thread.
    looker.addQuery(
      { id: '599', slug: 'Fixed599', sql: verifySql('Z'), rows: rows('maximum', 5, '100') },
      '99',
    );
    const retried = await app().inject({ method: 'POST', url: `/credits/requests/${failed?.id}/retry` });
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toMatchObject({ status: 'queued', round: 2 });
    await waitFor('the approval', () => repliesTo(ts).find((m) => m.text.startsWith('Approved')));
    expect(repliesTo(ts).map((m) => m.text)).toEqual([
      note.text,
      `Approved, $15.00, exceptions${NO_OPINION_YET}`,
    ]);
    const again = await app().inject({ method: 'POST', url: `/credits/requests/${failed?.id}/retry` });
    expect(again.statusCode).toBe(409);
    expect(
      (
        await app().inject({
          method: 'POST',
          url: '/credits/requests/00000000-0000-4000-8000-000000000000/retry',
        })
      ).statusCode,
    ).toBe(404);
  });

  it('reports refused Looker credentials, and retries Looker outages and timeouts with backoff', async () => {
    looker.inject({ match: route('POST', '/api/4.0/login'), status: 404, body: { message: 'Not found' } });
    const refused = await postEvent(`credit https://${HOST}/looks/11`);
    const note = await replyTo(refused.ts);
    expect(note.text).toMatch(/needs a person: Looker refused the credentials/);

    looker.inject({
      match: route('GET', '/api/4.0/queries/501/run/json'),
      status: 503,
      body: { message: 'down' },
    });
    // Then an answer that never comes: the call times out (PROVIDER_TIMEOUT_SECONDS) and is retried.
    looker.inject({ match: route('GET', '/api/4.0/queries/501/run/json'), hang: true });
    const outage = await postEvent(`credit https://${HOST}/looks/11`);
    const reply = await replyTo(outage.ts);
    expect(reply.text).toBe(`Approved, $4,395.36, exceptions${NO_OPINION_YET}`);
    const request = (await app().inject(`/credits/requests/${(await requestFor(outage.ts))?.id}`)).json();
    expect(request.attempts).toBe(3);
  });

  it('polls the channel history from its cursor, every page, and catches up', async () => {
    const texts = Array.from({ length: 3 }, (_, i) => `poll ${i} https://${HOST}/x/Short503`);
    const seeded = texts.map((text) => providers.slack.seedMessage(CHANNEL, { text }));
    const pass = await app().inject({ method: 'POST', url: '/credits/poll' });
    expect(pass.statusCode).toBe(200);
    const result = pass.json().channels[0];
    expect(result.queued).toBe(3);
    expect(result.cursor).toBe(seeded.at(-1));
    for (const ts of seeded)
      expect((await replyTo(ts)).text).toBe(`Approved, $12.35, exceptions${NO_OPINION_YET}`);
    const second = (await app().inject({ method: 'POST', url: '/credits/poll' })).json().channels[0];
    expect(second).toMatchObject({ seen: 0, queued: 0 });
  });

  it('sees, behind its cursor, a message edited after a poll read it, once', async () => {
    const poll = async () =>
      (await app().inject({ method: 'POST', url: '/credits/poll' })).json().channels[0];
    const later = providers.slack.seedMessage(CHANNEL, { text: 'credit request, link to follow' });
    const answered = providers.slack.seedMessage(CHANNEL, { text: `answered https://${HOST}/x/Short503` });
    expect(await poll()).toMatchObject({ seen: 2, queued: 1, cursor: answered });
    expect((await replyTo(answered)).text).toBe(`Approved, $12.35, exceptions${NO_OPINION_YET}`);

    // Both are edited after that poll: one gains its link, the other's link changes.
    providers.slack.editMessage(CHANNEL, later, `credit request https://${HOST}/looks/11`);
    providers.slack.editMessage(CHANNEL, answered, `answered https://${HOST}/looks/11`);
    expect(await poll()).toMatchObject({ seen: 0, queued: 1, cursor: answered });
    expect((await replyTo(later)).text).toBe(`Approved, $4,395.36, exceptions${NO_OPINION_YET}`);
    const note = await waitFor('the edit note', () => repliesTo(answered)[1]);
    expect(note.text).toContain('its Looker links changed: the answer is for the earlier text');

    // The next polls read the same edits again: nothing more is queued or posted.
    expect(await poll()).toMatchObject({ seen: 0, queued: 0 });
    expect(await poll()).toMatchObject({ seen: 0, queued: 0 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(repliesTo(later)).toHaveLength(1);
    expect(repliesTo(answered)).toHaveLength(2);
  });

  it('runs one request from text (printed, not posted) and from a permalink (answered in its thread)', async () => {
    const before = providers.slack.postedMessages.length;
    const fromText = await app().inject({
      method: 'POST',
      url: '/credits/requests',
      payload: { text: `https://${HOST}/looks/11` },
    });
    expect(fromText.statusCode).toBe(200);
    expect(fromText.json()).toMatchObject({ status: 'done', amountCents: 439536, channel: 'cli' });
    expect(providers.slack.postedMessages.length).toBe(before);

    const ts = providers.slack.seedMessage(CHANNEL, { text: `by hand https://${HOST}/looks/11` });
    const permalink = `https://fake-workspace.slack.com/archives/${CHANNEL}/p${ts.replace('.', '')}`;
    const fromLink = await app().inject({ method: 'POST', url: '/credits/requests', payload: { permalink } });
    expect(fromLink.json()).toMatchObject({ status: 'done', amountCents: 439536, ts });
    expect((await replyTo(ts)).text).toBe(`Approved, $4,395.36, exceptions${NO_OPINION_YET}`);
    // Asking again shows the answered request; nothing is posted twice.
    const twice = await app().inject({ method: 'POST', url: '/credits/requests', payload: { permalink } });
    expect(twice.json()).toMatchObject({ id: fromLink.json().id, status: 'done' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(repliesTo(ts)).toHaveLength(1);

    const bad = await app().inject({
      method: 'POST',
      url: '/credits/requests',
      payload: { text: 'no links' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_input');
    const notALink = await app().inject({
      method: 'POST',
      url: '/credits/requests',
      payload: { permalink: 'https://x.com/y' },
    });
    expect(notALink.statusCode).toBe(400);
  });

  it('answers a request taken in before a restart exactly once after it', async () => {
    // An API-only process takes the event in (no workers), then stops before anything is answered.
    await running.dispose();
    const intakeOnly = await startTestService(kind, { target, apps: [creditsApp], env: env(), mode: 'http' });
    running = intakeOnly;
    const { ts, response } = await postEvent(`after restart https://${HOST}/looks/11`);
    expect(response.json().outcome).toBe('queued');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(repliesTo(ts)).toHaveLength(0);
    await intakeOnly.dispose();

    running = await startTestService(kind, { target, apps: [creditsApp], env: env() });
    expect((await replyTo(ts)).text).toBe(`Approved, $4,395.36, exceptions${NO_OPINION_YET}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(repliesTo(ts)).toHaveLength(1);
  });

  it.skipIf(kind !== 'postgres')(
    'answers once when two processes take the same message in at once',
    async () => {
      const other = await startTestService(kind, { target, apps: [creditsApp], env: env() });
      try {
        const text = `race https://${HOST}/looks/11`;
        const ts = providers.slack.seedMessage(CHANNEL, { text });
        const body = (eventId: string) =>
          JSON.stringify({
            type: 'event_callback',
            event_id: eventId,
            event: { type: 'message', channel: CHANNEL, user: 'U0FAKEUSER1', text, ts },
          });
        // Two deliveries of the message (two subscriptions, or a retry racing the original) to two processes.
        const answers = await Promise.all([
          signedPost(body(`EvRaceA${ts}`)),
          signedPost(body(`EvRaceB${ts}`), undefined, undefined, other.service.app),
        ]);
        expect(answers.map((a) => a.json().outcome).sort()).toEqual(['duplicate', 'queued']);
        expect((await replyTo(ts)).text).toBe(`Approved, $4,395.36, exceptions${NO_OPINION_YET}`);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(repliesTo(ts)).toHaveLength(1);
      } finally {
        await other.dispose();
      }
    },
  );
});
