// The embedded default: no Slack or Looker credentials, the whole loop against the sandbox Slack
// channel and the sandbox Looker over the sample table, as a new user sees it after `npm start`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { NO_OPINION_YET } from './helpers/credit-replies.ts';
import { databaseKinds } from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

interface SandboxMessage {
  channel: string;
  direction: string;
  to: string;
  content: { text?: string; threadTs?: string; reaction?: string; timestamp?: string };
}

describe.each(databaseKinds)('CreditBot sandbox on %s', (kind) => {
  let running: TestService;
  const app = () => running.service.app;
  const sandboxSlack = async () =>
    ((await app().inject('/sandbox/messages?channel=slack')).json() as { messages: SandboxMessage[] })
      .messages;

  beforeAll(async () => {
    running = await startTestService(kind, { apps: [creditsApp] });
  });
  afterAll(async () => {
    await running?.dispose();
  });

  it('answers a request posted to the sandbox channel, with reactions, from the sample Looks', async () => {
    const links = (await app().inject('/sandbox/looker')).json();
    expect(links.channels).toEqual(['C0CREDITMEMO']);
    expect(links.links.map((l: { url: string }) => l.url)).toContain(
      'https://looker.sandbox.localhost/looks/1',
    );

    const posted = await app().inject({
      method: 'POST',
      url: '/sandbox/slack/messages',
      payload: {
        channel: '#credit_memo_testing',
        text: 'Please process this credit request https://looker.sandbox.localhost/looks/1',
      },
    });
    expect(posted.statusCode).toBe(201);
    const { ts, id, outcome } = posted.json();
    expect(outcome).toBe('queued');

    const reply = await waitFor('the thread reply', async () =>
      (await sandboxSlack()).find((m) => m.direction === 'outbound' && m.content.threadTs === ts),
    );
    // basic mode: $7,526.30 of fraud cost, 41.6% expected to be blocked: 7,526.30 x 0.584 = 4,395.3592.
    expect(reply.content.text).toBe(`Approved, $4,395.36, exceptions${NO_OPINION_YET}`);
    expect(reply.to).toBe('C0CREDITMEMO');
    const reactions = (await sandboxSlack())
      .filter((m) => m.content.reaction && m.content.timestamp === ts)
      .map((m) => m.content.reaction);
    expect(reactions).toEqual(expect.arrayContaining(['eyes', 'white_check_mark']));

    const request = (await app().inject(`/credits/requests/${id}`)).json();
    expect(request).toMatchObject({ status: 'done', amountCents: 439536, intake: 'sandbox' });
    expect(request.summary).toMatchObject({
      amount: '$4,395.36',
      product: 'verify',
      calculator: 'builtin',
      table: [
        {
          mode: 'basic',
          traffic_prop: '1.000',
          msg_count: 35644,
          fraud_cost: 752630,
          block_rate: '0.416',
          credit: 439536,
        },
      ],
    });
    const list = (await app().inject('/credits/requests')).json();
    expect(list.requests.map((r: { id: string }) => r.id)).toContain(id);

    // The amount answered is on /metrics for the dashboard, under its product.
    const scrape = (await app().inject('/metrics')).body;
    expect(scrape).toMatch(/^credit_amount_cents_total\{product="verify"\} 439536$/m);
    expect(scrape).toMatch(/^credit_request_amount_cents_sum\{product="verify"\} 439536$/m);
    expect(scrape).toMatch(/^credit_request_amount_cents_bucket\{le="500000",product="verify"\} 1$/m);
  });

  it('tells the sandbox operator by DM, and the thread, when a request cannot be answered', async () => {
    const posted = await app().inject({
      method: 'POST',
      url: '/sandbox/slack/messages',
      payload: { channel: 'C0CREDITMEMO', text: 'credit https://looker.sandbox.localhost/looks/77' },
    });
    const { ts } = posted.json();
    const dm = await waitFor('the DM', async () =>
      (await sandboxSlack()).find(
        (m) => m.to === 'U0SANDBOXOP' && m.content.text?.includes(ts.replace('.', '')),
      ),
    );
    expect(dm.content.text).toContain('Reason: the sandbox Looker has no Look 77 (404)');
    // The DM and the thread note are two outbox messages, delivered in either order.
    const note = await waitFor('the thread note', async () =>
      (await sandboxSlack()).find((m) => m.content.threadTs === ts),
    );
    expect(note.content.text).toBe('This request needs a person: the sandbox Looker has no Look 77 (404)');
  });

  it('refuses bad input with a stable code and the field', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['GET', '/credits/requests/not-a-uuid', undefined, 400, 'invalid_input'],
      ['GET', '/credits/requests?limit=0', undefined, 400, 'invalid_input'],
      ['GET', '/credits/requests/00000000-0000-4000-8000-000000000000', undefined, 404, 'not_found'],
      ['POST', '/sandbox/slack/messages', { channel: 'general', text: 'x' }, 400, 'invalid_input'],
      ['POST', '/sandbox/slack/messages', { channel: 'C0CREDITMEMO' }, 400, 'invalid_input'],
      [
        'POST',
        '/credits/requests',
        { text: 'x', permalink: 'https://a.slack.com/archives/C1/p1700000000000001' },
        400,
        'invalid_input',
      ],
      ['POST', '/webhooks/slack/events', { type: 'url_verification', challenge: 'x' }, 404, 'not_found'],
    ];
    for (const [method, url, payload, status, code] of cases) {
      const response = await app().inject({
        method: method as 'GET' | 'POST',
        url,
        ...(payload ? { payload: payload as object } : {}),
      });
      expect([url, response.statusCode, response.json().error?.code]).toEqual([url, status, code]);
    }
    // A sandbox message without a Looker link is not a request.
    const chat = await app().inject({
      method: 'POST',
      url: '/sandbox/slack/messages',
      payload: { channel: 'C0CREDITMEMO', text: 'hello' },
    });
    expect(chat.json()).toMatchObject({ outcome: 'ignored', reason: 'no Looker link' });
  });
});
