// Fake SMTP server (a test double) on smtp-server: plain SMTP on 127.0.0.1, port 0, no TLS
// (STARTTLS is not offered), AUTH PLAIN/LOGIN accepted over plain text. Records each message's
// envelope and raw data; recipients and stages can be made to fail with a chosen reply code.
//
// nodemailer against it:
//   nodemailer.createTransport({ host: fake.host, port: fake.port, secure: false, ignoreTLS: true,
//     auth: { user, pass } })
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SmtpReceivedMessage {
  /** Envelope MAIL FROM. */
  from: string;
  /** Envelope RCPT TO addresses that were accepted. */
  to: string[];
  /** The message as transmitted after DATA (headers and body, CRLF line ends). */
  raw: string;
  /** The authenticated user, if the client logged in. */
  user?: string;
  receivedAt: Date;
}

export interface SmtpFault {
  stage: 'mail' | 'rcpt' | 'data';
  /** SMTP reply code, e.g. 550 (permanent), 451 or 421 (temporary); without one the fault only delays. */
  code?: number;
  message?: string;
  /** How many matching commands consume it (default 1). */
  times?: number;
  /** Only for this address (MAIL FROM or RCPT TO address; for data, any accepted recipient). */
  address?: string;
  /** Wait before replying (with socketTimeout on the client, this makes a timeout). */
  delayMs?: number;
}

export interface FakeSmtp {
  host: string;
  port: number;
  messages: SmtpReceivedMessage[];
  /** Added before the reply to DATA for every message. */
  latencyMs: number;
  /** RCPT TO this address fails: 550 = permanent (user unknown), 451 = temporary. */
  rejectRecipient(address: string, code: number, message?: string): void;
  inject(fault: SmtpFault): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

function defaultMessage(code: number, address: string): string {
  if (code >= 500)
    return `5.1.1 <${address}>: Recipient address rejected: User unknown in local recipient table`;
  return `4.3.0 <${address}>: Temporary lookup failure, try again later`;
}

export async function startFakeSmtp(
  options: { auth?: { user: string; pass: string }; requireAuth?: boolean } = {},
): Promise<FakeSmtp> {
  const messages: SmtpReceivedMessage[] = [];
  const rejected = new Map<string, { code: number; message?: string }>();
  const faults: Array<SmtpFault & { left: number }> = [];
  const normalize = (address: string) => address.trim().toLowerCase();

  const takeFault = (stage: SmtpFault['stage'], addresses: string[]) => {
    const index = faults.findIndex(
      (f) => f.stage === stage && (f.address === undefined || addresses.includes(normalize(f.address))),
    );
    if (index < 0) return undefined;
    const fault = faults[index]!;
    fault.left -= 1;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  };
  const applyFault = async (fault: SmtpFault | undefined): Promise<Error | null> => {
    if (!fault) return null;
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.code === undefined) return null;
    return smtpError(
      fault.code,
      fault.message ?? (fault.code >= 500 ? 'Requested action not taken' : 'Try again later'),
    );
  };

  const server = new SMTPServer({
    name: 'fake-smtp.localhost',
    disabledCommands: ['STARTTLS'],
    hideSTARTTLS: true,
    authOptional: !options.requireAuth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      const expected = options.auth;
      if (expected && (auth.username !== expected.user || auth.password !== expected.pass)) {
        callback(smtpError(535, '5.7.8 Error: authentication failed'));
        return;
      }
      callback(null, { user: auth.username });
    },
    onMailFrom(address, _session, callback) {
      applyFault(takeFault('mail', [normalize(address.address)])).then(callback, callback);
    },
    onRcptTo(address, _session, callback) {
      const to = normalize(address.address);
      const fault = takeFault('rcpt', [to]);
      if (fault) {
        applyFault(fault).then(callback, callback);
        return;
      }
      const rejection = rejected.get(to);
      if (rejection) {
        callback(
          smtpError(rejection.code, rejection.message ?? defaultMessage(rejection.code, address.address)),
        );
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((a) => a.address);
        const finish = async () => {
          if (fake.latencyMs > 0) await sleep(fake.latencyMs);
          const error = await applyFault(takeFault('data', to.map(normalize)));
          if (error) return callback(error);
          const mailFrom = session.envelope.mailFrom;
          messages.push({
            from: mailFrom ? mailFrom.address : '',
            to,
            raw: Buffer.concat(chunks).toString('utf8'),
            user: typeof session.user === 'string' ? session.user : undefined,
            receivedAt: new Date(),
          });
          callback(null, 'OK: queued as FAKE');
        };
        finish().catch((error: unknown) =>
          callback(error instanceof Error ? error : new Error(String(error))),
        );
      });
    },
  });
  server.on('error', () => {
    // connection-level errors (client resets) are expected in fault tests
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  const fake: FakeSmtp = {
    host: '127.0.0.1',
    port,
    messages,
    latencyMs: 0,
    rejectRecipient(address, code, message) {
      rejected.set(normalize(address), { code, message });
    },
    inject(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return fake;
}
