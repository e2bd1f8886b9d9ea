// The /pay web chat in a real browser (Debian chromium through playwright-core): the page's own
// code talks to POST /chat, mounts the (fake) Stripe.js Payment Element inside the conversation,
// sends back a ConfirmationToken and confirms. Stripe.js cannot load here (no internet), so
// STRIPE_JS_URL points at the Stripe fake, which serves a tiny stand-in for the calls the page makes.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('/pay in chromium', () => {
  let stripe: FakeStripe;
  let running: TestService;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    stripe = await startFakeStripe();
    running = await startTestService('pglite', {
      apps: [createPaymentsApp()],
      env: {
        ...stripe.env,
        PAYMENTS_CARD_MODE: 'embedded',
        CHAT_API_KEYS: 'server-side-key-not-in-the-page',
      },
    });
    url = await running.service.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await running?.dispose();
    await stripe?.close();
  });

  it('pays an invoice: name, the Payment Element in the chat, the ConfirmationToken, the summary, confirm', async () => {
    await running.service.db.query(
      `insert into invoices (id, vendor_name, total_minor, currency, matched_status) values ('INV-77', 'Acme', 2599, 'USD', 'APPROVED')`,
    );
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${url}/pay?invoice=INV-77`);
    const log = page.locator('#log');
    await expect.poll(() => log.textContent()).toContain('Invoice INV-77: $25.99');

    await page.fill('#text', 'Jane Doe');
    await page.press('#text', 'Enter');
    const element = page.locator('[data-fake-stripe-element="payment"]');
    await element.waitFor();
    expect(await element.textContent()).toContain('2599 usd');
    // No input of the page itself takes card data: the only text input is the chat box.
    expect(await page.locator('input').count()).toBe(1);

    await page.click('text=Use this card');
    await expect.poll(() => log.textContent()).toContain('Visa ending in 4242 (expires 12/30)');

    await page.fill('#text', 'yes');
    await page.press('#text', 'Enter');
    await expect.poll(() => log.textContent()).toContain('being confirmed by Stripe');
    const intent = stripe.paymentIntents.at(-1);
    expect(intent).toMatchObject({ amount: 2599, currency: 'usd', status: 'succeeded' });
    expect(intent?.metadata.invoice_id).toBe('INV-77');
    expect(problems).toEqual([]);
    await page.close();
  });
});
