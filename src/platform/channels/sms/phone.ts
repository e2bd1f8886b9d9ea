// Phone numbers are stored and sent in E.164 (+14155552671). Anything that cannot be parsed into a
// possible number is refused where it enters, with the reason, so it never reaches a provider.
import { type CountryCode, parsePhoneNumberWithError } from 'libphonenumber-js/max';

export type PhoneResult =
  | { ok: true; e164: string; country: string | undefined }
  | { ok: false; reason: string };

/** Normalises a number; national formats need `defaultCountry` (ISO 3166 alpha-2, e.g. US). */
export function normalizePhone(input: string, defaultCountry?: string): PhoneResult {
  const trimmed = input.trim();
  if (!trimmed) return { ok: false, reason: 'the phone number is empty' };
  try {
    const parsed = parsePhoneNumberWithError(trimmed, defaultCountry as CountryCode | undefined);
    if (!parsed.isValid()) return { ok: false, reason: `${trimmed} is not a valid phone number` };
    return { ok: true, e164: parsed.number, country: parsed.country };
  } catch (error) {
    const code = (error as Error).message;
    const reasons: Record<string, string> = {
      INVALID_COUNTRY: 'the number has no country code (write it as +<country code><number>)',
      NOT_A_NUMBER: 'it is not a phone number',
      TOO_SHORT: 'the number is too short',
      TOO_LONG: 'the number is too long',
      INVALID_LENGTH: 'the number has the wrong length',
    };
    return { ok: false, reason: `${trimmed}: ${reasons[code] ?? 'not a phone number'}` };
  }
}

export const isE164 = (value: string) => /^\+[1-9]\d{6,14}$/.test(value);
