// The SendGrid driver builds Mail Send's JSON itself (mailSendBody) instead of through
// @sendgrid/mail's helpers, which cost a busy worker more CPU than anything else per email. What
// SendGrid receives must not change: for generated messages, the body the fake SendGrid got from the
// driver equals the body @sendgrid/mail's MailService builds for the same message.
import sendgridMail from '@sendgrid/mail';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendGridDriver } from '../src/platform/channels/email/sendgrid-driver.ts';
import type { OutboxRow } from '../src/platform/channels/schema.ts';
import { type FakeSendGrid, startFakeSendGrid } from './fakes/sendgrid.ts';

const API_KEY = 'SG.test-key.for-the-fake';
const { MailService } = sendgridMail as unknown as { MailService: new () => typeof sendgridMail };

/** The body @sendgrid/mail would POST for this message (the SDK's own path, with a capturing client). */
async function sdkBody(data: Parameters<typeof sendgridMail.send>[0]): Promise<unknown> {
  const mail = new MailService();
  let body: unknown;
  mail.setClient({
    request: async (request: { body: unknown }) => {
      body = request.body;
      return [{ statusCode: 202, body: '', headers: {} }, ''];
    },
  } as never);
  await mail.send(data);
  // As it goes over the wire.
  return JSON.parse(JSON.stringify(body));
}

describe('the SendGrid driver', () => {
  let sendgrid: FakeSendGrid;
  beforeAll(async () => {
    sendgrid = await startFakeSendGrid({ apiKey: API_KEY });
  });
  afterAll(() => sendgrid.close());

  it('sends the Mail Send body @sendgrid/mail would build, for generated messages', async () => {
    // Any text, including characters outside the BMP and JSON's escapes; names as people write them.
    const text = fc.string({ unit: 'grapheme', maxLength: 200 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          id: fc.uuid(),
          recipient: fc.emailAddress(),
          from: fc.emailAddress(),
          fromName: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), {
            nil: undefined,
          }),
          subject: text.filter((s) => s.length > 0),
          text: text.filter((s) => s.length > 0),
          html: fc.option(
            text.map((s) => `<p>${s}</p>`),
            { nil: undefined },
          ),
        }),
        async (m) => {
          const from = { email: m.from, ...(m.fromName ? { name: m.fromName } : {}) };
          const driver = createSendGridDriver(
            { driver: 'sendgrid', apiKey: API_KEY, baseUrl: sendgrid.url, from } as never,
            { timeoutMs: 5000 },
          );
          const content = { subject: m.subject, text: m.text, ...(m.html ? { html: m.html } : {}) };
          await driver.send({
            id: m.id,
            channel: 'email',
            recipient: m.recipient,
            content,
          } as unknown as OutboxRow);
          const received = sendgrid.sentMessages.at(-1);
          expect(received?.body).toEqual(
            await sdkBody({
              to: m.recipient,
              from,
              subject: m.subject,
              text: m.text,
              ...(m.html ? { html: m.html } : {}),
              customArgs: { outbox_id: m.id },
            }),
          );
          expect(received?.recipients).toEqual([m.recipient]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
