// Carrier opt-out keywords, shared by every app. A message that is exactly one of these words
// (any case, surrounding spaces and punctuation ignored) changes the sender's suppression status.

export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
] as const;
export const OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;
export const HELP_KEYWORDS = ['HELP', 'INFO'] as const;

export type Keyword = { kind: 'opt_out' | 'opt_in' | 'help'; word: string } | null;

export function parseKeyword(body: string): Keyword {
  const word = body
    .normalize('NFKC')
    .trim()
    .replace(/^[\p{P}\p{S}\s]+|[\p{P}\p{S}\s]+$/gu, '')
    .toUpperCase();
  if (!/^[A-Z]+$/.test(word)) return null;
  if ((OPT_OUT_KEYWORDS as readonly string[]).includes(word)) return { kind: 'opt_out', word };
  if ((OPT_IN_KEYWORDS as readonly string[]).includes(word)) return { kind: 'opt_in', word };
  if ((HELP_KEYWORDS as readonly string[]).includes(word)) return { kind: 'help', word };
  return null;
}
