// The /pay web chat in a real browser (Debian chromium through playwright-core), at a phone's width
// and at 1280 px: the page's own code talks to POST /chat (as server-sent events), mounts the (fake)
// Stripe.js Payment Element inside the conversation after saying what is being paid, sends back a
// ConfirmationToken and confirms; the signed webhook settles the payment and the page shows its
// receipt. Also the typing state, a network failure and its "Try again", the merchant's brand, and
// axe-core (from npm, injected into the page) finding no serious or critical violation. Stripe.js
// cannot load here (no internet), so STRIPE_JS_URL points at the Stripe fake, which serves a tiny
// stand-in for the calls the page makes. Screenshots go to .cache/pay-screenshots/.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsApp } from '../src/apps/payments/app.ts';
import { contrast, textOn } from '../src/apps/payments/pay-brand.ts';
import { type FakeStripe, startFakeStripe } from './fakes/stripe.ts';
import { CHROMIUM, launchChromium, seriousViolations } from './helpers/browser.ts';
import { startTestService, type TestService } from './helpers/service.ts';

/** Conditions are waited for, with room for a loaded machine (two cores shared by several runs). */
const POLL = { timeout: 30_000 };
/** A 1x1 PNG: the merchant's logo. */
const LOGO_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const SCREENSHOTS = path.resolve('.cache/pay-screenshots');
const WIDTHS = [
  { name: 'phone', width: 375, height: 740 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;

describe('the brand colours', () => {
  it('puts black or white text on any colour, whichever passes WCAG AA', () => {
    for (const colour of [
      '#1d4ed8',
      '#0f766e',
      '#facc15',
      '#ffffff',
      '#000000',
      '#777777',
      '#f8fafc',
      '#e11d48',
    ])
      expect(contrast(colour, textOn(colour)), colour).toBeGreaterThanOrEqual(4.5);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('/pay in chromium', () => {
  let stripe: FakeStripe;
  let running: TestService;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stripe = await startFakeStripe();
    running = await startTestService('pglite', {
      apps: [createPaymentsApp()],
      env: {
        ...stripe.env,
        PAYMENTS_CARD_MODE: 'embedded',
        CHAT_API_KEYS: 'server-side-key-not-in-the-page',
        PAYMENTS_BRAND_NAME: 'Acme Water',
        PAYMENTS_BRAND_COLOR: '#0f766e',
        PAYMENTS_BRAND_BACKGROUND_COLOR: '#f0fdfa',
        // On another origin than the page, so the CSP must name it (the browser serves it from the test).
        PAYMENTS_BRAND_LOGO: `${stripe.url}/logo.png`,
      },
    });
    url = await running.service.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await running?.dispose();
    await stripe?.close();
  });

  for (const size of WIDTHS) {
    it(`pays an invoice at ${size.width} px: greeting, what is paid, the Payment Element, confirm, the receipt`, async () => {
      const invoice = `INV-77-${size.name.toUpperCase()}`;
      await running.service.db.query(
        `insert into invoices (id, vendor_name, total_minor, currency, matched_status) values ($1, 'Acme', 2599, 'USD', 'APPROVED')`,
        [invoice],
      );
      const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));

      // The first answer waits until the test has seen the greeting and the typing state.
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route('**/chat', async (route) => {
        await held;
        await route.continue();
      });
      await page.route('**/logo.png', (route) =>
        route.fulfill({ contentType: 'image/png', body: Buffer.from(LOGO_PNG, 'base64') }),
      );
      await page.goto(`${url}/pay?invoice=${invoice}`);
      const log = page.locator('#log');
      expect(await log.textContent()).toContain(
        `Hi! I'm Acme Water's payment assistant. Let's pay invoice ${invoice}`,
      );
      await page.locator('#typing').waitFor({ state: 'visible' });
      expect(await page.locator('#typing').textContent()).toBe('Acme Water is typing…');
      expect(await page.locator('#send').isDisabled()).toBe(true);
      expect(await page.locator('h1').textContent()).toBe('Acme Water');
      // The logo loaded: the page's CSP allows its origin.
      await expect
        .poll(() => page.evaluate("document.querySelector('.brand img').naturalWidth"), POLL)
        .toBe(1);
      release();
      await expect.poll(() => log.textContent(), POLL).toContain(`Invoice ${invoice}: $25.99`);
      await page.locator('#typing').waitFor({ state: 'hidden' });
      await page.screenshot({ path: path.join(SCREENSHOTS, `${size.name}-1-greeting.png`), fullPage: true });

      // Keyboard only: the message box has the focus after each answer; Enter sends.
      await expect
        .poll(() => page.evaluate('document.activeElement && document.activeElement.id'), POLL)
        .toBe('text');
      await page.keyboard.type('Jane Doe, jane@example.com');
      await page.keyboard.press('Enter');
      const element = page.locator('[data-fake-stripe-element="payment"]');
      await element.waitFor();
      expect(await element.textContent()).toContain('2599 usd');
      // What is paid, and for what, before any card is asked for.
      const step = page.locator('.card-step').last();
      expect(await step.locator('.purpose').textContent()).toBe(`You are paying$25.99Invoice ${invoice}`);
      // No input of the page itself takes card data: the only text input is the chat box.
      expect(await page.locator('input').count()).toBe(1);
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${size.name}-2-card-step.png`), fullPage: true });
      expect(await seriousViolations(page)).toEqual([]);

      await page.getByRole('button', { name: 'Use this card' }).focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => log.textContent(), POLL).toContain('Visa ending in 4242 (expires 12/30)');
      expect(await log.textContent()).toContain('Receipt by email to jane@example.com');

      await page.fill('#text', 'yes');
      await page.press('#text', 'Enter');
      await expect.poll(() => log.textContent(), POLL).toContain('being confirmed by Stripe');
      expect(await log.textContent()).toContain('Stripe will email your receipt to jane@example.com');
      const intent = stripe.paymentIntents.at(-1);
      expect(intent).toMatchObject({
        amount: 2599,
        currency: 'usd',
        status: 'succeeded',
        receipt_email: 'jane@example.com',
      });
      expect(intent?.metadata.invoice_id).toBe(invoice);

      // Stripe's webhook settles it; the page, asking quietly, shows the receipt.
      const { body, signature } = stripe.signEvent('payment_intent.succeeded', intent as object);
      const delivered = await running.service.app.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        payload: body,
      });
      expect(delivered.statusCode).toBe(200);
      const receipt = page.locator('#receipt');
      await receipt.waitFor({ state: 'visible' });
      const text = (await receipt.textContent()) ?? '';
      for (const part of [
        'Payment received',
        '$25.99',
        `Invoice ${invoice}`,
        'jane@example.com',
        intent?.id as string,
      ])
        expect(text).toContain(part);
      expect(await page.locator('#say').isHidden()).toBe(true);
      expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('receipt');
      await page.screenshot({ path: path.join(SCREENSHOTS, `${size.name}-3-receipt.png`), fullPage: true });
      expect(await seriousViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
      await context.close();
    }, 120_000);
  }

  it('a lost request shows what happened and "Try again" sends it again', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    await page.goto(`${url}/pay`);
    const log = page.locator('#log');
    await expect.poll(() => log.textContent(), POLL).toContain('What is your full name?');
    await page.route('**/chat', (route) => route.abort('connectionreset'), { times: 1 });
    await page.fill('#text', 'Ann Lee');
    await page.press('#text', 'Enter');
    const problem = page.locator('#problem');
    await problem.waitFor({ state: 'visible' });
    expect(await problem.textContent()).toContain('Could not reach the server');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'phone-4-error.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.click('#retry');
    await expect.poll(() => log.textContent(), POLL).toContain('Thanks, Ann Lee.');
    expect(await problem.isHidden()).toBe(true);
    await context.close();
  }, 120_000);
});
