import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxRow } from '../src/platform/channels/schema.ts';
import { type FakeTwilio, startFakeTwilio } from './fakes/twilio.ts';
import { TWILIO_SID, TWILIO_TOKEN, twilioDriverAt } from './helpers/providers.ts';

const row = (to: string, body: string): OutboxRow =>
  ({ id: crypto.randomUUID(), recipient: to, content: { body }, channel: 'sms' }) as unknown as OutboxRow;

describe('the Twilio driver reading back what was sent', () => {
  let twilio: FakeTwilio;
  beforeAll(async () => {
    twilio = await startFakeTwilio({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
  });
  afterAll(() => twilio.close());
  const driver = () => twilioDriverAt(twilio.url);

  it('finds a message however many were sent to the same number after it', async () => {
    const to = '+14155550777';
    const since = new Date(Date.now() - 1000);
    const target = row(to, 'the one whose answer was lost');
    const { providerId } = await driver().send(target);
    for (let i = 0; i < 260; i++) await driver().send(row(to, `later message ${i}`));
    expect(await driver().findSent!(target, since)).toEqual([{ providerId }]);
    // It pages: 261 messages to one number cannot come back in one page of 200.
    expect(twilio.requests.filter((r) => r.method === 'GET').length).toBeGreaterThan(1);
  });

  it('stops at messages older than the attempt and ignores other bodies', async () => {
    const to = '+14155550778';
    await driver().send(row(to, 'same text'));
    const since = new Date(Date.now() + 61_000); // the earlier one predates the attempt (beyond the skew allowance)
    expect(await driver().findSent!(row(to, 'same text'), since)).toEqual([]);
    expect(await driver().findSent!(row(to, 'other text'), new Date(0))).toEqual([]);
  });
});
