// Retention and erasure: the scheduled job erases sessions past CHAT_RETENTION_DAYS, the admin API
// (and `switchboard payments erase`, see payments-cli) erases a person's sessions now; afterwards no
// table holds their name, email or card description, and the accounting fields (payment id, amount,
// currency, date, Stripe ids, refunds) are all still there. Also the console's service functions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { getSession, listSessions } from '../src/apps/payments/service.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { databaseKinds } from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const API_KEY = 'chat-key-for-retention-0123456';
const ADMIN = 'admin-token-for-retention-0123';

describe.each(databaseKinds)('PayBot retention and erasure on %s', (kind) => {
  let stripe: FakeStripe;
  let running: TestService;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    running = await startTestService(kind, {
      apps: [createPaymentsApp()],
      env: {
        ...stripe.env,
        PAYMENTS_CARD_MODE: 'embedded',
        CHAT_API_KEYS: API_KEY,
        ADMIN_API_TOKEN: ADMIN,
        CHAT_RETENTION_DAYS: '30',
      },
    });
  });
  afterAll(async () => {
    await running?.dispose();
    await stripe?.close();
  });

  const db = () => running.service.db;
  const chat = async (sessionId: string, message: string, extra: object = {}) => {
    const response = await running.service.app.inject({
      method: 'POST',
      url: '/chat',
      headers: { authorization: `Bearer ${API_KEY}` },
      payload: { sessionId, message, ...extra },
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { response: string; status: string; currentField: string };
  };
  const admin = (url: string, payload: object) =>
    running.service.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${ADMIN}` },
      payload,
    });

  /** A paid, settled and partly refunded conversation; its PaymentIntent id. */
  async function paidConversation(session: string, name: string, email: string, amount: string) {
    await chat(session, `I am ${name}, pay ${amount}, receipt to ${email}`);
    await chat(session, 'card', {
      confirmationToken: stripe.createConfirmationToken({ brand: 'mastercard', last4: '4444' }),
    });
    await chat(session, 'yes');
    const intent = stripe.paymentIntents.at(-1);
    const { body, signature } = stripe.signEvent('payment_intent.succeeded', intent as object);
    await running.service.app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      payload: body,
    });
    expect((await chat(session, 'thanks')).status).toBe('completed');
    expect(
      (await admin(`/payments/${intent?.id}/refunds`, { amount_minor: 100, reason: 'duplicate' })).statusCode,
    ).toBe(201);
    return intent?.id as string;
  }

  /** Every row of every table as text: where a person's data could hide. */
  async function everything(): Promise<string> {
    const tables = await db().query<{ s: string; t: string }>(
      `select table_schema as s, table_name as t from information_schema.tables
        where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`,
    );
    const parts: string[] = [];
    for (const { s, t } of tables) {
      const rows = await db().query<{ row: string }>(`select t::text as row from "${s}"."${t}" t`);
      parts.push(rows.map((r) => r.row).join('\n'));
    }
    return parts.join('\n');
  }

  const accounting = (paymentIntentId: string) =>
    db().query<Record<string, unknown>>(
      `select a.idempotency_key, a.payment_intent_id, a.amount_minor::int as amount, a.currency, a.created_at,
              a.refunded_minor::int as refunded, r.stripe_refund_id, r.amount_minor::int as refund_amount
         from payment_attempts a join payment_refunds r on r.payment_intent_id = a.payment_intent_id
        where a.payment_intent_id = $1`,
      [paymentIntentId],
    );

  it('the scheduled job erases sessions past retention, keeps their accounting, deletes chats that never charged, leaves recent ones', async () => {
    const old = await paidConversation('ret-old', 'Olga Oldfield', 'olga@example.com', '$25');
    const recent = await paidConversation('ret-new', 'Nina Newman', 'nina@example.com', '$26');
    await chat('ret-abandoned', 'I am Abel Abandon, abel@example.com');
    const before = await accounting(old);
    expect(before).toHaveLength(1);

    await db().query(
      `update chat_sessions set updated_at = now() - interval '31 days', expires_at = now() - interval '31 days' where id = 'ret-old'`,
    );
    await db().query(
      `update chat_sessions set expires_at = now() - interval '2 days' where id = 'ret-abandoned'`,
    );
    await running.service.jobs.send('payments.sweep-sessions', {});
    await waitFor('the retention job', async () => {
      const [row] = await db().query<{ erased_at: Date | null }>(
        `select erased_at from chat_sessions where id = 'ret-old'`,
      );
      return row?.erased_at;
    });

    const text = await everything();
    for (const gone of ['Olga Oldfield', 'olga@example.com', 'Abel Abandon', 'abel@example.com'])
      expect(text, gone).not.toContain(gone);
    // The recent session is untouched.
    expect(text).toContain('Nina Newman');
    expect(text).toContain('nina@example.com');
    expect(recent).toMatch(/^pi_/);

    const [stub] = await db().query<{ state: Record<string, unknown>; status: string }>(
      `select state, status from chat_sessions where id = 'ret-old'`,
    );
    expect(stub?.status).toBe('completed');
    expect(stub?.state).toMatchObject({ amountMinor: 2500, currency: 'USD', paymentIntentId: old });
    expect(Object.keys(stub?.state ?? {})).not.toEqual(expect.arrayContaining(['name']));
    expect(stub?.state).not.toHaveProperty('card');
    expect(stub?.state).not.toHaveProperty('receiptEmail');
    expect(await accounting(old)).toEqual(before);
    expect(before[0]).toMatchObject({ amount: 2500, currency: 'USD', refunded: 100, refund_amount: 100 });
    expect(before[0]?.stripe_refund_id).toMatch(/^re_/);
    expect(await db().query(`select id from chat_sessions where id = 'ret-abandoned'`)).toEqual([]);
  });

  it('erases one person now by email or session id, the same way; the chat then starts over', async () => {
    const pi = await paidConversation('era-1', 'Erin Erasure', 'Erin@Example.com', '$30');
    await paidConversation('era-2', 'Erin Erasure', 'erin@example.com', '$31');
    await chat('era-3', 'I am Sam Session, sam@example.com');
    const before = await accounting(pi);

    const byEmail = await admin('/payments/erasures', { email: 'ERIN@example.com' });
    expect(byEmail.statusCode, byEmail.body).toBe(200);
    expect(byEmail.json()).toEqual({ erased: 2, deleted: 0 });
    const bySession = await admin('/payments/erasures', { sessionId: 'era-3' });
    expect(bySession.json()).toEqual({ erased: 0, deleted: 1 });

    const text = await everything();
    for (const gone of ['Erin Erasure', 'erin@example.com', 'Sam Session', 'sam@example.com'])
      expect(text.toLowerCase(), gone).not.toContain(gone.toLowerCase());
    expect(await accounting(pi)).toEqual(before);
    expect((await chat('era-3', 'hello')).currentField).toBe('name');

    expect((await admin('/payments/erasures', { email: 'nobody@example.com' })).json()).toEqual({
      erased: 0,
      deleted: 0,
    });
    for (const bad of [{}, { email: 'not an email' }, { sessionId: 'x', email: 'a@example.com' }])
      expect((await admin('/payments/erasures', bad)).statusCode, JSON.stringify(bad)).toBe(400);
    const unauthorised = await running.service.app.inject({
      method: 'POST',
      url: '/payments/erasures',
      payload: { email: 'nina@example.com' },
    });
    expect(unauthorised.statusCode).toBe(401);
  });

  it('lists sessions for the console, newest first, paged by cursor, with payments and refunds and no card data', async () => {
    const pi = await paidConversation('list-paid', 'Lia List', 'lia@example.com', '$12');
    const all: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await listSessions(db(), { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      all.push(...page.sessions.map((s) => s.id));
      if (!page.next) break;
      cursor = page.next;
    }
    const [{ count }] = (await db().query<{ count: string }>('select count(*) from chat_sessions')) as [
      { count: string },
    ];
    expect(all).toHaveLength(Number(count));
    expect(new Set(all).size).toBe(all.length);
    expect(all[0]).toBe('list-paid');

    const session = await getSession(db(), 'list-paid');
    expect(session).toMatchObject({
      status: 'completed',
      name: 'Lia List',
      receiptEmail: 'lia@example.com',
      payments: [
        {
          paymentIntentId: pi,
          amountMinor: 1200,
          currency: 'USD',
          status: 'succeeded',
          refundedMinor: 100,
          refunds: [{ amountMinor: 100, status: 'succeeded', reason: 'duplicate' }],
        },
      ],
    });
    // Random ids left out first: a refund's UUID or a Stripe id can hold "4444" by chance (a CI run
    // failed on refund 4ce2fdb1-1df0-4444-...); the card's last four, brand and tokens cannot be there.
    const shown = JSON.stringify(await listSessions(db(), { limit: 200 }))
      .replaceAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
      .replaceAll(/\b(?:pi|re)_[A-Za-z0-9]+/g, '<stripe id>');
    expect(shown).toContain('<stripe id>');
    expect(shown).not.toMatch(/4444|mastercard|ctoken_|pm_|secret/i);
    expect(
      (await listSessions(db(), { status: 'completed', limit: 200 })).sessions.every(
        (s) => s.status === 'completed',
      ),
    ).toBe(true);
    await expect(listSessions(db(), { cursor: 'garbage' })).rejects.toMatchObject({ code: 'invalid_input' });
    // The same over HTTP, behind the admin token.
    const get = (url: string, headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` }) =>
      running.service.app.inject({ method: 'GET', url, headers });
    const first = await get('/payments/sessions?limit=1');
    expect(first.statusCode).toBe(200);
    expect(first.json().sessions.map((s: { id: string }) => s.id)).toEqual(['list-paid']);
    const next = await get(`/payments/sessions?limit=1&cursor=${first.json().next}`);
    expect(next.json().sessions[0].id).not.toBe('list-paid');
    expect((await get('/payments/sessions/list-paid')).json()).toMatchObject({
      id: 'list-paid',
      name: 'Lia List',
    });
    expect((await get('/payments/sessions/none-such')).statusCode).toBe(404);
    expect((await get('/payments/sessions?cursor=garbage')).statusCode).toBe(400);
    expect((await get('/payments/sessions', {})).statusCode).toBe(401);
    expect(await getSession(db(), 'no-such-session')).toBeNull();
  });
});
