// A TCP proxy in front of PostgreSQL, so a test can "stop the database" for one service without
// touching the real server: cut() drops every connection and refuses new ones.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  cut(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    port,
    async cut() {
      const closed = close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await close();
    },
  };
}
