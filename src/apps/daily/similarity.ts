// When two messages count as the same: equal once case, punctuation and spacing are ignored
// (exact repeats), or sharing most of their words (near repeats: a model rephrasing yesterday).
import { createHash } from 'node:crypto';

export const normalizeText = (text: string) =>
  text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** What is stored per message and compared in SQL for exact repeats. */
export const fingerprint = (text: string) => createHash('sha1').update(normalizeText(text)).digest('hex');

const wordSet = (text: string) => new Set(normalizeText(text).split(' ').filter(Boolean));

/** Jaccard similarity of the two texts' word sets, 0..1. */
export function similarity(a: string, b: string): number {
  const x = wordSet(a);
  const y = wordSet(b);
  if (x.size === 0 && y.size === 0) return 1;
  let shared = 0;
  for (const word of x) if (y.has(word)) shared += 1;
  return shared / (x.size + y.size - shared);
}

/** Above this share of common words two messages are a near repeat. */
export const NEAR_REPEAT = 0.7;

export function isRepeat(candidate: string, previous: readonly string[]): boolean {
  const print = fingerprint(candidate);
  return previous.some((p) => fingerprint(p) === print || similarity(candidate, p) >= NEAR_REPEAT);
}
