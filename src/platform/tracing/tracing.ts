// OpenTelemetry traces, off unless an OTLP endpoint is configured. This file is the platform's only
// view of tracing: spans around HTTP requests (http.ts), jobs and provider calls, and the trace
// context a job carries from the code that enqueued it. It imports @opentelemetry/api alone, which
// pg-boss loads in every process anyway; the SDK and its exporters (sdk.ts) are imported only when
// tracing is on. Off, every helper calls straight through: no span objects, no context switches.
import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Config } from '../../config.ts';
import { type Logger, setLogLineContext } from '../log.ts';
import { scrubText } from '../redact.ts';
import { SERVICE_NAME, SERVICE_VERSION } from '../version.ts';

export type { Span };
export { SpanKind };

let tracer: Tracer | null = null;

/** What fn gets when tracing is off: a span that records nothing. */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK when the configuration asks for it (an OTLP endpoint is set), before
 * the service starts. Everything else the SDK reads from the standard OTEL_* variables.
 */
export async function startTracing(
  config: Config['tracing'],
  options: { log: Logger; mode: string },
): Promise<Tracing> {
  if (!config.enabled) return { shutdown: async () => {} };
  const { startSdk } = await import('./sdk.ts');
  const sdk = startSdk(config, options);
  tracer = trace.getTracer(SERVICE_NAME, SERVICE_VERSION);
  setLogLineContext(traceIds);
  return {
    shutdown: async () => {
      tracer = null;
      await sdk.shutdown();
    },
  };
}

export const tracingEnabled = (): boolean => tracer !== null;

/** The tracer, for the few places that manage a span's life themselves (http.ts); null when off. */
export const activeTracer = (): Tracer | null => tracer;

/**
 * Runs fn in a span that is the active one for everything fn calls (a job it enqueues carries it);
 * the span ends when fn settles, and an error fn throws is recorded on it.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!tracer) return fn(NO_SPAN);
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Marks a span failed with an error: its class or provider code as `error.type`, and the exception. */
export function recordFailure(span: Span, error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  span.setAttribute(
    'error.type',
    typeof code === 'string' && code ? code : error instanceof Error ? error.name : 'unknown',
  );
  span.setStatus({ code: SpanStatusCode.ERROR, message: recordError(span, error) });
}

/**
 * Adds an error to a span as an exception event, scrubbed like a log line (providers quote keys and
 * card numbers back in their error texts). Returns the scrubbed message.
 */
export function recordError(span: Span, error: unknown): string {
  const message = scrubText(error instanceof Error ? error.message : String(error));
  const stack = error instanceof Error && error.stack ? { stack: scrubText(error.stack) } : {};
  span.recordException({ name: error instanceof Error ? error.name : 'Error', message, ...stack });
  return message;
}

/** The field of a job's payload that carries the trace context it was enqueued in. */
export const TRACE_FIELD = '_trace';

/**
 * The active trace context as W3C headers (`traceparent`, and `tracestate`/`baggage` when present),
 * to store with a job; null when tracing is off or no span is active.
 */
export function traceCarrier(): Record<string, string> | null {
  if (!tracer || !trace.getSpan(context.active())) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length ? carrier : null;
}

/** A job payload with the trace context added (the payload itself when there is none). */
export const withTraceCarrier = <P extends object>(payload: P, carrier: Record<string, string> | null): P =>
  carrier ? { ...payload, [TRACE_FIELD]: carrier } : payload;

/**
 * Runs a job's handler in a CONSUMER span whose parent is the span that enqueued the job (carried
 * in its payload), so a webhook, the jobs it causes and their provider calls share one trace. A job
 * enqueued outside any span (a schedule, a recovery sweep) starts a trace of its own: never the
 * worker loop's, which has nothing to do with the job.
 */
export function inJobSpan<T>(
  queue: string,
  job: { id: string; retryCount: number; data: unknown },
  fn: () => Promise<T>,
): Promise<T> {
  if (!tracer) return fn();
  const carried = (job.data as Record<string, unknown> | null)?.[TRACE_FIELD];
  const parent =
    carried && typeof carried === 'object' ? propagation.extract(ROOT_CONTEXT, carried) : ROOT_CONTEXT;
  const span = tracer.startSpan(
    `process ${queue}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'pg-boss',
        'messaging.operation.type': 'process',
        'messaging.destination.name': queue,
        'messaging.message.id': job.id,
        'pgboss.job.retry_count': job.retryCount,
      },
    },
    parent,
  );
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn();
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active span's ids for a log line (`trace_id`, `span_id`), so logs and traces line up; {} when none. */
export function traceIds(): Record<string, string> {
  if (!tracer) return {};
  const span = trace.getSpan(context.active())?.spanContext();
  return span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}
