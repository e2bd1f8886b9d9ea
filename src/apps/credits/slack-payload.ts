// The Slack payloads CreditBot acts on, as schemas: the Events API body
// (https://api.slack.com/apis/events-api#callback-field) and the message event inside it, which
// Socket Mode delivers too. A payload of another shape is refused (400 over HTTP, acknowledged and
// dropped over Socket Mode), never a crash in the intake.
import { z } from 'zod';

const slackText = (max: number) => z.string().max(max);
/** The fields read of a message, on the event itself and on the edited `message` of a message_changed. */
const messageFields = {
  channel: slackText(100).optional(),
  ts: slackText(40).optional(),
  text: slackText(40_000).optional(),
  user: slackText(100).optional(),
  bot_id: slackText(100).optional(),
  subtype: slackText(100).optional(),
  thread_ts: slackText(40).optional(),
};
export const slackMessage = z
  .object({ type: slackText(100), ...messageFields, message: z.object(messageFields).loose().optional() })
  .loose();
export const slackEventsPayload = z.discriminatedUnion('type', [
  z.object({ type: z.literal('url_verification'), challenge: slackText(1000) }).loose(),
  z
    .object({
      type: z.literal('event_callback'),
      event_id: slackText(100).min(1),
      // Other event types have other shapes (a channel may be an object); only messages are read.
      event: z.object({ type: slackText(100) }).loose(),
    })
    .loose(),
]);

/** A `reaction_added` event (https://api.slack.com/events/reaction_added): an approval of a held reply. */
export const slackReaction = z
  .object({
    type: z.literal('reaction_added'),
    user: slackText(100).optional(),
    reaction: slackText(100).optional(),
    item: z
      .object({
        type: slackText(40).optional(),
        channel: slackText(100).optional(),
        ts: slackText(40).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
