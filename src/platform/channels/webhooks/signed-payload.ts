// A valid signature says who sent a body, not that it is well formed: every webhook body is
// checked against a schema after its signature, so a signed but malformed body (JSON `null`, a
// number where text belongs, a repeated form key, text PostgreSQL cannot store) is a 400 naming the
// field, never a 500 from code that assumed the shape.
import type { z } from 'zod';
import { AppError, type ErrorDetail, invalidInput } from '../../errors.ts';
import { assertStorable } from '../../http/input-policy.ts';

function schemaError(error: z.ZodError, what: string, path = 'body'): AppError {
  const details: ErrorDetail[] = error.issues.slice(0, 20).map((issue) => ({
    field: [path, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return invalidInput(`The signed ${what} does not have the expected shape`, details);
}

/** The signed raw JSON body, parsed and validated. */
export function parseSignedJson<T extends z.ZodType>(raw: string, schema: T, what: string): z.infer<T> {
  let parsed: unknown;
  let poisoned = false;
  try {
    // The same rule as Fastify's JSON parser (onProtoPoisoning): no `__proto__` keys, and no
    // `constructor.prototype`, which object spreads and merges could turn into prototypes.
    parsed = JSON.parse(raw, (key, value) => {
      if (
        key === '__proto__' ||
        (key === 'constructor' && value && typeof value === 'object' && 'prototype' in value)
      )
        poisoned = true;
      return value;
    });
  } catch {
    throw new AppError('malformed_json', 'The request body is not valid JSON');
  }
  if (poisoned)
    throw invalidInput(
      'The request body contains a forbidden prototype key (__proto__ or constructor.prototype)',
    );
  assertStorable(parsed, 'body');
  const result = schema.safeParse(parsed);
  if (!result.success) throw schemaError(result.error, what);
  return result.data;
}

/**
 * A signed form body (Twilio), validated. A key given twice is refused: which of the values would
 * count is ambiguous, and a second `MessageSid` was a way to make a captured request look new.
 */
export function parseSignedForm<T extends z.ZodType>(body: unknown, schema: T, what: string): z.infer<T> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalidInput(`The ${what} must be a form (application/x-www-form-urlencoded)`);
  for (const [key, value] of Object.entries(body)) {
    if (Array.isArray(value))
      throw invalidInput(`The form key \`${key}\` is given more than once`, [
        { field: `body.${key}`, message: 'is given more than once' },
      ]);
  }
  const result = schema.safeParse(body);
  if (!result.success) throw schemaError(result.error, what);
  return result.data;
}

/** A part of a signed body (at `path`, e.g. `body.event`) checked against its own schema. */
export function checkSigned<T extends z.ZodType>(
  value: unknown,
  schema: T,
  what: string,
  path: string,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw schemaError(result.error, what, path);
  return result.data;
}
