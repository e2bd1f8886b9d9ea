// CreditBot's plain functions: link extraction, the built-in formula and its rounding, money in
// replies, Slack request signatures and permalinks (the notebook summary reader: credits-notebook-summary.test.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtinCredit, roundHalfUp, toMicros } from '../src/apps/credits/calculators/builtin.ts';
import { type CreditSummary, replyText } from '../src/apps/credits/compute.ts';
import { MAX_CORRECTED_CENTS, parseDollars } from '../src/apps/credits/correction.ts';
import { requestOf } from '../src/apps/credits/intake.ts';
import { extractLookerLinks } from '../src/apps/credits/links.ts';
import { threadReply } from '../src/apps/credits/process.ts';
import { detectProduct } from '../src/apps/credits/product.ts';
import { parsePermalink } from '../src/apps/credits/service.ts';
import { loadConfig } from '../src/config.ts';
import { checkSlackSignature, slackSignature } from '../src/platform/channels/webhooks/slack-signature.ts';
import { formatMoney } from '../src/platform/money.ts';

const HOST = 'example.cloud.looker.com';
const RATES = { off: 0, basic: 4160, standard: 6500, maximum: 8500 };

describe('Looker links', () => {
  it('finds Looks, Explores with qid and short links on the configured host only', () => {
    const text = [
      'Please credit <https://example.cloud.looker.com/looks/42|the Look> and',
      'https://example.cloud.looker.com/explore/Revenue/counters_by_billable_item?qid=9TZEymaiGzQzGLcFUsvjpR&amp;toggle=fil',
      'plus https://EXAMPLE.cloud.looker.com/x/AbC123xyz.',
      'not https://other.looker.com/looks/7, not https://example.cloud.looker.com/explore/Revenue/counters (no qid),',
      'not https://example.cloud.looker.com/dashboards/5, and the Look again: https://example.cloud.looker.com/looks/42',
      'embedded: https://example.cloud.looker.com/embed/looks/43',
    ].join(' ');
    expect(extractLookerLinks(text, HOST)).toEqual([
      { kind: 'look', url: 'https://example.cloud.looker.com/looks/42', lookId: '42' },
      {
        kind: 'explore',
        url: 'https://example.cloud.looker.com/explore/Revenue/counters_by_billable_item?qid=9TZEymaiGzQzGLcFUsvjpR&toggle=fil',
        model: 'Revenue',
        view: 'counters_by_billable_item',
        slug: '9TZEymaiGzQzGLcFUsvjpR',
      },
      { kind: 'short', url: 'https://example.cloud.looker.com/x/AbC123xyz', slug: 'AbC123xyz' },
      { kind: 'look', url: 'https://example.cloud.looker.com/embed/looks/43', lookId: '43' },
    ]);
    expect(extractLookerLinks('no links here', HOST)).toEqual([]);
  });

  it('detects Verify by the configured patterns, PSMS otherwise', () => {
    const patterns = [/authy/i];
    expect(detectProduct("where product = 'Authy Verify'", patterns)).toBe('verify');
    expect(detectProduct("where product = 'Programmable SMS'", patterns)).toBe('psms');
    expect(detectProduct('verify_sid is not null', [/authy/i, /verify_sid/])).toBe('verify');
  });
});

describe('which messages are requests', () => {
  const config = {
    channels: ['C1'],
    lookerHost: HOST,
    accept: { botMessages: false, threadReplies: false, edits: false },
  };
  const text = `credit https://${HOST}/looks/1`;
  it('takes plain posts with a link in watched channels, and nothing else unless configured', () => {
    expect(requestOf(config, 'C1', { ts: '1.000001', text })).toEqual({
      channel: 'C1',
      ts: '1.000001',
      text,
    });
    expect(requestOf(config, 'C2', { ts: '1.000001', text })).toEqual({
      ignored: 'channel C2 is not watched',
    });
    expect(requestOf(config, 'C1', { ts: '1.000001', text: 'hello' })).toEqual({ ignored: 'no Looker link' });
    expect(requestOf(config, 'C1', { ts: '1.000001', text, bot_id: 'B1' })).toEqual({
      ignored: 'a bot message',
    });
    expect(requestOf(config, 'C1', { ts: '1.000002', text, thread_ts: '1.000001' })).toEqual({
      ignored: 'a thread reply',
    });
    // An edit is always read (a message that gains its link is a request for its current text).
    const edit = {
      subtype: 'message_changed',
      event_ts: '1.000009',
      message: { ts: '1.000001', text, edited: { user: 'U1', ts: '1.000008' } },
    };
    expect(requestOf(config, 'C1', edit)).toEqual({
      channel: 'C1',
      ts: '1.000001',
      text,
      edit: { editTs: '1.000008' },
    });
    expect(requestOf(config, 'C1', { subtype: 'channel_join', ts: '1.000001', text })).toEqual({
      ignored: 'a channel_join message',
    });
    const open = { ...config, accept: { botMessages: true, threadReplies: true, edits: true } };
    // A thread reply is answered in its parent's thread.
    expect(requestOf(open, 'C1', { ts: '1.000002', text, thread_ts: '1.000001' })).toEqual({
      channel: 'C1',
      ts: '1.000002',
      threadTs: '1.000001',
      text,
    });
    expect(requestOf(open, 'C1', { ts: '1.000003', text, bot_id: 'B1' })).toMatchObject({ ts: '1.000003' });
  });
});

describe('the built-in calculator', () => {
  it('computes fraud cost, block rate and credit per mode in integer cents', () => {
    const result = builtinCredit(
      [
        {
          'sms_traffic.fraud_guard_mode': 'basic',
          'sms_traffic.msg_count': 20512,
          'sms_traffic.fraud_cost': '4331.1845',
        },
        {
          'sms_traffic.fraud_guard_mode': 'Basic',
          'sms_traffic.msg_count': '15132',
          'sms_traffic.fraud_cost': 3195.1155,
        },
        {
          'sms_traffic.fraud_guard_mode': 'off',
          'sms_traffic.msg_count': 1000,
          'sms_traffic.fraud_cost': '100',
        },
      ],
      RATES,
    );
    expect(result).toEqual({
      creditCents: 439536 + 10000,
      table: [
        {
          mode: 'basic',
          traffic_prop: '0.973',
          msg_count: 35644,
          fraud_cost: 752630,
          block_rate: '0.416',
          credit: 439536,
        },
        {
          mode: 'off',
          traffic_prop: '0.027',
          msg_count: 1000,
          fraud_cost: 10000,
          block_rate: '0',
          credit: 10000,
        },
      ],
    });
  });

  it('rounds half a cent up, once, on the exact value', () => {
    // $0.005 with nothing blocked is half a cent: 1 cent. $0.01 half blocked: half a cent: 1 cent.
    expect(builtinCredit([{ mode: 'off', msg_count: 1, fraud_cost: '0.005' }], RATES).creditCents).toBe(1);
    expect(
      builtinCredit([{ mode: 'half', msg_count: 1, fraud_cost: '0.01' }], { half: 5000 }).creditCents,
    ).toBe(1);
    // Just under half a cent goes down.
    expect(builtinCredit([{ mode: 'off', msg_count: 1, fraud_cost: '0.004999' }], RATES).creditCents).toBe(0);
    // Rounding per row would give 0 + 0 = 0; the exact sum is 0.8 cents: 1.
    expect(
      builtinCredit(
        [
          { mode: 'off', msg_count: 1, fraud_cost: '0.004' },
          { mode: 'off', msg_count: 1, fraud_cost: '0.004' },
        ],
        RATES,
      ).creditCents,
    ).toBe(1);
    expect(roundHalfUp(5n, 10n)).toBe(1n);
    expect(roundHalfUp(4n, 10n)).toBe(0n);
    expect(roundHalfUp(15n, 10n)).toBe(2n);
    expect(roundHalfUp(25n, 10n)).toBe(3n);
  });

  it('reads decimals exactly and refuses what it cannot read', () => {
    expect(toMicros('12.345678', 'x')).toBe(12345678n);
    expect(toMicros(0.1, 'x')).toBe(100000n);
    expect(toMicros('1e3', 'x')).toBe(1000000000n);
    expect(toMicros('3E-6', 'x')).toBe(3n);
    expect(() => toMicros('1.5E-6', 'x')).toThrow(/more than 6 decimals/);
    expect(() => toMicros('0.0000001', 'x')).toThrow(/more than 6 decimals/);
    expect(() => toMicros('-1', 'x')).toThrow(/negative/);
    expect(() => toMicros('abc', 'x')).toThrow(/not a decimal/);
    expect(() => builtinCredit([], RATES)).toThrow(/no rows/);
    expect(() => builtinCredit([{ mode: 'turbo', msg_count: 1, fraud_cost: 1 }], RATES)).toThrow(/turbo/);
    expect(() => builtinCredit([{ mode: 'off', msg_count: 1.5, fraud_cost: 1 }], RATES)).toThrow(/whole/);
  });
});

describe('money in replies', () => {
  const summary = (amountCents: number, extra: Partial<CreditSummary> = {}): CreditSummary => ({
    extractedAt: '',
    links: [],
    product: 'verify',
    calculator: 'builtin',
    table: [],
    amountCents,
    amount: formatMoney(amountCents, 'USD'),
    credited: 1,
    skipped: 0,
    durationMs: 0,
    ...extra,
  });
  it('formats integer cents with thousands separators and exact cents', () => {
    expect(replyText('Approved, {amount}, exceptions', summary(494880))).toBe(
      'Approved, $4,948.80, exceptions',
    );
    expect(replyText('Approved, {amount}, exceptions', summary(5))).toBe('Approved, $0.05, exceptions');
    expect(replyText('{amount}!', summary(123456789012))).toBe('$1,234,567,890.12!');
    expect(replyText('{amount}', summary(100000))).toBe('$1,000.00');
  });
  it('lists skipped links, and says so when nothing was computed', () => {
    const skipped = {
      url: 'u',
      link: 'Look 2',
      queryId: '2',
      product: 'psms' as const,
      calculator: 'none' as const,
      status: 'skipped' as const,
      reason: 'PSMS query: no calculator is configured for PSMS',
      durationMs: 0,
    };
    expect(replyText('Approved, {amount}, exceptions', summary(100, { links: [skipped], skipped: 1 }))).toBe(
      'Approved, $1.00, exceptions\nSkipped Look 2: PSMS query: no calculator is configured for PSMS',
    );
    expect(replyText('x', summary(0, { links: [skipped], credited: 0, skipped: 1 }))).toBe(
      'No credit computed.\nSkipped Look 2: PSMS query: no calculator is configured for PSMS',
    );
  });
});

describe('Slack request signatures', () => {
  // The example from Slack's documentation ("Verifying requests from Slack").
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const timestamp = '1531420618';
  const body =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const documented = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  const at = Number(timestamp) * 1000;
  const headers = (signature: string, ts = timestamp) => ({
    'x-slack-signature': signature,
    'x-slack-request-timestamp': ts,
  });

  it('matches Slack documented vector', () => {
    expect(slackSignature(secret, timestamp, body)).toBe(documented);
    expect(checkSlackSignature(secret, headers(documented), body, at)).toBe('valid');
  });
  it('refuses a wrong signature, a changed body, a missing header and a stale timestamp', () => {
    expect(checkSlackSignature(secret, headers(documented), `${body}x`, at)).toBe('invalid');
    expect(checkSlackSignature('another-secret', headers(documented), body, at)).toBe('invalid');
    expect(checkSlackSignature(secret, headers('v0=abc'), body, at)).toBe('invalid');
    expect(checkSlackSignature(secret, { 'x-slack-signature': documented }, body, at)).toBe('missing');
    expect(checkSlackSignature(secret, headers(documented), body, at + 5 * 60_000)).toBe('valid');
    expect(checkSlackSignature(secret, headers(documented), body, at + 5 * 60_000 + 1000)).toBe('stale');
    expect(checkSlackSignature(secret, headers(documented), body, at - 6 * 60_000)).toBe('stale');
    expect(checkSlackSignature(secret, headers(documented, 'abc'), body, at)).toBe('invalid');
  });
});

describe('permalinks', () => {
  it('reads the channel and ts of a message, and of a thread reply', () => {
    expect(parsePermalink('https://acme.slack.com/archives/C0123ABC/p1700000000123456')).toEqual({
      channel: 'C0123ABC',
      ts: '1700000000.123456',
    });
    expect(
      parsePermalink(
        'https://acme.slack.com/archives/C0123ABC/p1700000001000001?thread_ts=1700000000.123456&cid=C0123ABC',
      ),
    ).toEqual({ channel: 'C0123ABC', ts: '1700000001.000001', threadTs: '1700000000.123456' });
    expect(parsePermalink('https://acme.slack.com/messages/x')).toBeNull();
    expect(parsePermalink('not a url')).toBeNull();
  });
});

describe('credits config', () => {
  it('reads block rates into basis points and refuses bad ones', () => {
    expect(loadConfig({}).credits.blockRates).toEqual(RATES);
    expect(loadConfig({ CREDITS_BLOCK_RATES: 'basic=0.5, Max=1' }).credits.blockRates).toEqual({
      basic: 5000,
      max: 10000,
    });
    expect(() => loadConfig({ CREDITS_BLOCK_RATES: 'basic=1.5' })).toThrow(/CREDITS_BLOCK_RATES/);
    expect(() => loadConfig({ LOOKER_CLIENT_ID: 'x' })).toThrow(/LOOKER_CLIENT_SECRET/);
    expect(() => loadConfig({ CREDITS_VERIFY_CALCULATOR: 'notebook' })).toThrow(/NOTEBOOK_PATH/);
    expect(
      loadConfig({ NOTEBOOK_PATH: 'src/apps/credits/notebooks/credit-recommendation.ipynb' }).credits
        .calculators.verify.kind,
    ).toBe('notebook');
  });
});

describe('the thread reply around a second opinion', () => {
  const summary = (amountCents: number, credited = 1): CreditSummary => ({
    extractedAt: '',
    product: 'verify',
    calculator: 'builtin',
    links: [],
    table: [],
    amountCents,
    amount: formatMoney(amountCents, 'USD'),
    credited,
    skipped: 0,
    durationMs: 0,
  });
  const NOTE =
    'No second opinion on this amount yet: no model has been trained (one needs 30 answered requests).';
  it('adds why there is no prediction, after the template, unless nothing was credited', () => {
    expect(threadReply('Approved, {amount}, exceptions', summary(494880), { note: NOTE })).toBe(
      `Approved, $4,948.80, exceptions\n${NOTE}`,
    );
    expect(threadReply('Approved, {amount}, exceptions', summary(494880), { note: null })).toBe(
      'Approved, $4,948.80, exceptions',
    );
    expect(threadReply('x', summary(0, 0), { note: NOTE })).toBe('No credit computed.');
  });
  it("posts a person's correction in the template and says who changed it from what", () => {
    const reply = threadReply('Approved, {amount}, exceptions', summary(4_800_000), {
      note: null,
      correction: { cents: 310_000, by: 'U0APPROVER1' },
    });
    expect(reply).toBe(
      'Approved, $3,100.00, exceptions\nCorrected by U0APPROVER1 from the computed $48,000.00.',
    );
  });
});

describe('a corrected credit typed by a person', () => {
  const cents = fc.integer({ min: 0, max: MAX_CORRECTED_CENTS });
  it('reads back every amount as the reply formats it, with or without $ and separators', () => {
    fc.assert(
      fc.property(cents, fc.boolean(), fc.boolean(), (value, dollarSign, separators) => {
        let text = formatMoney(value, 'USD');
        if (!dollarSign) text = text.replace('$', '');
        if (!separators) text = text.replaceAll(',', '');
        expect(parseDollars(text)).toEqual({ cents: value });
      }),
    );
  });
  it('reads whole dollars and one decimal the way people type them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.integer({ min: 0, max: 9 }),
        (whole, tenth) => {
          expect(parseDollars(` ${whole} `)).toEqual({ cents: whole * 100 });
          expect(parseDollars(`${whole}.${tenth}`)).toEqual({ cents: whole * 100 + tenth * 10 });
        },
      ),
    );
  });
  it('refuses what is not one amount in dollars and cents, saying why', () => {
    for (const text of [
      '12.345',
      '-5',
      '1,00',
      '1,0000',
      'three thousand',
      '',
      '$',
      '1.2.3',
      '0x10',
      '1e5',
      '١٢٣',
    ])
      expect(parseDollars(text)).toHaveProperty('error');
    expect(parseDollars('12.345')).toEqual({ error: 'a credit has at most 2 decimals (cents)' });
    expect(parseDollars('1000000000.01')).toEqual({
      error: 'that is more than any credit: check the amount',
    });
    expect(parseDollars('9'.repeat(40))).toEqual({ error: 'that is more than any credit: check the amount' });
    expect(parseDollars('1000000000')).toEqual({ cents: MAX_CORRECTED_CENTS });
  });
});
