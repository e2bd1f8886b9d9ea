// A TCP proxy in front of PostgreSQL, so a test can take the database away from one service the
// ways production does, without touching the real server:
// - cut(): drop every connection and refuse new ones, for good;
// - refuse(): drop every connection and refuse new ones until restore() (a restart, a failover);
// - blackhole(): connections stay open but nothing flows either way, and new ones hang (a network
//   partition, a dead load balancer) until restore(), which resets the stalled ones.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  cut(): Promise<void>;
  refuse(): Promise<void>;
  blackhole(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let mode: 'open' | 'blackhole' | 'refused' = 'open';
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (mode === 'blackhole') {
      client.pause();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const stopListening = () =>
    new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  const destroyAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    async cut() {
      mode = 'refused';
      const closed = stopListening();
      destroyAll();
      await closed;
    },
    async refuse() {
      mode = 'refused';
      const closed = stopListening();
      destroyAll();
      await closed;
    },
    blackhole() {
      mode = 'blackhole';
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    async restore() {
      if (mode === 'blackhole') destroyAll();
      if (!server.listening) await listen(port);
      mode = 'open';
    },
    close: async () => {
      destroyAll();
      await stopListening();
    },
  };
}
