// Shared base for the provider fakes (test doubles only): a node:http server on 127.0.0.1, port 0,
// that records every request (unless told not to: a benchmark's hundreds of thousands) and lets a
// test inject faults (an error status, a slow answer, a
// connection reset, no answer at all) into the next matching requests.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. /2010-04-01/Accounts/AC.../Messages.json */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** Set when the body is application/x-www-form-urlencoded. */
  form?: URLSearchParams;
  /** Set when the body is application/json and parses. */
  json?: unknown;
  receivedAt: Date;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is; undefined sends an empty body. */
  body?: string | object;
}

export type FakeHandler = (req: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

export interface Fault {
  /** Which requests the fault applies to (default: every request). */
  match?: (req: RecordedRequest) => boolean;
  /** How many matching requests consume it (default 1). */
  times?: number;
  /** Answer with this status (plus headers and body) instead of the provider's answer. */
  status?: number;
  headers?: Record<string, string>;
  /** The answer's body, or a function of the request (an error body that quotes the request). */
  body?: string | object | ((req: RecordedRequest) => string | object);
  /** Wait this long first. Alone (no status/reset/hang) it makes the provider answer slowly. */
  delayMs?: number;
  /** Destroy the socket without answering (client sees ECONNRESET / "socket hang up"). */
  reset?: boolean;
  /** Never answer (for client timeouts); close() ends the connection. */
  hang?: boolean;
  /**
   * Let the provider process the request first (a message is stored and counts as sent), then
   * apply the fault to the answer: the "provider did it but the answer was lost" case that causes
   * duplicates when the client retries.
   */
  afterProcessing?: boolean;
}

export interface HttpFakeOptions {
  /**
   * Keep every request in `requests` (the default). A benchmark that sends hundreds of thousands and
   * reads none back passes false: kept, their bodies grew the process by gigabytes, and its garbage
   * collection slowed every answer. The handler still gets each request.
   */
  recordRequests?: boolean;
}

export interface HttpFake {
  url: string;
  /** Every request received, oldest first; stays empty with `recordRequests: false`. */
  requests: RecordedRequest[];
  /** Added to every request before it is answered ("provider answering in 50 ms"). */
  latencyMs: number;
  inject(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function parseBody(req: RecordedRequest): void {
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    req.form = new URLSearchParams(req.rawBody);
  } else if (type.startsWith('application/json') && req.rawBody !== '') {
    try {
      req.json = JSON.parse(req.rawBody);
    } catch {
      // left undefined: the provider fake answers with its own "bad JSON" error
    }
  }
}

function send(res: http.ServerResponse, answer: FakeResponse): void {
  const headers: Record<string, string> = { ...answer.headers };
  let payload = '';
  if (typeof answer.body === 'string') {
    payload = answer.body;
  } else if (answer.body !== undefined) {
    payload = JSON.stringify(answer.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json; charset=utf-8';
    }
  }
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(answer.status, headers);
  res.end(payload);
}

export async function startHttpFake(handler: FakeHandler, options: HttpFakeOptions = {}): Promise<HttpFake> {
  const recordRequests = options.recordRequests ?? true;
  const faults: Array<Fault & { left: number }> = [];
  const sockets = new Set<Socket>();

  const takeFault = (req: RecordedRequest): Fault | undefined => {
    const index = faults.findIndex((f) => !f.match || f.match(req));
    if (index < 0) return undefined;
    const fault = faults[index]!;
    fault.left -= 1;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  };

  const answer = async (req: RecordedRequest, res: http.ServerResponse): Promise<void> => {
    if (fake.latencyMs > 0) await sleep(fake.latencyMs);
    const fault = takeFault(req);
    if (!fault) return send(res, await handler(req));
    if (fault.afterProcessing) await handler(req);
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.hang) return; // the socket stays open until the client gives up or close()
    if (fault.reset) {
      res.socket?.destroy();
      return;
    }
    if (fault.status !== undefined) {
      const body = typeof fault.body === 'function' ? fault.body(req) : fault.body;
      return send(res, { status: fault.status, headers: fault.headers, body });
    }
    return send(res, await handler(req)); // a delay-only fault: a slow but normal answer
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
        receivedAt: new Date(),
      };
      parseBody(recorded);
      if (recordRequests) fake.requests.push(recorded);
      answer(recorded, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, { status: 500, body: `fake handler failed: ${String(error)}` });
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: HttpFake = {
    url: `http://127.0.0.1:${port}`,
    requests: [],
    latencyMs: 0,
    inject(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    async close() {
      faults.length = 0;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return fake;
}

/**
 * The request as a careless provider quotes it back in an error body: the Authorization header
 * (and its Basic credentials decoded), the query and the raw body. For tests that check our
 * credentials never land in logs, rows or responses from there.
 */
export function quoteRequest(req: RecordedRequest): string {
  const authorization = String(req.headers.authorization ?? '');
  const basic = /^Basic\s+(\S+)/i.exec(authorization)?.[1];
  const decoded = basic ? ` (decoded: ${Buffer.from(basic, 'base64').toString('utf8')})` : '';
  const query = req.query.toString();
  return `Could not process ${req.method} ${req.path}${query ? `?${query}` : ''} with Authorization: ${authorization}${decoded}; body: ${req.rawBody}`;
}

/** Matches requests by method and path (a string for an exact path, or a RegExp). */
export function route(method: string, path: string | RegExp): (req: RecordedRequest) => boolean {
  return (req) =>
    req.method === method && (typeof path === 'string' ? req.path === path : path.test(req.path));
}
