// Shutdown's last step for connections (the API's closing.ts, the worker's ops-server.ts). Node's
// server.close() closes the connections idle at that moment and waits for the rest; a keep-alive
// connection busy then would stay open after its answer until its keep-alive timeout (72 s), and
// the stop with it. Called after each answer given while closing.
import type { Server } from 'node:http';

/** Closes the server's idle connections once the answer just given has left its connection idle. */
export function closeIdleSoon(server: Server): void {
  setImmediate(() => server.closeIdleConnections());
}
