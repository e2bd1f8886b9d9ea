// CreditBot's request flow against the Slack and Looker fakes (the built-in calculator), one case
// per way a link was miscounted or a request went unanswered: the same query linked twice (a Look
// and its Explore, in both of Looker's query id shapes), rows fetched only when a calculator needs
// them, links in Slack formatting, unreadable links named, Looker's looker_error as the reason
// with what was done per link kept, edits (answered by default, noted, or recomputed with
// CREDITS_ACCEPT_EDITS) and thread replies answered in their parent's thread.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { slackSignature } from '../src/platform/channels/webhooks/slack-signature.ts';
import { route } from './fakes/http-fake.ts';
import { type FakeLooker, startFakeLooker } from './fakes/looker.ts';
import { NO_OPINION_YET } from './helpers/credit-replies.ts';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from './helpers/databases.ts';
import { type Providers, startProviders } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const SECRET = 'slack-signing-secret-for-tests';
const HOST = 'acme.cloud.looker.com';
const CHANNEL = 'C0GENERAL01';
const OPERATOR = 'W014QM1DAPN';
const kind = TEST_DATABASE_URL ? 'postgres' : 'pglite';

const sql = (account: string) =>
  `SELECT traffic.fraud_guard_mode, SUM(traffic.msg_count), SUM(traffic.fraud_cost)\nFROM traffic\nWHERE traffic.product = 'Authy Verify' AND account_sid = '${account}'`;
const row = (mode: string, msgCount: number, fraudCost: string) => ({
  'traffic.fraud_guard_mode': mode,
  'traffic.msg_count': msgCount,
  'traffic.fraud_cost': fraudCost,
});
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function addQueries(looker: FakeLooker) {
  // Look 101 (numeric query id 9001, slug Tq9001Slug): basic $5,000.00 -> $2,920.00 and
  // standard $1,978.92 -> $692.622 -> $692.62: $3,612.62.
  looker.addQuery(
    {
      id: '9001',
      slug: 'Tq9001Slug',
      sql: sql('A'),
      rows: [row('basic', 1200, '5000.00'), row('standard', 800, '1978.92')],
    },
    '101',
  );
  // Look 102 on a newer Looker: the query's id is its slug. off $100.01 -> $100.01.
  looker.addQuery(
    { id: '9002', slug: 'NewShape102', idIsSlug: true, sql: sql('B'), rows: [row('off', 3, '100.01')] },
    '102',
  );
  // Look 103: its SQL fails in the warehouse; Looker says so with HTTP 200.
  looker.addQuery(
    {
      id: '9003',
      slug: 'Broken9003',
      sql: sql('C'),
      rows: [],
      lookerError: 'SQL compilation error: invalid identifier TRAFFIC.FRAUD_COST',
    },
    '103',
  );
  // Look 104 and its short link: maximum $1,000.00 -> $150.00.
  looker.addQuery(
    { id: '9004', slug: 'Short9004', sql: sql('D'), rows: [row('maximum', 10, '1000.00')] },
    '104',
  );
  // Look 105: PSMS, no calculator: its rows are never asked for.
  looker.addQuery(
    {
      id: '9005',
      slug: 'Psms9005',
      sql: "SELECT * FROM traffic WHERE product = 'Programmable SMS'",
      rows: [row('off', 1, '1')],
    },
    '105',
  );
}

describe(`CreditBot links and messages (${kind})`, () => {
  let providers: Providers;
  let looker: FakeLooker;
  let target: TestDatabase;
  let running: TestService;
  let sequence = 0;
  const app = () => running.service.app;

  const env = (extra: Record<string, string> = {}) => ({
    ...providers.env,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_USER_ID: OPERATOR,
    CREDITS_CHANNELS: CHANNEL,
    LOOKER_CLIENT_ID: looker.clientId,
    LOOKER_CLIENT_SECRET: looker.clientSecret,
    LOOKER_BASE_URL: looker.url,
    CREDITS_LOOKER_HOST: HOST,
    CREDITS_ACCEPT_THREAD_REPLIES: 'true',
    ...extra,
  });

  const sendEvent = (event: Record<string, unknown>) => {
    sequence += 1;
    const body = JSON.stringify({
      type: 'event_callback',
      team_id: providers.slack.teamId,
      event_id: `EvLinks${sequence}`,
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'message', channel: CHANNEL, ...event },
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    return app().inject({
      method: 'POST',
      url: '/webhooks/slack/events',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(SECRET, timestamp, body),
      },
      payload: body,
    });
  };
  /** A message posted in the channel, and its event. */
  const post = async (text: string, extra: { thread_ts?: string } = {}) => {
    const ts = providers.slack.seedMessage(CHANNEL, { text, ...extra });
    const response = await sendEvent({ user: 'U0FAKEUSER1', text, ts, ...extra });
    return { ts, outcome: response.json().outcome as string };
  };
  /** Slack's message_changed event for an edit of the message at `ts`. */
  const edit = async (ts: string, text: string, previous: string) => {
    const editTs = `${Math.floor(Date.now() / 1000)}.${String(sequence).padStart(6, '0')}`;
    const response = await sendEvent({
      subtype: 'message_changed',
      hidden: true,
      ts: editTs,
      event_ts: editTs,
      message: {
        type: 'message',
        user: 'U0FAKEUSER1',
        text,
        ts,
        edited: { user: 'U0FAKEUSER1', ts: editTs },
      },
      previous_message: { type: 'message', user: 'U0FAKEUSER1', text: previous, ts },
    });
    return response.json().outcome as string;
  };
  const inThread = (ts: string) => providers.slack.postedMessages.filter((m) => m.thread_ts === ts);
  const nthInThread = (ts: string, n: number) =>
    waitFor(`message ${n + 1} in the thread of ${ts}`, () => inThread(ts)[n]);
  const dmAbout = (ts: string) =>
    waitFor('the operator DM', () =>
      providers.slack.postedMessages.find(
        (m) => m.channel.startsWith('D') && m.text.includes(ts.replace('.', '')),
      ),
    );
  const request = async (ts: string) => {
    const list = (await app().inject('/credits/requests?limit=500')).json() as {
      requests: Array<{ id: string; ts: string }>;
    };
    const found = list.requests.find((r) => r.ts === ts);
    return found ? (await app().inject(`/credits/requests/${found.id}`)).json() : undefined;
  };
  const settled = async (ts: string, status: string) =>
    waitFor(`request ${ts} ${status}`, async () => {
      const found = await request(ts);
      return found?.status === status ? found : undefined;
    });
  const lookerCalls = (path: string) => looker.requests.filter((r) => r.path === `/api/4.0${path}`).length;

  beforeAll(async () => {
    providers = await startProviders();
    looker = await startFakeLooker({ clientId: 'looker-id', clientSecret: 'looker-secret' });
    addQueries(looker);
    target = await createTestDatabase(kind);
    running = await startTestService(kind, { target, apps: [creditsApp], env: env() });
  });
  afterAll(async () => {
    await running?.dispose();
    await providers?.close();
    await looker?.close();
    await target?.drop();
  });

  it('credits a Look and its Explore (qid = the Look query slug) once, and says they are one query', async () => {
    const jsonBefore = lookerCalls('/queries/9001/run/json');
    const { ts } = await post(
      `credit <https://${HOST}/looks/101|the Look> and https://${HOST}/explore/sms/traffic?qid=Tq9001Slug&amp;toggle=fil`,
    );
    const reply = await nthInThread(ts, 0);
    expect(reply.text).toBe(
      `Approved, $3,612.62, exceptions\nSame query, counted once: Look 101 and Explore sms/traffic (qid Tq9001Slug) (query 9001)${NO_OPINION_YET}`,
    );
    // The rows are asked for once for the query, however many links name it.
    expect(lookerCalls('/queries/9001/run/json') - jsonBefore).toBe(1);
    const stored = await settled(ts, 'done');
    expect(stored.amountCents).toBe(361262);
    expect(
      stored.summary.links.map((l: { status: string; queryId: string }) => [l.status, l.queryId]),
    ).toEqual([
      ['credited', '9001'],
      ['same_query', '9001'],
    ]);
    expect(stored.summary.links[0].sqlHash).toBe(sha256(sql('A')));
    expect(stored.summary.links[0].sql).toBeUndefined();
  });

  it('credits a query once when its id is its slug (newer Lookers): Look, short link and Explore', async () => {
    const { ts } = await post(
      [
        `https://${HOST}/looks/102`,
        `https://${HOST}/x/NewShape102`,
        `https://${HOST}/explore/sms/traffic?qid=NewShape102`,
        `https://${HOST}/looks/104`,
      ].join('\n'),
    );
    const reply = await nthInThread(ts, 0);
    // $100.01 + $150.00
    expect(reply.text).toBe(
      `Approved, $250.01, exceptions\nSame query, counted once: Look 102 and short link NewShape102 and Explore sms/traffic (qid NewShape102) (query NewShape102)${NO_OPINION_YET}`,
    );
    expect((await settled(ts, 'done')).amountCents).toBe(25001);
  });

  it('finds links in code, code blocks and Slack formatting, and never asks for rows nobody needs', async () => {
    const psmsRows = lookerCalls('/queries/9005/run/json');
    const { ts } = await post(
      [
        'Credit request for ACME',
        `\`https://${HOST}/looks/101\``,
        '```',
        `https://${HOST}/x/Short9004`,
        '```',
        `_https://${HOST}/looks/102_ ~https://${HOST}/looks/105~`,
      ].join('\n'),
    );
    const reply = await nthInThread(ts, 0);
    // 3,612.62 + 150.00 + 100.01; Look 105 is PSMS, skipped.
    expect(reply.text).toBe(
      `Approved, $3,862.63, exceptions\nSkipped Look 105: PSMS query: no calculator is configured for PSMS${NO_OPINION_YET}`,
    );
    expect(lookerCalls('/queries/9005/run/json')).toBe(psmsRows);
  });

  it('names a dashboard and an Explore without qid as not read, with the reason', async () => {
    const { ts } = await post(
      `credit https://${HOST}/looks/104 (see <https://${HOST}/dashboards/7|the dashboard>, https://${HOST}/explore/sms/traffic?fields=traffic.count)`,
    );
    const reply = await nthInThread(ts, 0);
    expect(reply.text.split('\n')).toEqual([
      'Approved, $150.00, exceptions',
      `Not read: https://${HOST}/dashboards/7: a dashboard holds several queries, so it names no one query: link the tile's Look or Explore`,
      `Not read: https://${HOST}/explore/sms/traffic?fields=traffic.count: an Explore link without qid= names no saved query (copy the link from Share, which adds ?qid=)`,
      NO_OPINION_YET.slice(1),
    ]);
  });

  it('tells the thread and the operator when no Looker link in the message can be read', async () => {
    const { ts, outcome } = await post(`_please credit <https://${HOST}/dashboards/7>_`);
    expect(outcome).toBe('queued');
    const note = await nthInThread(ts, 0);
    expect(note.text).toMatch(/^This request needs a person: no Looker link in the message names a query: /);
    expect(note.text).toContain(`https://${HOST}/dashboards/7 (a dashboard holds several queries`);
    expect((await dmAbout(ts)).text).toContain('Reason: no Looker link in the message names a query');
    const stored = await settled(ts, 'failed');
    expect(stored.summary.links).toEqual([
      expect.objectContaining({ status: 'unreadable', url: `https://${HOST}/dashboards/7` }),
    ]);
  });

  it("gives Looker's looker_error as the reason, and keeps what was done for each link", async () => {
    const { ts } = await post(`credit https://${HOST}/looks/101 and https://${HOST}/looks/103`);
    const note = await nthInThread(ts, 0);
    expect(note.text).toBe(
      'This request needs a person: Look 103: Looker could not run query 9003: SQL compilation error: invalid identifier TRAFFIC.FRAUD_COST',
    );
    expect((await dmAbout(ts)).text).toContain(
      'Reason: Look 103: Looker could not run query 9003: SQL compilation error',
    );
    const stored = await settled(ts, 'failed');
    expect(stored.amountCents).toBeNull();
    expect(stored.summary.failure).toMatchObject({ link: 'Look 103', code: 'looker_query_failed' });
    expect(stored.summary.links).toEqual([
      expect.objectContaining({
        link: 'Look 101',
        status: 'credited',
        queryId: '9001',
        sqlHash: sha256(sql('A')),
        creditCents: 361262,
        table: [
          expect.objectContaining({ mode: 'basic', credit: 292000 }),
          expect.objectContaining({ mode: 'standard', credit: 69262 }),
        ],
      }),
      expect.objectContaining({
        link: 'Look 103',
        status: 'failed',
        queryId: '9003',
        sqlHash: sha256(sql('C')),
        reason: expect.stringContaining('invalid identifier'),
      }),
    ]);
  });

  it('answers a message that gains its link in an edit, for its current text', async () => {
    const { ts, outcome } = await post('credit request for ACME, Look to follow');
    expect(outcome).toBe('ignored');
    expect(await edit(ts, `credit request for ACME: https://${HOST}/looks/104`, 'x')).toBe('queued');
    expect((await nthInThread(ts, 0)).text).toBe(`Approved, $150.00, exceptions${NO_OPINION_YET}`);
  });

  it('notes in the thread that the answer was for the earlier text when the links change', async () => {
    const first = `credit https://${HOST}/looks/104`;
    const { ts } = await post(first);
    expect((await nthInThread(ts, 0)).text).toBe(`Approved, $150.00, exceptions${NO_OPINION_YET}`);
    await settled(ts, 'done');
    // A typo fixed: the links are the same, nothing to say.
    expect(await edit(ts, `Credit: https://${HOST}/looks/104`, first)).toBe('ignored');
    expect(await edit(ts, `credit https://${HOST}/looks/101`, first)).toBe('noted');
    const note = await nthInThread(ts, 1);
    expect(note.text).toMatch(
      /edited after CreditBot answered it, and its Looker links changed: the answer is for the earlier text/,
    );
    expect((await request(ts))?.amountCents).toBe(15000);
  });

  it('computes a failed request again when an edit changes its links (the fix)', async () => {
    const first = `credit https://${HOST}/looks/777`;
    const { ts } = await post(first);
    expect((await nthInThread(ts, 0)).text).toBe('This request needs a person: Looker has no Look 777 (404)');
    await settled(ts, 'failed');
    expect(await edit(ts, `credit https://${HOST}/looks/104`, first)).toBe('queued');
    expect((await nthInThread(ts, 1)).text).toBe(
      `Recomputed for the edited message: Approved, $150.00, exceptions${NO_OPINION_YET}`,
    );
    expect(await settled(ts, 'done')).toMatchObject({ amountCents: 15000, round: 2 });
  });

  it("answers a thread reply in its parent's thread", async () => {
    const parent = providers.slack.seedMessage(CHANNEL, { text: 'ACME credit thread' });
    const { ts } = await post(`here: https://${HOST}/looks/104`, { thread_ts: parent });
    const reply = await waitFor('the reply in the parent thread', () =>
      providers.slack.postedMessages.find((m) => m.thread_ts === parent && m.text.startsWith('Approved')),
    );
    expect(reply.text).toBe(`Approved, $150.00, exceptions${NO_OPINION_YET}`);
    expect(inThread(ts)).toHaveLength(0);
    expect(await settled(ts, 'done')).toMatchObject({ ts, threadTs: parent, amountCents: 15000 });
  });

  it('recomputes an answered message whose links change with CREDITS_ACCEPT_EDITS, keeping the SQL with CREDITS_KEEP_SQL', async () => {
    await running.dispose();
    running = await startTestService(kind, {
      target,
      apps: [creditsApp],
      env: env({ CREDITS_ACCEPT_EDITS: 'true', CREDITS_KEEP_SQL: 'true' }),
    });
    const first = `credit https://${HOST}/looks/104`;
    const { ts } = await post(first);
    expect((await nthInThread(ts, 0)).text).toBe(`Approved, $150.00, exceptions${NO_OPINION_YET}`);
    await settled(ts, 'done');
    expect(await edit(ts, `credit https://${HOST}/looks/104 and https://${HOST}/looks/102`, first)).toBe(
      'queued',
    );
    expect((await nthInThread(ts, 1)).text).toBe(
      `Recomputed for the edited message: Approved, $250.01, exceptions${NO_OPINION_YET}`,
    );
    const stored = await settled(ts, 'done');
    expect(stored).toMatchObject({ amountCents: 25001, round: 2 });
    expect(stored.summary.links.map((l: { sql: string }) => l.sql)).toEqual([sql('D'), sql('B')]);
  });

  it('computes again, for the new text only, a message edited while its credit is being computed', async () => {
    const first = `credit https://${HOST}/looks/104`;
    const seen = lookerCalls('/queries/9004/run/json');
    looker.inject({ match: route('GET', '/api/4.0/queries/9004/run/json'), delayMs: 1500 });
    const { ts } = await post(first);
    await waitFor('the rows being fetched', () => lookerCalls('/queries/9004/run/json') > seen);
    expect(await edit(ts, `credit https://${HOST}/looks/102`, first)).toBe('updated');
    expect((await nthInThread(ts, 0)).text).toBe(`Approved, $100.01, exceptions${NO_OPINION_YET}`);
    const stored = await settled(ts, 'done');
    expect(stored).toMatchObject({ amountCents: 10001, text: `credit https://${HOST}/looks/102` });
    // The answer for the earlier text is never posted.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(inThread(ts).map((m) => m.text)).toEqual([`Approved, $100.01, exceptions${NO_OPINION_YET}`]);
  });
});
