// Schema-driven fuzzing of the HTTP API: every operation in /openapi.json gets generated requests
// that are almost valid (built from the operation's own schemas, then one value swapped for a
// hostile one) or plainly malformed (wrong types, broken encodings, wrong content types, prototype
// keys). Every answer must be below 500, and every 4xx must be the one error envelope. Used by
// test/fuzz.test.ts (bounded, fixed seed) and bench/fuzz.ts (long runs).
import fc from 'fast-check';
import { encodeText, nastyKey, nastyString, nastyValue, urlToken } from './hostile-values.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema as Fastify's swagger emits it
type Schema = Record<string, any>;

export interface Operation {
  method: string;
  /** OpenAPI path, `/invoices/{id}`. */
  path: string;
  pathParams: string[];
  query: Array<{ name: string; schema: Schema }>;
  body: Schema | null;
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

export interface Injector {
  inject(
    request: FuzzRequest,
  ): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }>;
}

export function operationsOf(openapi: { paths: Record<string, Record<string, Schema>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(openapi.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters = (operation.parameters ?? []) as Array<{ in: string; name: string; schema?: Schema }>;
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: operation.requestBody?.content?.['application/json']?.schema ?? null,
      });
    }
  }
  return operations;
}

/** Plausible text for a field by its name, where the schema says only "string". */
function plausibleText(key: string): fc.Arbitrary<string> {
  const k = key.toLowerCase();
  if (k.includes('phone') || k === 'from' || k === 'to')
    return fc.constantFrom('+14155550100', '+442071838750');
  if (k.includes('email')) return fc.constant('ap@example.com');
  if (k.includes('currency')) return fc.constantFrom('USD', 'EUR', 'JPY');
  if (k.includes('timezone')) return fc.constantFrom('America/New_York', 'Europe/London');
  if (k === 'window') return fc.constant('12:00-17:00');
  if (k.includes('session')) return fc.constantFrom('s-fuzz-1', 'web-00000000-0000-4000-8000-000000000000');
  if (k === 'channel') return fc.constantFrom('C0CREDITMEMO', 'sms', 'email');
  return fc.string({ minLength: 1, maxLength: 12 });
}

/** A value that satisfies `schema` most of the time. */
export function validFor(schema: Schema, key = '', depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null);
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches) && branches.length)
    return fc.oneof(...branches.map((branch: Schema) => validFor(branch, key, depth + 1)));
  if (Array.isArray(schema.enum) && schema.enum.length) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const base = validForType(schema, key, depth);
  return schema.nullable ? fc.oneof(base, fc.constant(null)) : base;
}

function validForType(schema: Schema, key: string, depth: number): fc.Arbitrary<unknown> {
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties))
        shape[name] = validFor(property, name, depth + 1);
      return fc.record(shape, { requiredKeys: (schema.required ?? []) as string[] });
    }
    case 'array':
      return fc.array(validFor(schema.items ?? {}, key, depth + 1), {
        minLength: Math.min(schema.minItems ?? 0, 2),
        maxLength: Math.max(Math.min(schema.maxItems ?? 3, 3), Math.min(schema.minItems ?? 0, 2)),
      });
    case 'integer':
      return fc.integer({
        min: Math.max(schema.minimum ?? -1_000_000, -1_000_000_000),
        max: Math.min(schema.maximum ?? 1_000_000, 1_000_000_000),
      });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'string':
      return validString(schema, key);
    default:
      return fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null));
  }
}

function validString(schema: Schema, key: string): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date-time')
    return fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((date) => date.toISOString());
  if (schema.format === 'uri') return fc.constant('https://example.com/x');
  if (schema.format === 'email') return fc.constant('ap@example.com');
  if (typeof schema.pattern === 'string') {
    try {
      const max = schema.maxLength ?? 100;
      return fc
        .stringMatching(new RegExp(schema.pattern))
        .filter((text) => text.length >= (schema.minLength ?? 0) && text.length <= max);
    } catch {
      // a pattern JavaScript cannot compile: fall through to plain text
    }
  }
  return plausibleText(key);
}

/** Every position in a JSON value where a hostile value could go: existing keys and indexes, new keys. */
function positions(
  value: unknown,
  path: Array<string | number> = [],
  out: Array<Array<string | number>> = [],
) {
  if (value && typeof value === 'object') {
    const entries: Array<[string | number, unknown]> = Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : Object.entries(value);
    for (const [key, item] of entries) positions(item, [...path, key], out);
    out.push([...path, '\u0001new']);
  }
  out.push(path);
  return out;
}

function replaceAt(
  value: unknown,
  path: Array<string | number>,
  replacement: unknown,
  newKey: string,
): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (head === '\u0001new' && rest.length === 0) {
    if (Array.isArray(value)) return [...value, replacement];
    const copy = { ...(value as object) };
    Object.defineProperty(copy, newKey, {
      value: replacement,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    return copy;
  }
  if (Array.isArray(value))
    return value.map((item, i) => (i === head ? replaceAt(item, rest, replacement, newKey) : item));
  const copy = { ...(value as Record<string, unknown>) };
  copy[head as string] = replaceAt(copy[head as string], rest, replacement, newKey);
  return copy;
}

/** `value` with one position (anywhere, at any depth) replaced by a hostile value or a prototype key. */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.nat(), nastyValue, nastyKey).map(([value, pick, replacement, newKey]) => {
    const all = positions(value);
    return replaceAt(value, all[pick % all.length] ?? [], replacement, newKey);
  });
}

const MALFORMED_BODIES = [
  '',
  'null',
  '[]',
  '"text"',
  '42',
  '{',
  '{"a":1,}',
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '\u0000',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  `{"deep":${'['.repeat(200)}${']'.repeat(200)}}`,
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
];

/** Headers clients send that the service reads as data (ids, credentials, signatures, Host). */
const headerValue = fc.oneof(
  fc.constantFrom(
    '',
    'x',
    '[',
    '__proto__',
    'constructor',
    '%zz',
    'a'.repeat(300),
    'Bearer ',
    'Bearer x',
    't=1,v1=00',
  ),
  fc.string({ unit: fc.constantFrom(...'abcXYZ019=,;:/[]{}%._- '.split('')), maxLength: 40 }),
);
const HEADER_NAMES = [
  'authorization',
  'x-request-id',
  'x-pay-page-token',
  'cookie',
  'host',
  'x-forwarded-for',
  'stripe-signature',
  'x-slack-signature',
  'x-slack-request-timestamp',
  'x-twilio-signature',
  'i-twilio-idempotency-token',
  'x-twilio-email-event-webhook-signature',
  'x-twilio-email-event-webhook-timestamp',
];

export interface FuzzOptions {
  /** Example bodies for operations without a documented body (signed webhooks), mutated like the rest. */
  examples?: Record<string, { contentType: string; body: unknown }>;
  /** Signs a generated request for routes that need it, so its body reaches the schema checks. */
  sign?: (request: FuzzRequest, path: string) => Record<string, string> | null;
}

const text = (value: unknown) =>
  value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);

function encodeBody(contentType: string, body: unknown): string {
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    if (body && typeof body === 'object' && !Array.isArray(body))
      return Object.entries(body)
        .flatMap(([key, value]) =>
          (Array.isArray(value) ? value : [value]).map((v) => `${encodeText(key)}=${encodeText(text(v))}`),
        )
        .join('&');
    return encodeText(text(body));
  }
  return JSON.stringify(body) ?? 'null';
}

/** Generated requests for one operation. */
export function requestsFor(operation: Operation, options: FuzzOptions = {}): fc.Arbitrary<FuzzRequest> {
  const example = options.examples?.[`${operation.method} ${operation.path}`];
  const pathValues = fc.tuple(
    ...operation.pathParams.map(() =>
      fc.oneof({ weight: 2, arbitrary: fc.uuid() }, { weight: 3, arbitrary: urlToken }),
    ),
  );
  const queryValues = fc.tuple(
    ...operation.query.map((param) =>
      fc.option(
        fc.oneof(
          validFor(param.schema, param.name).map((value) => encodeText(text(value))),
          urlToken,
        ),
        { nil: undefined },
      ),
    ),
  );
  const extraQuery = fc.option(
    fc.constantFrom('__proto__=1', 'constructor=x', 'limit=1&limit=2', '%zz=1', 'a[b]=1', '&&&', '='),
    { nil: undefined, freq: 4 },
  );
  const validBody = operation.body ? validFor(operation.body) : fc.constant(example?.body ?? null);
  const bodyValue = fc.oneof(
    { weight: 5, arbitrary: mutated(validBody) },
    { weight: 2, arbitrary: validBody },
    { weight: 1, arbitrary: nastyValue },
  );
  const defaultType = example?.contentType ?? 'application/json';
  const body = fc.oneof(
    {
      weight: 8,
      arbitrary: bodyValue.map((value) => ({ type: defaultType, payload: encodeBody(defaultType, value) })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ type: fc.constant(defaultType), payload: fc.constantFrom(...MALFORMED_BODIES) }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...CONTENT_TYPES), bodyValue)
        .map(([type, value]) => ({ type, payload: encodeBody(type, value) })),
    },
  );
  const headers = fc.dictionary(fc.constantFrom(...HEADER_NAMES), headerValue, { maxKeys: 3 });
  const hasBody = !['GET', 'DELETE', 'HEAD'].includes(operation.method);

  return fc
    .record({ pathValues, queryValues, extraQuery, body, headers, signed: fc.boolean() })
    .map(({ pathValues, queryValues, extraQuery, body, headers, signed }) => {
      let path = operation.path;
      operation.pathParams.forEach((name, index) => {
        path = path.replace(`{${name}}`, pathValues[index] as string);
      });
      const query = operation.query
        .map((param, index) =>
          queryValues[index] === undefined ? null : `${encodeText(param.name)}=${queryValues[index]}`,
        )
        .filter(Boolean);
      if (extraQuery) query.push(extraQuery);
      const request: FuzzRequest = {
        method: operation.method,
        url: query.length ? `${path}?${query.join('&')}` : path,
        headers: { ...headers },
      };
      if (hasBody) {
        request.payload = body.payload;
        request.headers['content-type'] = body.type;
      }
      if (signed && options.sign) Object.assign(request.headers, options.sign(request, operation.path) ?? {});
      return request;
    });
}

export interface FuzzProblem {
  request: FuzzRequest;
  status: number;
  body: string;
}

export interface FuzzReport {
  requests: number;
  serverErrors: FuzzProblem[];
  missingEnvelope: FuzzProblem[];
  byStatus: Record<number, number>;
}

/** Whether `body` is `{ error: { code, message, requestId } }`. */
export function isEnvelope(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: Record<string, unknown> };
    const error = parsed?.error;
    return (
      typeof error?.code === 'string' &&
      typeof error.message === 'string' &&
      typeof error.requestId === 'string'
    );
  } catch {
    return false;
  }
}

/** Sends `runsPerOperation` generated requests to every operation; collects what broke the rules. */
export async function fuzzOperations(
  app: Injector,
  operations: Operation[],
  options: FuzzOptions & {
    seed: number;
    runsPerOperation: number;
    onRequest?: (request: FuzzRequest) => void;
  },
): Promise<FuzzReport> {
  const report: FuzzReport = { requests: 0, serverErrors: [], missingEnvelope: [], byStatus: {} };
  for (const [index, operation] of operations.entries()) {
    const samples = fc.sample(requestsFor(operation, options), {
      seed: options.seed + index,
      numRuns: options.runsPerOperation,
    });
    for (const request of samples) {
      options.onRequest?.(request);
      const response = await app.inject(request);
      report.requests += 1;
      report.byStatus[response.statusCode] = (report.byStatus[response.statusCode] ?? 0) + 1;
      const problem = { request, status: response.statusCode, body: response.body.slice(0, 500) };
      if (response.statusCode >= 500) report.serverErrors.push(problem);
      else if (response.statusCode >= 400 && !isEnvelope(response.body)) report.missingEnvelope.push(problem);
    }
  }
  return report;
}

export { nastyString };
