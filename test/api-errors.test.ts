// What an API client gets for requests the service cannot serve: the status, the stable code and
// a message saying what is wrong, in the one error envelope, never a stack trace or a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicesApp } from '../src/apps/invoices/app.ts';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { startTestService, type TestService } from './helpers/service.ts';

describe('API requests the service refuses', () => {
  let running: TestService;
  beforeAll(async () => {
    // No Stripe and no SendGrid verification key: their webhooks are not configured.
    running = await startTestService('pglite', { apps: [invoicesApp, createPaymentsApp()] });
  });
  afterAll(() => running?.dispose());

  async function refused(request: {
    method: 'GET' | 'POST';
    url: string;
    headers?: Record<string, string>;
    payload?: string;
  }) {
    const response = await running.service.app.inject(request);
    const body = response.json();
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.requestId).toEqual(expect.any(String));
    expect(response.body).not.toMatch(/\n\s+at /);
    return { status: response.statusCode, code: body.error.code, message: body.error.message };
  }

  it('an invoice that does not exist: 404 not_found naming it', async () => {
    expect(await refused({ method: 'GET', url: '/invoices/INV-missing-1' })).toEqual({
      status: 404,
      code: 'not_found',
      message: 'Invoice INV-missing-1 not found',
    });
  });

  it('an outbox page cursor the API never returned: 400, whatever its shape', async () => {
    for (const before of ['not-a-cursor', Buffer.from('2026-01-01T00:00:00Z|42').toString('base64url')]) {
      expect(await refused({ method: 'GET', url: `/outbox?before=${before}` })).toEqual({
        status: 400,
        code: 'invalid_input',
        message: '`before` is not a cursor this API returned',
      });
    }
  });

  it('a Stripe webhook when Stripe is not configured: 404 naming the variable', async () => {
    expect(
      await refused({
        method: 'POST',
        url: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
        payload: '{"id":"evt_1","type":"payment_intent.succeeded"}',
      }),
    ).toEqual({
      status: 404,
      code: 'not_found',
      message: 'Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)',
    });
  });

  it('a SendGrid event webhook without a verification key: 404 naming the variable', async () => {
    expect(
      await refused({
        method: 'POST',
        url: '/webhooks/sendgrid/events',
        headers: { 'content-type': 'application/json' },
        payload: '[{"event":"delivered","sg_message_id":"x"}]',
      }),
    ).toEqual({
      status: 404,
      code: 'not_found',
      message: 'SendGrid event verification is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY)',
    });
  });
});
