// The second opinion in the running service, on the sandbox Slack channel and Looker: no prediction
// below CREDITS_MODEL_MIN_REQUESTS (and the API says why); SYNTHETIC history loaded and trained on;
// an ordinary request predicted and answered at once; a pumped account's request (its traffic
// suddenly all with Fraud Guard off) flagged, the operator told, the thread reply held
// (CREDITS_HOLD_OUTLIERS=true) until an allowed user's reaction (or the API) approves it, who and when recorded,
// and the amount posted exactly as computed. On PGlite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { creditSampleTraffic } from '../src/apps/credits/schema.ts';
import { slackSignature } from '../src/platform/channels/webhooks/slack-signature.ts';
import { openConsole } from './helpers/console.ts';
import { NO_OPINION_YET } from './helpers/credit-replies.ts';
import { databaseKinds } from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const SECRET = 'slack-signing-secret-for-tests';
const APPROVER = 'U0APPROVER1';
const CHANNEL = 'C0CREDITMEMO';
const LOOK_1 = 'https://looker.sandbox.localhost/looks/1';

interface SandboxMessage {
  direction: string;
  to: string;
  content: { text?: string; threadTs?: string };
}

describe.each(databaseKinds)('CreditBot second opinion on %s', (kind) => {
  let running: TestService;
  const app = () => running.service.app;
  const sandboxSlack = async () =>
    ((await app().inject('/sandbox/messages?channel=slack')).json() as { messages: SandboxMessage[] })
      .messages;
  const repliesTo = async (ts: string) =>
    (await sandboxSlack()).filter((m) => m.direction === 'outbound' && m.content.threadTs === ts);
  const post = async (text: string) => {
    const posted = await app().inject({
      method: 'POST',
      url: '/sandbox/slack/messages',
      payload: { channel: CHANNEL, text },
    });
    expect(posted.statusCode).toBe(201);
    return posted.json() as { ts: string; id: string };
  };
  const requestOnceDone = (id: string) =>
    waitFor(`request ${id} done`, async () => {
      const request = (await app().inject(`/credits/requests/${id}`)).json();
      return request.status === 'done' ? request : undefined;
    });
  const react = (user: string, ts: string, eventId: string) => {
    const body = JSON.stringify({
      type: 'event_callback',
      event_id: eventId,
      event: {
        type: 'reaction_added',
        user,
        reaction: 'heavy_check_mark',
        item: { type: 'message', channel: CHANNEL, ts },
      },
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

  beforeAll(async () => {
    running = await startTestService(kind, {
      apps: [creditsApp],
      env: {
        CREDITS_HOLD_OUTLIERS: 'true',
        CREDITS_APPROVERS: APPROVER,
        SLACK_SIGNING_SECRET: SECRET,
        CREDITS_MODEL_RETRAIN_CRON: '',
      },
    });
  });
  afterAll(async () => {
    await running?.dispose();
  });

  it('makes no prediction below the minimum history, and says why', async () => {
    const { id, ts } = await post(`credit please ${LOOK_1}`);
    const request = await requestOnceDone(id);
    expect(request.prediction).toBeNull();
    expect(request.predictionNote).toContain('CREDITS_MODEL_MIN_REQUESTS');
    expect(request.flag).toBeNull();
    const reply = await waitFor('the reply', async () => (await repliesTo(ts))[0]);
    // The people asking are told the amount was not checked against history.
    expect(reply.content.text).toBe(`Approved, $4,395.36, exceptions${NO_OPINION_YET}`);
    const operator = await openConsole(app());
    expect(await operator.page(`/console/credits/${id}`)).toContain(
      'no prediction yet: no model has been trained',
    );
    const train = await app().inject({ method: 'POST', url: '/credits/model/train', payload: {} });
    expect(train.json()).toMatchObject({ trained: false, requests: 1 });
    expect(train.json().reason).toContain('a model needs 30 (CREDITS_MODEL_MIN_REQUESTS)');
  });

  it('learns from synthetic history, predicts an ordinary request and answers it at once', async () => {
    const loaded = await app().inject({
      method: 'POST',
      url: '/sandbox/credits/history',
      payload: { count: 300, seed: 20 },
    });
    expect(loaded.statusCode).toBe(201);
    // The first start's training job may have run meanwhile too: this version is 1 or 2.
    expect(loaded.json()).toMatchObject({ synthetic: true, inserted: 300, train: { trained: true } });
    const version = loaded.json().train.version as number;
    const evaluation = (await app().inject('/credits/model/evaluate')).json();
    expect(evaluation.evaluated).toBe(true);
    expect(evaluation.evaluation.folds).toHaveLength(5);

    // Account A asks three more times, ordinarily: each predicted, none flagged, each answered.
    for (let i = 0; i < 3; i++) {
      const { id, ts } = await post(`credit ${i} ${LOOK_1}`);
      const request = await requestOnceDone(id);
      expect(request.amountCents).toBe(439536);
      expect(request.prediction.modelVersion).toBeGreaterThanOrEqual(version);
      expect(request.prediction.lowCents).toBeLessThanOrEqual(439536);
      expect(request.prediction.highCents).toBeGreaterThanOrEqual(439536);
      expect(request.flag).toBeNull();
      await waitFor('the reply', async () => (await repliesTo(ts))[0]);
    }
  });

  it("holds a pumped account's flagged reply until an allowed user approves it; the amount as computed", async () => {
    // Account A's Verify traffic now includes $150,000 with Fraud Guard off: credited in full.
    await running.service.db.orm.insert(creditSampleTraffic).values({
      id: 900,
      accountSid: 'AC00000000000000000000000000000a01',
      product: 'Authy Verify',
      fraudGuardMode: 'off',
      destinationCountry: 'TJ',
      msgCount: 100_000,
      fraudCost: '150000.000000',
    });
    const { id, ts } = await post(`urgent credit ${LOOK_1}`);
    const request = await requestOnceDone(id);
    // basic $7,526.30 x 0.584 = $4,395.36, plus off $150,000.00 x 1.
    expect(request.amountCents).toBe(15_439_536);
    expect(request.flag.reason).toContain(
      "the credit is 98.0% of the fraud cost ($157,526.30); this account's 4 earlier requests were 58.4%-58.4%",
    );
    // The amount fits its mode mix (Fraud Guard off is credited in full), so the interval holds it:
    // what is unusual is the account's change, which the history check sees.
    expect(request.flag.kinds).toEqual(['ratio_history']);
    expect(request.prediction.lowCents).toBeLessThanOrEqual(request.amountCents);
    expect(request.prediction.highCents).toBeGreaterThanOrEqual(request.amountCents);
    expect(request.hold).toEqual({ approvedBy: null, approvedAt: null, via: null, correctedCents: null });

    const dm = await waitFor('the operator DM', async () =>
      (await sandboxSlack()).find((m) => m.to === 'U0SANDBOXOP' && m.content.text?.includes('flagged')),
    );
    expect(dm.content.text).toContain('Computed: $154,395.36 (the answer; the check never changes it)');
    expect(dm.content.text).toContain(`Why: ${request.flag.reason}`);
    expect(dm.content.text).toContain(`POST /credits/requests/${id}/approve`);

    // Someone not allowed to approve reacts: nothing is posted.
    expect((await react('U0SOMEONE01', ts, `Ev${kind}-a`)).json()).toMatchObject({ outcome: 'ignored' });
    // Let the outbox run (the DM above went); the held reply must still be absent.
    expect(await repliesTo(ts)).toEqual([]);

    // The console shows it as needing a person, with the flag's reason and the approve button.
    const operator = await openConsole(app());
    expect(await operator.page('/console')).toContain('credit reply held');
    const page = await operator.page(`/console/credits/${id}`);
    expect(page).toContain('waiting for a person to approve it');
    expect(page).toContain(`action="/console/credits/${id}/approve"`);
    expect(page).toContain('this account&#39;s 4 earlier requests were 58.4%-58.4%');
    expect(await operator.page('/console/credits')).toMatch(/badge wait">held</);

    const approved = await react(APPROVER, ts, `Ev${kind}-b`);
    expect(approved.json()).toMatchObject({ outcome: 'approved' });
    const reply = await waitFor('the approved reply', async () => (await repliesTo(ts))[0]);
    expect(reply.content.text).toBe('Approved, $154,395.36, exceptions');
    const after = (await app().inject(`/credits/requests/${id}`)).json();
    expect(after.amountCents).toBe(15_439_536);
    expect(after.hold).toMatchObject({ approvedBy: APPROVER, via: 'slack' });
    expect(Date.parse(after.hold.approvedAt)).toBeGreaterThan(Date.parse(after.finishedAt) - 1000);

    // Approving again changes nothing: 409, one reply.
    const again = await app().inject({
      method: 'POST',
      url: `/credits/requests/${id}/approve`,
      payload: { by: 'ops@example.com' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('conflict');
    expect(await repliesTo(ts)).toHaveLength(1);
  });

  it('posts a held reply when approved through the API, recording who and when', async () => {
    const LOOK_B = 'https://looker.sandbox.localhost/explore/sms/sms_traffic?qid=SandboxVerifyB3';
    for (let i = 0; i < 3; i++) {
      const { id } = await post(`account B ${i} ${LOOK_B}`);
      expect((await requestOnceDone(id)).flag).toBeNull();
    }
    await running.service.db.orm.insert(creditSampleTraffic).values({
      id: 901,
      accountSid: 'AC00000000000000000000000000000b02',
      product: 'Authy Verify',
      fraudGuardMode: 'off',
      destinationCountry: 'KH',
      msgCount: 50_000,
      fraudCost: '90000.000000',
    });
    const { id, ts } = await post(`account B again ${LOOK_B}`);
    const request = await requestOnceDone(id);
    expect(request.flag.kinds).toEqual(['ratio_history']);
    await waitFor('the operator DM', async () =>
      (await sandboxSlack()).find((m) => m.to === 'U0SANDBOXOP' && m.content.text?.includes(id)),
    );
    expect(await repliesTo(ts)).toEqual([]);
    const bad = await app().inject({ method: 'POST', url: `/credits/requests/${id}/approve`, payload: {} });
    expect(bad.statusCode).toBe(400);
    for (const amountCents of [-1, 12.5, '3200', 100_000_000_001]) {
      const wrong = await app().inject({
        method: 'POST',
        url: `/credits/requests/${id}/approve`,
        payload: { by: 'ops@example.com', amountCents },
      });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json().error.code).toBe('invalid_input');
    }
    // A person corrects the credit: the reply posts their amount and says who changed it from what;
    // the request keeps the computed amount (the model never changed it; the correction is recorded).
    const approved = await app().inject({
      method: 'POST',
      url: `/credits/requests/${id}/approve`,
      payload: { by: 'ops@example.com', amountCents: 320_000 },
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.json().hold).toMatchObject({
      approvedBy: 'ops@example.com',
      via: 'api',
      correctedCents: 320_000,
    });
    expect(approved.json().amountCents).toBe(request.amountCents);
    const reply = await waitFor('the approved reply', async () => (await repliesTo(ts))[0]);
    expect(reply.content.text).toBe(
      `Approved, $3,200.00, exceptions\nCorrected by ops@example.com from the computed ${request.summary.amount}.`,
    );
    // History reads the corrected credit: account B's ratio stays what a person made it.
    const [check] = await running.service.db.query<{ corrected_cents: string; credit_cents: string }>(
      'select corrected_cents, credit_cents from credit_checks where request_id = $1',
      [id],
    );
    expect(Number(check?.corrected_cents)).toBe(320_000);
    expect(Number(check?.credit_cents)).toBe(request.amountCents);
  });

  it('posts a held reply corrected in the console, refusing an amount that is not one', async () => {
    // Account B again, its Fraud-Guard-off traffic still there: far from its (corrected) history.
    const LOOK_B = 'https://looker.sandbox.localhost/explore/sms/sms_traffic?qid=SandboxVerifyB3';
    const { id, ts } = await post(`account B once more ${LOOK_B}`);
    const request = await requestOnceDone(id);
    expect(request.flag?.kinds).toContain('ratio_history');
    expect(request.hold).toMatchObject({ approvedAt: null });
    const operator = await openConsole(app());
    expect(await operator.page(`/console/credits/${id}`)).toContain('Or correct the credit to (US dollars)');
    const submit = (fields: Record<string, string>) =>
      operator.submit(`/console/credits/${id}/approve`, fields);
    for (const typed of ['12.345', 'three thousand', '-5', '1,00']) {
      const refused = await submit({ amount: typed, _confirmed: 'yes' });
      expect(refused.statusCode).toBe(400);
      expect(refused.body).toContain('Corrected credit:');
    }
    expect(await repliesTo(ts)).toEqual([]);
    // The confirmation names both amounts; confirming posts the correction.
    const asked = await submit({ amount: '$1,234.5' });
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain(`with $1,234.50 in place of the computed ${request.summary.amount}`);
    const done = await submit({ amount: '$1,234.5', _confirmed: 'yes' });
    expect(done.statusCode).toBe(303);
    const reply = await waitFor('the corrected reply', async () => (await repliesTo(ts))[0]);
    expect(reply.content.text).toBe(
      `Approved, $1,234.50, exceptions\nCorrected by local operator (no login) from the computed ${request.summary.amount}.`,
    );
    const after = (await app().inject(`/credits/requests/${id}`)).json();
    expect(after.hold).toMatchObject({ via: 'console', correctedCents: 123_450 });
    expect(after.amountCents).toBe(request.amountCents);
    expect(await operator.page(`/console/credits/${id}`)).toContain(
      'corrected to $1,234.50 and approved by local operator (no login)',
    );
  });

  it('refuses a console approval of a reply already approved, saying by whom, and records the refusal', async () => {
    const operator = await openConsole(app());
    const [held] = await running.service.db.query<{ request_id: string }>(
      `select request_id from credit_checks where approved_via = 'api' limit 1`,
    );
    const response = await operator.submit(`/console/credits/${held?.request_id}/approve`, {
      _confirmed: 'yes',
    });
    expect(response.statusCode).toBe(409);
    expect(response.body).toContain('was approved by ops@example.com');
    const audit = await running.service.db.query(`select action, outcome from audit_log where target = $1`, [
      held?.request_id,
    ]);
    expect(audit).toEqual([{ action: 'credits.approve', outcome: 'refused' }]);
    expect(await operator.page('/console/credits/analytics')).toContain('AC00000000000000000000000000000a01');
  });

  it('shows analytics over the answered requests', async () => {
    const analytics = (await app().inject('/credits/analytics')).json();
    expect(analytics.requests).toBe(310);
    expect(analytics.byMonth.reduce((s: number, m: { requests: number }) => s + m.requests, 0)).toBe(310);
    expect(analytics.byWeek.reduce((s: number, m: { creditCents: number }) => s + m.creditCents, 0)).toBe(
      analytics.creditCents,
    );
    expect(analytics.byProduct.map((p: { product: string }) => p.product).sort()).toEqual(['psms', 'verify']);
    expect(analytics.byMode.map((m: { mode: string }) => m.mode)).toEqual(
      expect.arrayContaining(['off', 'basic', 'standard', 'maximum']),
    );
    expect(analytics.largestAccounts[0].account).toBe('AC00000000000000000000000000000a01');
    expect(
      analytics.ratioDistribution.reduce((s: number, b: { requests: number }) => s + b.requests, 0),
    ).toBe(310);
    expect(analytics.flagged).toBeGreaterThanOrEqual(2);
    const bad = await app().inject('/credits/analytics?since=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_input');
  });
});
