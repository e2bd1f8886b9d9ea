// What a subscriber is made of, validated where it enters (API, CSV, SMS commands): an E.164 number,
// an IANA zone (given, or the one zone of the number's country), a local window, a name, a language.
import { z } from 'zod';
import { normalizePhone } from '../../platform/channels/sms/phone.ts';
import { parseWindow } from '../../platform/channels/sms/quiet-hours.ts';
import type { ErrorDetail } from '../../platform/errors.ts';
import { canonicalZone, zoneForCountry } from './zones.ts';

export const newSubscriber = z
  .object({
    phone: z.string().trim().min(1).max(40),
    timeZone: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .optional()
      .describe('IANA name; derived from the number when omitted'),
    window: z.string().trim().max(20).optional().describe('local HH:MM-HH:MM, default DAILY_WINDOW'),
    name: z.string().trim().min(1).max(100).optional(),
    language: z
      .string()
      .trim()
      .regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'a language code such as en or es-MX')
      .optional(),
  })
  .strict();
export type NewSubscriber = z.infer<typeof newSubscriber>;

export const subscriberUpdate = z
  .object({
    timeZone: z.string().trim().min(1).max(64).optional(),
    window: z.string().trim().max(20).optional(),
    paused: z.boolean().optional(),
    name: z.string().trim().min(1).max(100).nullable().optional(),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'nothing to change');
export type SubscriberUpdate = z.infer<typeof subscriberUpdate>;

export interface SubscriberValues {
  phone: string;
  timeZone: string;
  windowStart: number;
  windowEnd: number;
  name: string | null;
  language: string;
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; details: ErrorDetail[] };

export function resolveZone(given: string): Resolved<string> {
  const zone = canonicalZone(given);
  return zone
    ? { ok: true, value: zone }
    : {
        ok: false,
        details: [
          { field: 'timeZone', message: `"${given}" is not an IANA time zone (e.g. America/New_York)` },
        ],
      };
}

export function resolveWindow(text: string): Resolved<{ windowStart: number; windowEnd: number }> {
  try {
    const window = parseWindow(text);
    return { ok: true, value: { windowStart: window.startMinute, windowEnd: window.endMinute } };
  } catch (error) {
    return { ok: false, details: [{ field: 'window', message: (error as Error).message }] };
  }
}

/** Checks and normalises a new subscriber; every problem is reported at once. */
export function resolveSubscriber(
  input: NewSubscriber,
  defaults: { window: { startMinute: number; endMinute: number }; defaultRegion: string | undefined },
): Resolved<SubscriberValues> {
  const details: ErrorDetail[] = [];
  const phone = normalizePhone(input.phone, defaults.defaultRegion);
  if (!phone.ok) details.push({ field: 'phone', message: phone.reason });
  let timeZone: string | null = null;
  if (input.timeZone !== undefined) {
    const zone = resolveZone(input.timeZone);
    if (zone.ok) timeZone = zone.value;
    else details.push(...zone.details);
  } else if (phone.ok) {
    timeZone = zoneForCountry(phone.country);
    if (!timeZone)
      details.push({
        field: 'timeZone',
        message: `cannot tell the time zone of ${phone.e164} from its number (its country has several or is unknown): give timeZone`,
      });
  }
  let window = { windowStart: defaults.window.startMinute, windowEnd: defaults.window.endMinute };
  if (input.window !== undefined) {
    const parsed = resolveWindow(input.window);
    if (parsed.ok) window = parsed.value;
    else details.push(...parsed.details);
  }
  if (details.length || !phone.ok || !timeZone) return { ok: false, details };
  return {
    ok: true,
    value: {
      phone: phone.e164,
      timeZone,
      ...window,
      name: input.name ?? null,
      language: input.language ?? 'en',
    },
  };
}
