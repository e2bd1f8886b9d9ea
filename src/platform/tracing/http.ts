// A SERVER span per HTTP request (webhooks included), active while its hooks and handler run, so
// the jobs a request enqueues carry its trace. Imported by the HTTP app only when tracing is on. A
// caller's `traceparent` is continued. Probes and scrapes are not traced: a span every few seconds
// per replica would bury the requests that matter.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { activeTracer, recordError } from './tracing.ts';

const UNTRACED = /^\/(health\/|metrics$)/;

export function traceRequests(app: FastifyInstance): void {
  const tracer = activeTracer();
  if (!tracer) return;
  const spans = new WeakMap<FastifyRequest, Span>();

  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route && UNTRACED.test(route)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0] ?? request.url,
          ...(route ? { 'http.route': route } : {}),
          'http.request.id': request.id,
        },
      },
      parent,
    );
    spans.set(request, span);
    // Fastify runs the rest of the request's hooks and its handler from this call, and keeps the
    // async context across body parsing, so everything the request does runs inside its span.
    context.with(trace.setSpan(parent, span), done);
  });

  // Recorded, but only a 5xx marks the span failed (below): a refused webhook is the server working.
  app.addHook('onError', async (request, _reply, error) => {
    const span = spans.get(request);
    if (span) recordError(span, error);
  });

  const end = (request: FastifyRequest, status: number | null) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    if (status !== null) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    } else {
      span.setAttribute('error.type', 'aborted');
    }
    span.end();
  };
  app.addHook('onResponse', async (request, reply) => end(request, reply.statusCode));
  app.addHook('onRequestAbort', async (request) => end(request, null));
}
