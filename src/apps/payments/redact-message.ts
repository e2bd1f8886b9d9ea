// Every chat message passes through here first, before it is logged, stored, parsed or shown to a
// language model: digits of any script become 0-9 (so "٥٠ USD" is an amount and "４２４２..." is
// seen as the card it is), card numbers in any shape are removed always (platform/card-numbers.ts),
// and security codes while the card step is open (PCI DSS forbids both in our systems; the card is
// entered only in Stripe's own UI).
//
// A card can also arrive in pieces, one group per message ("4242", "4242", ...). No single message
// holds a card then, so the session counts consecutive messages that are nothing but a 4-6 digit
// group or two (`cardFragments` in the dialog state: a count, never the digits): from the second
// one in a row, the piece is masked as card data, never read as an amount or offered to a model.
import {
  CARD_MASK,
  CVV_MASK,
  normaliseDigits,
  redactCardNumbers,
  redactSecurityCodes,
} from '../../platform/redact.ts';
import type { Field } from './dialog/state.ts';

export interface RedactedMessage {
  text: string;
  redacted: { card: boolean; cvv: boolean };
  /** The message is only a card-group-like number ("4242", "4242 4242"): a possible card piece. */
  fragment: boolean;
}

/** Nothing but 1-3 groups of 4-6 digits, joined by anything that is not a letter or a currency sign. */
const FRAGMENT = /^[^\p{L}\p{Sc}\d]*\d{4,6}(?:[^\p{L}\p{Sc}\d]{1,10}\d{4,6}){0,2}[^\p{L}\p{Sc}\d]*$/u;
/** After a piece, the last one may be shorter ("4242 4242 4242" then "424"). */
const CONTINUATION = /^[^\p{L}\p{Sc}\d]*\d{1,6}(?:[^\p{L}\p{Sc}\d]{1,10}\d{1,6}){0,2}[^\p{L}\p{Sc}\d]*$/u;

export function isCardFragment(normalised: string, previousFragments = 0): boolean {
  return (previousFragments > 0 ? CONTINUATION : FRAGMENT).test(normalised);
}

/**
 * `previousFragments`: how many messages in a row before this one were card-piece-like; from the
 * second piece on, the piece is masked as a card.
 */
export function redactMessage(raw: string, field: Field, previousFragments = 0): RedactedMessage {
  const normalised = normaliseDigits(raw);
  const fragment = isCardFragment(normalised, previousFragments);
  if (fragment && previousFragments > 0)
    return { text: CARD_MASK, redacted: { card: true, cvv: false }, fragment };
  const withoutCards = redactCardNumbers(normalised);
  const card = withoutCards !== normalised;
  // A lone 3-4 digit number is a CVV when one is plausibly being typed: at the card step, next to a
  // card number, or named as a code ("the code is 123"); elsewhere it is an amount.
  const codeLikely = field === 'card' || card || SECURITY_CODE_WORDS.test(raw);
  const text = codeLikely ? redactSecurityCodes(withoutCards) : withoutCards;
  return { text, redacted: { card, cvv: text.includes(CVV_MASK) }, fragment };
}

const SECURITY_CODE_WORDS = /\b(?:cvv2?|cvc2?|cid|csc|security code|code|pin)\b/i;

export const MASKS = [CARD_MASK, CVV_MASK];
