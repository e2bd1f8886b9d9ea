// PayBot's console past its first screen (the real service with PayBot, PGlite): empty states,
// sessions and payments each paged 50 at a time, a completed session with its Stripe ids and its
// refunds as Stripe reported them, an erased customer, and error pages for a bad filter, a cursor
// the console did not give and an unknown session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { type ConsoleSession, openConsole, text } from './helpers/console.ts';
import { startTestService, type TestService } from './helpers/service.ts';

describe('the PayBot console', () => {
  let running: TestService;
  let operator: ConsoleSession;
  const db = () => running.service.db;
  /** Sessions as the dialog stores them, a minute apart (the newest last). */
  const sessions = (prefix: string, n: number, state: Record<string, unknown>, status = 'collecting') =>
    db().query(
      `insert into chat_sessions (id, state, status, created_at, updated_at, expires_at)
       select $1 || g, $2::jsonb, $3, now() - ((1000 - g) * interval '1 minute'), now(), now() + interval '1 day'
         from generate_series(1, $4::int) g`,
      [prefix, JSON.stringify({ status, attempt: 1, retries: 0, ...state }), status, n],
    );

  beforeAll(async () => {
    running = await startTestService('pglite', { apps: [createPaymentsApp()] });
    operator = await openConsole(running.service.app);
  });
  afterAll(() => running?.dispose());

  it('says so when there are no sessions and no payments', async () => {
    const page = text(await operator.page('/console/paybot'));
    expect(page).toContain('No chat sessions yet.');
    expect(page).toContain('No payments yet.');
    expect(page).not.toContain('Older sessions');
  });

  it('pages sessions and payments 50 at a time, keeping the other list’s place', async () => {
    await sessions('paged-', 53, { currentField: 'name' });
    await db().query(
      `insert into payment_attempts (idempotency_key, session_id, payment_intent_id, amount_minor, currency, status, created_at)
       select 'paybot:paged-1:' || g, 'paged-1', 'pi_paged_' || g, 100 * g, 'USD', 'succeeded', now() - (g * interval '1 minute')
         from generate_series(1, 52) g`,
    );
    const first = await operator.page('/console/paybot');
    expect(text(first)).toContain('paged-53 collecting name');
    expect(text(first)).not.toContain('paged-3 ');
    expect(text(first)).toContain('pi_paged_1 ');
    expect(text(first)).not.toContain('pi_paged_51 ');
    const olderSessions = /href="([^"]+)" rel="next">Older sessions/.exec(first)?.[1]?.replace(/&amp;/g, '&');
    const secondSessions = text(await operator.page(olderSessions as string));
    expect(secondSessions).toContain('paged-3 collecting');
    expect(secondSessions).toContain('paged-1 collecting');
    expect(secondSessions).not.toContain('paged-4 ');
    const olderPayments = /href="([^"]+)" rel="next">Older payments/.exec(first)?.[1]?.replace(/&amp;/g, '&');
    expect(olderPayments).toContain('paymentsBefore=');
    const secondPayments = text(await operator.page(olderPayments as string));
    expect(secondPayments).toContain('pi_paged_51 ');
    expect(secondPayments).toContain('pi_paged_52 ');
    expect(secondPayments).not.toContain('pi_paged_50 ');
    expect(secondPayments).not.toContain('Older payments');
    // Filtered: only the handed-off ones, and there are none of those here.
    expect(text(await operator.page('/console/paybot?status=error'))).toContain('No chat sessions yet.');
  });

  it('shows a completed session with its Stripe ids, payment and refunds; an erased one without a name', async () => {
    await db().query(
      `insert into chat_sessions (id, state, status, payment_intent_id, checkout_session_id, expires_at)
       values ('done-1', $1::jsonb, 'completed', 'pi_done_1', 'cs_done_1', now() + interval '1 day')`,
      [
        JSON.stringify({
          status: 'completed',
          currentField: 'done',
          name: 'Dana Done',
          amountMinor: 2500,
          currency: 'EUR',
          invoiceId: 'INV-9',
          chargeStatus: 'succeeded',
          attempt: 2,
          retries: 0,
        }),
      ],
    );
    await db().query(
      `insert into payment_attempts (idempotency_key, session_id, payment_intent_id, amount_minor, currency, invoice_id, status, error, refunded_minor)
       values ('paybot:done-1:1', 'done-1', 'pi_done_0', 2500, 'EUR', 'INV-9', 'failed', 'Your card was declined.', 0),
              ('paybot:done-1:2', 'done-1', 'pi_done_1', 2500, 'EUR', 'INV-9', 'succeeded', null, 1500)`,
    );
    await db().query(
      `insert into payment_refunds (payment_intent_id, amount_minor, currency, reason, status, failure_reason, idempotency_key, stripe_refund_id, source)
       values ('pi_done_1', 1000, 'EUR', 'requested_by_customer', 'succeeded', null, 'paybot:refund:a', 're_done_1', 'api'),
              ('pi_done_1', 500, 'EUR', null, 'requested', null, 'paybot:refund:b', null, 'stripe'),
              ('pi_done_1', 700, 'EUR', 'duplicate', 'failed', 'charge_disputed', 'paybot:refund:c', 're_done_3', 'api')`,
    );
    const page = text(await operator.page('/console/paybot/sessions/done-1'));
    expect(page).toMatch(
      /Status completed Current field done Name Dana Done Amount €25\.00 Invoice INV-9 Card not yet Charge status succeeded Attempt 2/,
    );
    expect(page).toMatch(/PaymentIntent pi_done_1 Checkout Session cs_done_1/);
    expect(page).toMatch(/paybot:done-1:1 failed Your card was declined\./);
    expect(page).toMatch(/pi_done_1 re_done_1 €10\.00 succeeded requested_by_customer api/);
    expect(page).toMatch(/pi_done_1 not yet at Stripe €5\.00 requested stripe/);
    expect(page).toMatch(/re_done_3 €7\.00 failed duplicate api charge_disputed/);
    expect(page).not.toContain('PayBot handed this customer to a person');

    // Erased by the retention job: the name is gone from the state, the row stays.
    await db().query(
      `insert into chat_sessions (id, state, status, expires_at, erased_at)
       values ('erased-1', '{"status":"collecting","currentField":"amount","attempt":1,"retries":0}', 'collecting', now(), now())`,
    );
    expect(text(await operator.page('/console/paybot'))).toContain('erased-1 collecting amount erased —');
    const erased = text(await operator.page('/console/paybot/sessions/erased-1'));
    expect(erased).toMatch(/Name — Amount — Invoice — Card not yet/);
    expect(erased).toContain('No refunds.');
    expect(erased).toContain('No payments yet.');
  });

  it('answers a bad filter or cursor with 400 and an unknown session with 404', async () => {
    const status = await operator.get('/console/paybot?status=paid');
    expect(status.statusCode).toBe(400);
    expect(text(status.body)).toContain('Status paid is not one of collecting, confirming, completed, error');
    for (const cursor of ['yesterday', 'not-a-date|x', `${new Date().toISOString()}|`]) {
      const response = await operator.get(`/console/paybot?paymentsBefore=${encodeURIComponent(cursor)}`);
      expect(response.statusCode, cursor).toBe(400);
      expect(text(response.body)).toContain('This page link’s cursor is not one the console gave');
    }
    expect((await operator.get('/console/paybot?before=garbage')).statusCode).toBe(400);
    const unknown = await operator.get('/console/paybot/sessions/nobody-here');
    expect(unknown.statusCode).toBe(404);
    expect(text(unknown.body)).toContain('PayBot session nobody-here');
    expect((await operator.get(`/console/paybot/sessions/${encodeURIComponent('bad id!')}`)).statusCode).toBe(
      404,
    );
  });
});
