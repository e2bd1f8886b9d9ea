// POST /chat as server-sent events, for clients that send `Accept: text/event-stream` (the /pay
// page). Events, in order:
//   token    {"text": "..."}  a piece of a model-written reply, as the model produces it
//   message  {"text": "..."}  a reply the rules wrote, whole, as one event
//   done     the whole chat contract ({response, status, sessionId, currentField, payment?}), last
// PayBot's replies are all rule-written today: the language model only reads fields out of free
// text (interpreter.ts) and never writes to the customer, so a stream is `message` then `done`;
// `token` is reserved for a reply a model writes, and clients must accept it.
import type { ChatResponse } from './chat.ts';

export type ChatEvent =
  | { event: 'token'; data: { text: string } }
  | { event: 'message'; data: { text: string } }
  | { event: 'done'; data: ChatResponse };

/** Whether the caller asked for the stream (and did not also prefer JSON by putting it first). */
export function wantsEventStream(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((part) => part.split(';')[0]?.trim().toLowerCase());
  const stream = types.indexOf('text/event-stream');
  const json = types.indexOf('application/json');
  return stream >= 0 && (json < 0 || stream < json);
}

/** One event in the wire format: a JSON data line never holds a raw newline, so one line suffices. */
export const formatEvent = ({ event, data }: ChatEvent) =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** The events of an answered turn. */
export function chatEvents(answer: ChatResponse): string {
  const events: ChatEvent[] = [
    { event: 'message', data: { text: answer.response } },
    { event: 'done', data: answer },
  ];
  return events.map(formatEvent).join('');
}
