// How many SMS segments a text costs, and how to make a text fit a budget. Carriers bill per
// segment: GSM-7 texts take 160 characters in one segment and 153 per segment when split (the
// rest is the concatenation header); the GSM extension characters (€ [ ] { } ...) take two septets.
// Anything outside GSM-7 switches the whole message to UCS-2: 70 per segment, 67 when split,
// counted in UTF-16 code units, so an emoji (a surrogate pair) takes two.

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '\f^{}\\[~]|€';

const basic = new Set(GSM7_BASIC);
const extended = new Set(GSM7_EXTENDED);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentCount {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
  /** Units per segment for this encoding and length. */
  perSegment: number;
}

export function isGsm7(text: string): boolean {
  for (const char of text) if (!basic.has(char) && !extended.has(char)) return false;
  return true;
}

export function countSegments(text: string): SegmentCount {
  if (isGsm7(text)) {
    let units = 0;
    for (const char of text) units += extended.has(char) ? 2 : 1;
    return finish('GSM-7', units, 160, 153);
  }
  return finish('UCS-2', text.length, 70, 67);
}

function finish(encoding: SmsEncoding, units: number, single: number, multi: number): SegmentCount {
  if (units <= single) return { encoding, units, segments: units === 0 ? 0 : 1, perSegment: single };
  return { encoding, units, segments: Math.ceil(units / multi), perSegment: multi };
}

const ELLIPSIS_GSM = '...';
const ELLIPSIS_UCS2 = '…';

/**
 * Shortens `text` to at most `maxSegments`, at a word boundary, with an ellipsis. Never splits a
 * character (iterates code points, so surrogate pairs stay whole) and never ends mid-word unless
 * a single word is longer than the whole budget.
 */
export function fitToSegments(text: string, maxSegments: number): { text: string; truncated: boolean } {
  if (maxSegments < 1) throw new Error('maxSegments must be at least 1');
  if (countSegments(text).segments <= maxSegments) return { text, truncated: false };
  const chars = [...text];
  const ellipsis = isGsm7(text) ? ELLIPSIS_GSM : ELLIPSIS_UCS2;
  // Binary search the longest prefix (in code points) that fits with the ellipsis.
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (countSegments(chars.slice(0, mid).join('').trimEnd() + ellipsis).segments <= maxSegments) low = mid;
    else high = mid - 1;
  }
  let cut = low;
  // Back up to the last whitespace so no word is cut, when there is one in the kept part.
  const lastSpace = chars.slice(0, cut + 1).findLastIndex((c) => /\s/.test(c));
  if (lastSpace > 0 && cut < chars.length && !/\s/.test(chars[cut] ?? '')) cut = lastSpace;
  const kept = chars
    .slice(0, cut)
    .join('')
    .replace(/[\s,;:.!?-]+$/u, '');
  return { text: kept + ellipsis, truncated: true };
}
