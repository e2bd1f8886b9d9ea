// While the server drains on shutdown, requests still arriving on open keep-alive connections are
// answered 503 `unavailable` in the envelope (with Connection: close and Retry-After), so a client or
// load balancer retries them on another replica. Fastify's own answer for this has no envelope, so
// the app turns it off (`return503OnClosing: false`) and installs this instead. A request already in
// flight when closing began gets its answer with Connection: close too: Node's server.close() waits
// for every connection, and a keep-alive connection busy at that moment would otherwise stay open,
// idle, until its keep-alive timeout (72 s) ran out or another request came on it.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import { CLOSING_MESSAGE } from './envelope-messages.ts';

export function installClosingAnswer(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new AppError('unavailable', CLOSING_MESSAGE, {
      retryAfterSeconds: 1,
    });
  });
}
