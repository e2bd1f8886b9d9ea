// While the server drains on shutdown, requests still arriving on open keep-alive connections are
// answered 503 `unavailable` in the envelope (with Connection: close and Retry-After), so a client or
// load balancer retries them on another replica. Fastify's own answer for this has no envelope, so
// the app turns it off (`return503OnClosing: false`) and installs this instead. Each answer given
// while closing also closes the connections idle by then (close-idle.ts says why); one with another
// request behind it (pipelined) stays open, and that request gets the 503.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import { closeIdleSoon } from './close-idle.ts';
import { CLOSING_MESSAGE } from './envelope-messages.ts';

export function installClosingAnswer(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onResponse', async () => {
    if (closing) closeIdleSoon(app.server);
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new AppError('unavailable', CLOSING_MESSAGE, {
      retryAfterSeconds: 1,
    });
  });
}
