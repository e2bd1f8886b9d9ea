// The HTTP transport under the Twilio and SendGrid SDKs. Both SDKs send through axios, which costs
// about twice the CPU of a plain node:http exchange per request (config merging, header
// normalisation, follow-redirects), and a busy outbox worker spends more on that than on anything of
// its own. The SDKs still build every request and read every answer; they reach the network through
// this one function, plugged in at their documented extension points (Twilio's `httpClient`,
// SendGrid's `MailService.setClient`).
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export interface HttpExchange {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** The whole exchange, from connecting to the last byte of the answer. */
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpTransport {
  request(exchange: HttpExchange): Promise<HttpAnswer>;
  close(): void;
}

/** Network faults carry the codes `isNetworkError` knows; a timeout is ETIMEDOUT. */
export function createHttpTransport(): HttpTransport {
  // Node keeps at most 256 idle sockets a host by default. A worker has OUTBOX_BATCH_SIZE x
  // OUTBOX_CONCURRENCY sends in flight (800 by default): past 256 every batch closed the sockets the
  // last one opened and connected (TLS, against a real provider) anew. Keep what the worker uses.
  const keep = { keepAlive: true, maxFreeSockets: 2048 };
  const agents = {
    'http:': new http.Agent(keep),
    'https:': new https.Agent(keep),
  };
  return {
    request: (exchange) =>
      new Promise<HttpAnswer>((resolve, reject) => {
        const secure = exchange.url.protocol === 'https:';
        const headers: Record<string, string | number> = { ...exchange.headers };
        if (exchange.body !== undefined) headers['Content-Length'] = Buffer.byteLength(exchange.body);
        const request = (secure ? https : http).request(
          exchange.url,
          { method: exchange.method, headers, agent: secure ? agents['https:'] : agents['http:'] },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('error', reject);
            response.on('end', () => {
              clearTimeout(deadline);
              resolve({
                status: response.statusCode ?? 0,
                headers: response.headers,
                body: Buffer.concat(chunks).toString('utf8'),
              });
            });
          },
        );
        const deadline = setTimeout(() => {
          request.destroy(
            Object.assign(new Error(`no answer within ${exchange.timeoutMs} ms`), { code: 'ETIMEDOUT' }),
          );
        }, exchange.timeoutMs);
        request.on('error', (error) => {
          clearTimeout(deadline);
          reject(error);
        });
        request.end(exchange.body);
      }),
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

/** Form or query encoding as the Twilio SDK does it (qs with arrayFormat `repeat`): `a=1&a=2`. */
export function formEncode(values: Record<string, unknown> | undefined): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(values ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) form.append(key, String(item));
  }
  return form.toString();
}
