// A subscriber's time zone: an IANA name they give, or the one zone of their number's country.
// Countries spanning several zones (US, CA, AU, BR, RU, MX...) cannot be decided from the number,
// so those need an explicit zone rather than a guess that texts someone at the wrong hour.
import { DateTime } from 'luxon';

const SINGLE_ZONE: Record<string, string> = {
  GB: 'Europe/London',
  GG: 'Europe/Guernsey',
  JE: 'Europe/Jersey',
  IM: 'Europe/Isle_of_Man',
  IE: 'Europe/Dublin',
  FR: 'Europe/Paris',
  DE: 'Europe/Berlin',
  ES: 'Europe/Madrid',
  IT: 'Europe/Rome',
  NL: 'Europe/Amsterdam',
  BE: 'Europe/Brussels',
  CH: 'Europe/Zurich',
  AT: 'Europe/Vienna',
  SE: 'Europe/Stockholm',
  NO: 'Europe/Oslo',
  DK: 'Europe/Copenhagen',
  FI: 'Europe/Helsinki',
  PL: 'Europe/Warsaw',
  CZ: 'Europe/Prague',
  GR: 'Europe/Athens',
  RO: 'Europe/Bucharest',
  HU: 'Europe/Budapest',
  IL: 'Asia/Jerusalem',
  AE: 'Asia/Dubai',
  SA: 'Asia/Riyadh',
  IN: 'Asia/Kolkata',
  PK: 'Asia/Karachi',
  SG: 'Asia/Singapore',
  MY: 'Asia/Kuala_Lumpur',
  PH: 'Asia/Manila',
  TH: 'Asia/Bangkok',
  VN: 'Asia/Ho_Chi_Minh',
  JP: 'Asia/Tokyo',
  KR: 'Asia/Seoul',
  HK: 'Asia/Hong_Kong',
  TW: 'Asia/Taipei',
  CN: 'Asia/Shanghai',
  NZ: 'Pacific/Auckland',
  ZA: 'Africa/Johannesburg',
  NG: 'Africa/Lagos',
  KE: 'Africa/Nairobi',
  EG: 'Africa/Cairo',
  AR: 'America/Argentina/Buenos_Aires',
  CO: 'America/Bogota',
  PE: 'America/Lima',
  CL: 'America/Santiago',
  JM: 'America/Jamaica',
  PR: 'America/Puerto_Rico',
};

const canonicalNames = new Map(Intl.supportedValuesOf('timeZone').map((zone) => [zone.toLowerCase(), zone]));

/** Canonical IANA name (America/New_York), or null when the name is not a zone. */
export function canonicalZone(name: string): string | null {
  const trimmed = name.trim();
  if (!trimmed || /^[+-]?\d/.test(trimmed)) return null;
  if (!DateTime.local().setZone(trimmed).isValid) return null;
  if (trimmed.toUpperCase() === 'UTC') return 'UTC';
  // Fixed offsets (UTC+3) and abbreviations (EST) are not places: a subscriber lives where DST applies.
  if (!trimmed.includes('/')) return null;
  // The canonical spelling (europe/london -> Europe/London); aliases Intl does not list stay as given.
  return canonicalNames.get(trimmed.toLowerCase()) ?? trimmed;
}

export const zoneForCountry = (country: string | undefined) =>
  country ? (SINGLE_ZONE[country] ?? null) : null;
