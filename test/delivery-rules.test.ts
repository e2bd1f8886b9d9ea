import { afterEach, describe, expect, it } from 'vitest';
import { nextSendTime, parseWindow } from '../src/platform/channels/sms/quiet-hours.ts';
import { type DatabaseKind, databaseKinds } from './helpers/databases.ts';
import { type Providers, startProviders } from './helpers/providers.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(
  env: Record<string, string>,
  kind: DatabaseKind = 'pglite',
): Promise<{ providers: Providers; running: TestService }> {
  const providers = await startProviders();
  cleanups.push(() => providers.close());
  const running = await startTestService(kind, { env: { ...providers.env, ...env } });
  cleanups.push(() => running.dispose());
  return { providers, running };
}

/** A fixed-offset zone where the local hour is now between 00:00 and 06:00, outside 08:00-21:00. */
function zoneInTheNight(): string {
  const utcHour = new Date().getUTCHours();
  for (let offset = -12; offset <= 14; offset++) {
    const local = (utcHour + offset + 24) % 24;
    // Etc/GMT+N is UTC-N (the sign is inverted by POSIX convention).
    if (local >= 1 && local <= 5)
      return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  }
  throw new Error('no zone found');
}

// The counter lives in memory (PGlite: one process), in PostgreSQL, or in Redis when configured.
const pacingStores: Array<[string, DatabaseKind, Record<string, string>]> = [
  ['memory', 'pglite', {}],
  ['redis', 'pglite', { REDIS_URL: 'redis://127.0.0.1:6379' }],
  ...(databaseKinds.includes('postgres')
    ? [['postgres', 'postgres', {}] as [string, DatabaseKind, Record<string, string>]]
    : []),
];

describe.each(pacingStores)('pacing with the %s store', (store, kind, storeEnv) => {
  it('sends at most SMS_SEGMENTS_PER_SECOND segments per second from one sender', async () => {
    const { providers, running } = await start({ SMS_SEGMENTS_PER_SECOND: '2', ...storeEnv }, kind);
    expect(running.logs.text()).toContain(`"pacing":"${store}"`);
    for (let i = 0; i < 6; i++) {
      await running.service.channels.enqueue({
        dedupeKey: `pace:${i}`,
        channel: 'sms',
        to: `+1415555030${i}`,
        content: { body: `message ${i}` },
      });
    }
    await waitFor('six messages', () => providers.twilio.sentMessages.length === 6, 30_000);
    const times = providers.twilio.requests
      .filter((r) => r.method === 'POST')
      .map((r) => r.receivedAt.getTime());
    // Six one-segment messages at two per second take three windows, the last pair two seconds after
    // the first; unpaced they would arrive within a few hundred ms. The margin absorbs a late first pair.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(1400);
  });

  it('counts a multi-segment message as that many segments', async () => {
    const { providers, running } = await start({ SMS_SEGMENTS_PER_SECOND: '3', ...storeEnv }, kind);
    const long = 'word '.repeat(60); // 300 GSM-7 characters: 2 segments
    for (let i = 0; i < 3; i++) {
      await running.service.channels.enqueue({
        dedupeKey: `pace-long:${i}`,
        channel: 'sms',
        to: `+1415555031${i}`,
        content: { body: long },
      });
    }
    await waitFor('three messages', () => providers.twilio.sentMessages.length === 3, 30_000);
    const times = providers.twilio.requests
      .filter((r) => r.method === 'POST')
      .map((r) => r.receivedAt.getTime());
    // 6 segments at 3 per second: the last message waits for the second window (margin as above).
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(700);
  });
});

describe('quiet hours', () => {
  it('holds an SMS due at night in the recipient’s zone until the window opens', async () => {
    const { providers, running } = await start({ QUIET_HOURS_ENABLED: 'true', QUIET_HOURS: '08:00-21:00' });
    const zone = zoneInTheNight();
    const before = new Date();
    const result = await running.service.channels.enqueue({
      dedupeKey: 'quiet:1',
      channel: 'sms',
      to: '+14155550400',
      content: { body: 'good morning' },
      timeZone: zone,
    });
    const [row] = await running.service.db.query<{ status: string; send_after: Date }>(
      'select status, send_after from outbox_messages where id = $1',
      [result.id],
    );
    expect(row?.status).toBe('queued');
    const expected = nextSendTime(before, zone, parseWindow('08:00-21:00'));
    expect(Math.abs((row?.send_after.getTime() ?? 0) - expected.getTime())).toBeLessThan(60_000);
    expect(row!.send_after.getTime()).toBeGreaterThan(Date.now() + 60 * 60 * 1000);
    // Quiet hours are an SMS rule: an email enqueued now goes out now.
    await running.service.channels.enqueue({
      dedupeKey: 'quiet:email',
      channel: 'email',
      to: 'night@example.com',
      content: { subject: 's', text: 't' },
      timeZone: zone,
    });
    await waitFor('the email', () => providers.sendgrid.sentMessages.length === 1);
    expect(providers.twilio.sentMessages).toHaveLength(0);
  });

  it('sends at once inside the window', async () => {
    const { providers, running } = await start({ QUIET_HOURS_ENABLED: 'true', QUIET_HOURS: '00:00-24:00' });
    await running.service.channels.enqueue({
      dedupeKey: 'quiet:2',
      channel: 'sms',
      to: '+14155550401',
      content: { body: 'now' },
      timeZone: zoneInTheNight(),
    });
    await waitFor('the SMS', () => providers.twilio.sentMessages.length === 1);
  });
});
