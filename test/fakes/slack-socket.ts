// Fake Slack Socket Mode WebSocket, a test double: point the Slack fake's apps.connections.open at
// `wsUrl` (slack.enableSocketMode); the socket
// gets Slack's `hello`, then envelopes the test pushes ({ envelope_id, type: 'events_api', payload });
// the client's acknowledgements ({ envelope_id }) are recorded. A minimal RFC 6455 server:
// text frames, ping -> pong, close.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeSocketMode {
  /** The ws:// URL apps.connections.open hands out. */
  wsUrl: string;
  /** Envelope ids the client acknowledged. */
  acks: string[];
  connections: number;
  /** Sends an Events API envelope to every open socket. */
  pushEvent(envelopeId: string, payload: Record<string, unknown>): void;
  waitForConnection(): Promise<void>;
  close(): Promise<void>;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 65536
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([
            Buffer.from([0x80 | opcode, 127]),
            (() => {
              const b = Buffer.alloc(8);
              b.writeBigUInt64BE(BigInt(length));
              return b;
            })(),
          ]);
  return Buffer.concat([header, payload]);
}

export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const sockets = new Set<Socket>();
  const open = new Set<Socket>();
  const acks: string[] = [];
  const waiting: Array<() => void> = [];
  const state = { connections: 0 };

  const server = http.createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket: Socket) => {
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    open.add(socket);
    state.connections += 1;
    socket.on('close', () => open.delete(socket));
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer.length < 2) return;
        const opcode = (buffer[0] as number) & 0x0f;
        let length = (buffer[1] as number) & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        const masked = ((buffer[1] as number) & 0x80) !== 0;
        const mask = masked ? buffer.subarray(offset, offset + 4) : null;
        offset += masked ? 4 : 0;
        if (buffer.length < offset + length) return;
        const payload = Buffer.from(buffer.subarray(offset, offset + length));
        if (mask)
          for (let i = 0; i < payload.length; i++)
            payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
        buffer = buffer.subarray(offset + length);
        if (opcode === 0x1) {
          const message = JSON.parse(payload.toString('utf8')) as { envelope_id?: string };
          if (message.envelope_id) acks.push(message.envelope_id);
        } else if (opcode === 0x9) {
          socket.write(frame(0xa, payload));
        } else if (opcode === 0x8) {
          socket.end(frame(0x8, payload));
        }
      }
    });
    socket.write(
      frame(
        0x1,
        Buffer.from(
          JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0FAKEAPP01' } }),
        ),
      ),
    );
    for (const resolve of waiting.splice(0)) resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake: FakeSocketMode = {
    wsUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/?ticket=fake`,
    acks,
    connections: 0,
    pushEvent(envelopeId, payload) {
      const message = {
        envelope_id: envelopeId,
        type: 'events_api',
        payload,
        accepts_response_payload: false,
        retry_attempt: 0,
        retry_reason: '',
      };
      for (const socket of open) socket.write(frame(0x1, Buffer.from(JSON.stringify(message))));
    },
    waitForConnection: () =>
      open.size > 0 ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve)),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
  Object.defineProperty(fake, 'connections', { get: () => state.connections });
  return fake;
}
