// Recipients are validated and normalised where they enter, per channel, so a bad one is refused
// with its reason and never reaches a provider.
import { z } from 'zod';
import { normalizePhone } from './sms/phone.ts';
import type { Channel } from './types.ts';

export type RecipientResult = { ok: true; value: string } | { ok: false; reason: string };

const email = z.email();
/** Slack channel, group, DM or user ids (C0123ABC, G..., D..., U..., W...). */
const SLACK_ID = /^[CGDUW][A-Z0-9]{2,}$/;

export function normalizeRecipient(
  channel: Channel,
  to: string,
  options: { defaultRegion?: string | undefined } = {},
): RecipientResult {
  const trimmed = to.trim();
  switch (channel) {
    case 'sms': {
      const phone = normalizePhone(trimmed, options.defaultRegion);
      return phone.ok ? { ok: true, value: phone.e164 } : { ok: false, reason: phone.reason };
    }
    case 'email':
      return email.safeParse(trimmed).success
        ? { ok: true, value: trimmed.toLowerCase() }
        : { ok: false, reason: `${trimmed} is not an email address` };
    case 'slack':
      return SLACK_ID.test(trimmed)
        ? { ok: true, value: trimmed }
        : { ok: false, reason: `${trimmed} is not a Slack channel or user id (C..., D..., G..., U...)` };
  }
}
