// The id a request is logged and answered under (x-request-id). A caller's id (a proxy's, a
// client's) is kept when it is sane, so logs line up; one holding a card number is replaced, never
// logged or echoed back. The API (Fastify's genReqId) and the worker's health server share it.
import { randomUUID } from 'node:crypto';
import { containsCardNumber } from '../card-numbers.ts';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestIdFor(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID.test(given) && !containsCardNumber(given)
    ? given
    : randomUUID();
}
