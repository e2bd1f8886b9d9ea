// NOTIFICATION_RECIPIENTS mixes email addresses and phone numbers. Each entry is checked on its own:
// a bad one is reported with the reason and skipped, and the others are still notified.
import { normalizeRecipient } from '../../platform/channels/recipients.ts';

export interface Recipient {
  channel: 'email' | 'sms';
  address: string;
}

export interface RecipientList {
  valid: Recipient[];
  invalid: Array<{ entry: string; reason: string }>;
}

export function parseRecipients(entries: string[], defaultRegion: string | undefined): RecipientList {
  const list: RecipientList = { valid: [], invalid: [] };
  const seen = new Set<string>();
  for (const entry of entries) {
    // An @ means the person meant an email; anything else is read as a phone number.
    const channel = entry.includes('@') ? 'email' : 'sms';
    const result = normalizeRecipient(channel, entry, { defaultRegion });
    if (!result.ok) {
      list.invalid.push({ entry, reason: result.reason });
      continue;
    }
    const key = `${channel}:${result.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    list.valid.push({ channel, address: result.value });
  }
  return list;
}
