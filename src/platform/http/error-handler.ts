// Every error leaves the service as `{ error: { code, message, requestId, details? } }` with a
// stable code. Only 5xx are logged as faults, and their internals never reach the client.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, ERROR_STATUS, type ErrorCode, type ErrorDetail } from '../errors.ts';
import { scrubText } from '../redact.ts';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: ErrorDetail[] };
}

/** Fastify's own error codes that are the client's fault, with the code we answer. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_input',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_VALIDATION: 'invalid_input',
  FST_ERR_BAD_URL: 'invalid_input',
  FST_ERR_ASYNC_CONSTRAINT: 'invalid_input',
};

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
  const mapped = fastifyCode ? FASTIFY_CODES[fastifyCode] : undefined;
  if (mapped === 'malformed_json') return make(mapped, 'The request body is not valid JSON');
  if (mapped === 'payload_too_large')
    return make(mapped, 'The request body is larger than this server accepts');
  if (mapped === 'unsupported_media_type') return make(mapped, error.message);
  if (mapped) return make(mapped, error.message);

  const status = (error as FastifyError).statusCode;
  if (status === 429) return make('rate_limited', 'Too many requests; retry later');
  if (status === 405) return make('method_not_allowed', error.message);
  if (status && status >= 400 && status < 500) return make('invalid_input', error.message);
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

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, fault } = toErrorBody(error, request.id);
    if (fault) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code, reason: error.message }, 'request rejected');
    // Rate-limit headers (retry-after) set by the plugin stay on the reply.
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: {
        code: 'not_found',
        message: `No route ${request.method} ${request.url.split('?')[0]}`,
        requestId: request.id,
      },
    };
    return reply.status(404).send(body);
  });
}
