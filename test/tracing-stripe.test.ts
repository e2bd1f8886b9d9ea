// Stripe calls as spans: the SDK's own HTTP client wrapped when tracing is on (PayBot's one seam to
// Stripe), against the Stripe fake, exported to a local OTLP receiver. In its own file: tracing is
// process-wide, and vitest gives each file a process of its own.
import { afterAll, describe, expect, it } from 'vitest';
import { cardFromConfirmationToken, createStripe } from '../src/apps/payments/stripe-gateway.ts';
import { loadConfig } from '../src/config.ts';
import { startTracing } from '../src/platform/tracing/tracing.ts';
import { startFakeStripe } from './fakes/stripe.ts';
import { captureLogs } from './helpers/logs.ts';
import { startOtlpReceiver } from './helpers/otlp-receiver.ts';

describe('Stripe calls with tracing on', () => {
  const receiver = startOtlpReceiver();
  const fake = startFakeStripe();
  afterAll(async () => {
    await (await receiver).close();
    await (await fake).http.close();
  });

  it('are CLIENT spans with the method, path, status and idempotency key, and nothing of the body', async () => {
    const collector = await receiver;
    const stripeFake = await fake;
    const config = loadConfig({ ...stripeFake.env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    const tracing = await startTracing(config.tracing, { log: captureLogs('warn').log, mode: 'test' });
    const stripe = await createStripe(config.payments.stripe, 5000);
    if (!stripe) throw new Error('no Stripe client');
    const token = stripeFake.createConfirmationToken();
    expect(await cardFromConfirmationToken(stripe, token)).toMatchObject({ last4: '4242' });
    await stripe.paymentIntents.create(
      {
        amount: 494880,
        currency: 'usd',
        confirm: true,
        confirmation_token: token,
        return_url: 'https://x.test',
      },
      { idempotencyKey: 'paybot:trace-test:charge:1' },
    );
    await tracing.shutdown(); // exports what is buffered

    const spans = collector.spans.filter((s) => s.name.startsWith('stripe '));
    expect(
      spans.map((s) => [s.name, s.kind, s.attributes['url.path'], s.attributes['http.response.status_code']]),
    ).toEqual([
      ['stripe GET', 3, `/v1/confirmation_tokens/${token}`, 200],
      ['stripe POST', 3, '/v1/payment_intents', 200],
    ]);
    expect(spans[1]?.attributes['stripe.idempotency_key']).toBe('paybot:trace-test:charge:1');
    expect(JSON.stringify(spans)).not.toContain('494880');
  });
});
