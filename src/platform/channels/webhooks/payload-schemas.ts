// The shapes of the Twilio and SendGrid callbacks we act on. Only the fields we read are typed;
// others pass through (providers add fields), but every form value must be a single string.
import { z } from 'zod';

/** A Twilio resource id: two letters and 32 hex digits (SM..., MM...), leniently. */
const twilioSid = z.string().regex(/^[A-Za-z]{2}[0-9a-fA-F]{32}$/, 'a Twilio SID (SM + 32 hex digits)');
const formText = (max: number) => z.string().max(max, `at most ${max} characters`);

/** Inbound SMS: https://www.twilio.com/docs/messaging/guides/webhook-request */
export const twilioInboundSchema = z
  .object({
    MessageSid: twilioSid.optional(),
    SmsSid: twilioSid.optional(),
    From: formText(64).min(1, 'required'),
    To: formText(64).optional(),
    Body: formText(5000),
  })
  .catchall(formText(10_000))
  .refine((form) => form.MessageSid ?? form.SmsSid, {
    message: 'MessageSid (or SmsSid) is required',
    path: ['MessageSid'],
  })
  .transform((form) => ({ ...form, sid: (form.MessageSid ?? form.SmsSid) as string }));

/** Status callback: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status */
export const twilioStatusSchema = z
  .object({
    MessageSid: twilioSid,
    MessageStatus: z.string().regex(/^[a-z_]{1,32}$/, 'a Twilio message status such as delivered'),
    ErrorCode: formText(16).optional(),
    To: formText(64).optional(),
  })
  .catchall(formText(10_000));

const optionalText = (max: number) => z.string().max(max).nullish();

/** One Event Webhook event: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event */
export const sendGridEventSchema = z
  .object({
    event: z.string().min(1).max(64),
    sg_event_id: optionalText(200),
    sg_message_id: optionalText(500),
    reason: optionalText(10_000),
    response: optionalText(10_000),
    status: optionalText(100),
  })
  .loose();

export const sendGridEventsSchema = z.array(sendGridEventSchema).max(10_000, 'at most 10,000 events');
