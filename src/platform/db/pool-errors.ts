import type pg from 'pg';
import type { Logger } from '../log.ts';

/**
 * Keeps a lost connection from ending the process. The pool hears errors of idle clients only: it
 * takes its listener off a client it hands out, so a server that goes away (a restart, a failover,
 * a proxy's timeout) while a transaction holds the client emits 'error' with nobody listening,
 * which Node treats as an uncaught exception. The statement in flight rejects with the same error
 * and its caller retries; the listener only records it. For every pool the service opens.
 */
export function guardPoolClients(pool: pg.Pool, log: Pick<Logger, 'warn'>): void {
  // Idle clients: the pool re-emits their errors here (and drops the client).
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', (error) =>
      log.warn({ err: error }, 'database connection lost; the pool will reconnect'),
    );
  });
}
