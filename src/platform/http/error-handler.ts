// Every error leaves the service as `{ error: { code, message, requestId, details? } }` with a
// stable code. Only 5xx are logged as faults, and their internals never reach the client.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, ERROR_STATUS, type ErrorCode, type ErrorDetail } from '../errors.ts';
import { scrubText } from '../redact.ts';
import { notFoundMessage } from './envelope-messages.ts';
import { classifyFault } from './fault-class.ts';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: ErrorDetail[] };
}

/** Fastify's own error codes that are the client's fault, with the code we answer. */
const FASTIFY_CODES = new Map<string, ErrorCode>([
  ['FST_ERR_CTP_INVALID_JSON_BODY', 'malformed_json'],
  ['FST_ERR_CTP_EMPTY_JSON_BODY', 'malformed_json'],
  ['FST_ERR_CTP_BODY_TOO_LARGE', 'payload_too_large'],
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'unsupported_media_type'],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'invalid_input'],
  ['FST_ERR_CTP_INVALID_TYPE', 'unsupported_media_type'],
  ['FST_ERR_VALIDATION', 'invalid_input'],
  ['FST_ERR_BAD_URL', 'invalid_input'],
  ['FST_ERR_MAX_PARAM_LENGTH', 'uri_too_long'],
  ['FST_ERR_ASYNC_CONSTRAINT', 'invalid_input'],
]);

/** Other 4xx statuses Fastify or a plugin may set, with the code we answer (anything else: 400). */
const CLIENT_STATUS_CODES = new Map<number, ErrorCode>([
  [401, 'unauthorized'],
  [403, 'forbidden'],
  [404, 'not_found'],
  [405, 'method_not_allowed'],
  [408, 'request_timeout'],
  [409, 'conflict'],
  [413, 'payload_too_large'],
  [414, 'uri_too_long'],
  [415, 'unsupported_media_type'],
  [429, 'rate_limited'],
  [431, 'headers_too_large'],
]);

const FAULT_MESSAGES = {
  provider: 'An upstream provider is unavailable; try again later',
  component: 'A component this service depends on is unavailable; try again later',
} as const;

export function toErrorBody(
  error: FastifyError | Error,
  requestId: string,
): { status: number; body: ErrorBody; fault: boolean } {
  // A provider's message can quote our credentials, a client's can hold a card number.
  const make = (code: ErrorCode, message: string, details?: ErrorDetail[]) => ({
    status: ERROR_STATUS[code],
    body: {
      error: { code, message: scrubText(message), requestId, ...(details?.length ? { details } : {}) },
    },
    fault: ERROR_STATUS[code] >= 500,
  });

  if (error instanceof AppError) return make(error.code, error.message, error.details);

  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.flatMap((issue) => {
      const path = String(issue.instancePath).split('/').filter(Boolean);
      return unionBranch(issue.keyword, issue.params).map((inner) => ({
        field: [error.validationContext, ...path, ...inner.path.map(String)].join('.'),
        message: inner.message ?? issue.message ?? 'is invalid',
      }));
    });
    return make('invalid_input', 'The request does not match the schema', details);
  }

  const fastifyCode = (error as FastifyError).code;
  const mapped = typeof fastifyCode === 'string' ? FASTIFY_CODES.get(fastifyCode) : undefined;
  if (mapped === 'malformed_json') return make(mapped, 'The request body is not valid JSON');
  if (mapped === 'payload_too_large')
    return make(mapped, 'The request body is larger than this server accepts');
  if (mapped === 'uri_too_long') return make(mapped, 'A path segment is longer than this server accepts');
  if (mapped) return make(mapped, error.message);

  const status = (error as FastifyError).statusCode;
  if (status === 429) return make('rate_limited', 'Too many requests; retry later');
  if (typeof status === 'number' && status >= 400 && status < 500)
    return make(CLIENT_STATUS_CODES.get(status) ?? 'invalid_input', error.message);
  // Not a bug of ours when a provider or a component is down: 502 / 503, so callers retry.
  const fault = classifyFault(error);
  if (fault)
    return make(fault === 'provider' ? 'provider_unavailable' : 'unavailable', FAULT_MESSAGES[fault]);
  return make('internal', 'Internal server error');
}

interface InnerIssue {
  path: PropertyKey[];
  message?: string;
}

/**
 * A value matching no branch of a union (one invoice, or `{ invoices: [...] }`) is reported through
 * the branch it came closest to, the one with the fewest problems, rather than as "invalid input".
 */
function unionBranch(keyword: string, params: Record<string, unknown> | undefined): InnerIssue[] {
  const branches = params?.errors as InnerIssue[][] | undefined;
  if (keyword !== 'invalid_union' || !Array.isArray(branches) || branches.length === 0) return [{ path: [] }];
  const closest = branches.reduce((best, branch) => (branch.length < best.length ? branch : best));
  return closest.length ? closest : [{ path: [] }];
}

/** Sends `error` as the envelope; also Fastify's `frameworkErrors` (bad URLs, over-long parameters). */
export function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const { status, body, fault } = toErrorBody(error, request.id);
  if (fault) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: body.error.code, reason: error.message }, 'request rejected');
  // Framework errors (bad URLs) are answered outside any route, where the onSend hook does not run.
  reply.header('x-request-id', request.id);
  if (error instanceof AppError && error.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  // Rate-limit headers (retry-after) set by the plugin stay on the reply.
  return reply.status(status).send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
    sendError(error, request, reply),
  );
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: {
        code: 'not_found',
        message: notFoundMessage(request.method, request.url),
        requestId: request.id,
      },
    };
    return reply.status(404).send(body);
  });
}
