import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type Logger, REDACT_PATHS, SECRET_KEYS, scrubText, setLogLineContext } from '../src/platform/log.ts';
import { censorLine } from '../src/platform/log-censor.ts';
import { CARD_MASK, containsCardNumber, luhnValid, redactCardNumbers } from '../src/platform/redact.ts';
import { captureLogs } from './helpers/logs.ts';

describe('card number redaction', () => {
  it('masks Luhn-valid 13-19 digit numbers, grouped or not', () => {
    expect(redactCardNumbers('card 4242424242424242 ok')).toBe(`card ${CARD_MASK} ok`);
    expect(redactCardNumbers('4242 4242 4242 4242')).toBe(CARD_MASK);
    expect(redactCardNumbers('5555-5555-5555-4444 and 378282246310005')).toBe(
      `${CARD_MASK} and ${CARD_MASK}`,
    );
    expect(redactCardNumbers('6011111111111117')).toBe(CARD_MASK);
  });

  it('leaves numbers that are not cards alone', () => {
    expect(redactCardNumbers('order 4242424242424241')).toBe('order 4242424242424241'); // fails Luhn
    expect(redactCardNumbers('call +1 415 555 2671')).toBe('call +1 415 555 2671'); // too short
    expect(redactCardNumbers('amount 494880 cents')).toBe('amount 494880 cents');
    expect(luhnValid('79927398713')).toBe(true);
    expect(containsCardNumber('nothing here')).toBe(false);
  });

  it('hides the password in connection URLs', () => {
    expect(scrubText('connect postgres://app:s3cret@db:5432/x failed')).toBe(
      'connect postgres://app:[REDACTED]@db:5432/x failed',
    );
  });
});

describe('logger', () => {
  it("keeps the active span's ids as the tracer wrote them, digits and all, and scrubs the rest", () => {
    // A real span id from a failed run: its first 14 digits pass the Luhn check.
    const ids = { trace_id: '258732c3a4b161fdc9753e90a0227d9b', span_id: '57104347226476e5' };
    expect(containsCardNumber(ids.span_id)).toBe(true);
    // A new object each time, as the tracer makes it: pino merges the line into what the mixin returns.
    setLogLineContext(() => ({ ...ids }));
    try {
      const { log, text } = captureLogs();
      log.info({ note: 'card 4242 4242 4242 4242' }, 'answered');
      // An id that is not the active span's is the caller's: scrubbed like any other value.
      log.info({ span_id: '4242424242424242' }, 'a caller-made span id');
      const [answered, made] = text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(answered).toMatchObject({ ...ids, note: `card ${CARD_MASK}`, msg: 'answered' });
      expect(made.span_id).not.toContain('4242424242424242');
    } finally {
      setLogLineContext(() => ({}));
    }
  });

  it('redacts secrets by key and card numbers anywhere in a line', () => {
    const { log, text } = captureLogs();
    log.info(
      {
        req: { headers: { authorization: 'Bearer abc.def', 'x-api-key': 'k-123', host: 'x' } },
        password: 'pw-1',
        provider: { apiKey: 'sk_live_1', nested: { token: 'tok-2' } },
        chat: { message: 'my card is 4242 4242 4242 4242 thanks' },
      },
      'user typed 5555555555554444 into %s',
      'chat',
    );
    const out = text();
    for (const secret of [
      'abc.def',
      'k-123',
      'pw-1',
      'sk_live_1',
      'tok-2',
      '4242 4242 4242 4242',
      '5555555555554444',
    ]) {
      expect(out).not.toContain(secret);
    }
    const line = JSON.parse(out);
    expect(line.req.headers.host).toBe('x');
    expect(line.req.headers.authorization).toBe('[REDACTED]');
    expect(line.chat.message).toBe(`my card is ${CARD_MASK} thanks`);
    expect(line.msg).toContain(CARD_MASK);
  });

  it('scrubs an error logged alone, whose message becomes the line message', () => {
    const { log, text } = captureLogs();
    log.error(new TypeError('declined 4000 0000 0000 0002'));
    const line = JSON.parse(text());
    expect(text()).not.toContain('4000 0000 0000 0002');
    expect(line.msg).toBe(`declined ${CARD_MASK}`);
    expect(line.err.type).toBe('TypeError');
  });

  it('scrubs the request URL, headers and request id on request lines', () => {
    const { log, text } = captureLogs();
    const request = {
      raw: {},
      method: 'GET',
      url: '/invoices/4242424242424242?q=%204012888888881881',
      headers: { 'user-agent': 'ua 5555-5555-5555-4444', cookie: 'c=1' },
    };
    log.child({ reqId: '378282246310005' }).info({ req: request }, 'incoming request');
    const out = text();
    for (const card of ['4242424242424242', '4012888888881881', '5555-5555-5555-4444', '378282246310005'])
      expect(out).not.toContain(card);
    const line = JSON.parse(out);
    expect(line.req.url).toBe(`/invoices/${CARD_MASK}?q= ${CARD_MASK}`);
    expect(line.req.headers).toEqual({ 'user-agent': `ua ${CARD_MASK}` });
  });

  it('scrubs card numbers from logged errors', () => {
    const { log, text } = captureLogs();
    log.error({ err: new Error('declined 4000000000000002') }, 'charge failed');
    expect(text()).not.toContain('4000000000000002');
    expect(JSON.parse(text()).err.message).toBe(`declined ${CARD_MASK}`);
  });
});

describe('errors with large attachments', () => {
  it('logs a pg error pg-boss reports with its client attached in a short line: name, message, code', async () => {
    const { briefError } = await import('../src/platform/errors.ts');
    const logs = captureLogs('info');
    // What pg-boss emitted on a dropped connection: the error with the pg client hanging off it.
    const error = Object.assign(new Error('Connection terminated unexpectedly'), {
      code: '57P01',
      client: {
        connectionParameters: { password: 'x'.repeat(10) },
        queue: Array.from({ length: 200 }, (_, i) => ({ i })),
      },
    });
    logs.log.error({ err: briefError(error) }, 'job system error');
    const [text] = logs.lines();
    const line = JSON.parse(text ?? '{}');
    expect(line.err).toEqual({ type: 'Error', message: 'Connection terminated unexpectedly', code: '57P01' });
    expect(text?.length).toBeLessThan(400);
    expect(briefError('plain')).toEqual({ type: 'string', message: 'plain' });
  });
});

describe('censoring by key', () => {
  // The service censors secret keys itself (pino's redactor cost 60% of its allocations); the lines
  // must come out as pino's own `redact` made them from REDACT_PATHS.
  const secrets = new Set(SECRET_KEYS);
  const lines = (options: Parameters<typeof pino>[0], write: (log: Logger) => void) => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    write(pino({ ...options, base: null, timestamp: false }, stream) as unknown as Logger);
    return chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  };
  const sample = () => {
    class Holder {
      token = 'class-token';
      kept = 1;
    }
    return {
      password: 'top-password',
      nested: { token: 'one-down', deeper: { apiKey: 'two-down', deepest: { secret: 'three-down' } } },
      list: [{ cvv: '123' }, { inner: { cvc: '456' } }, 'text', [{ password: 'in-a-list-of-lists' }]],
      req: {
        headers: {
          'x-api-key': 'k',
          'stripe-signature': 's',
          'x-slack-signature': 'sl',
          host: 'h',
          authorization: 'a',
        },
        url: '/x',
      },
      other: { headers: { 'x-api-key': 'only-under-req' } },
      when: new Date(0),
      holder: new Holder(),
      unset: { password: undefined, keep: null },
      emptyish: { cardNumber: '', accessToken: 0, refreshToken: false },
    };
  };

  it('censors what pino censored for REDACT_PATHS, in lines and in child bindings, and changes nothing logged', () => {
    const write = (log: Logger) => {
      log.info(sample(), 'a line');
      log
        .child({ token: 'bound', meta: { secret: 'bound-down', fine: 'yes' }, reqId: 'r-1' })
        .info({ n: 1 }, 'child');
      log.child({ job: 'j' }).child({ apiKey: 'grandchild' }).info('grandchild');
      log.info({ a: { b: { c: { password: 'too-deep' } } }, clientSecret: { whole: 'object' } }, 'deep');
    };
    const reference = lines({ redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } }, write);
    const service = captureLogs();
    write(service.log);
    const ours = service.lines().map((line) => {
      const { time: _time, pid: _pid, hostname: _hostname, ...rest } = JSON.parse(line);
      return rest;
    });
    expect(ours).toEqual(reference);
    expect(ours[0].nested.deeper.deepest.secret).toBe('three-down');
    expect(ours[0].req.headers['x-api-key']).toBe('[REDACTED]');

    const logged = sample();
    censorLine(logged, secrets);
    expect(logged).toEqual(sample());
  });
});
