// Every chat message passes through here first, before it is logged, stored, parsed or shown to a
// language model: card numbers always, and security codes while the card step is open (PCI DSS
// forbids both in our systems; the card is entered only in Stripe's own UI).
import { CARD_MASK, CVV_MASK, redactCardNumbers, redactSecurityCodes } from '../../platform/redact.ts';
import type { Field } from './dialog/state.ts';

export interface RedactedMessage {
  text: string;
  redacted: { card: boolean; cvv: boolean };
}

export function redactMessage(raw: string, field: Field): RedactedMessage {
  const withoutCards = redactCardNumbers(raw);
  const card = withoutCards !== raw;
  // A lone 3-4 digit number is a CVV when one is plausibly being typed: at the card step, next to a
  // card number, or named as a code ("the code is 123"); elsewhere it is an amount.
  const codeLikely = field === 'card' || card || SECURITY_CODE_WORDS.test(raw);
  const text = codeLikely ? redactSecurityCodes(withoutCards) : withoutCards;
  return { text, redacted: { card, cvv: text.includes(CVV_MASK) } };
}

const SECURITY_CODE_WORDS = /\b(?:cvv2?|cvc2?|cid|csc|security code|code|pin)\b/i;

export const MASKS = [CARD_MASK, CVV_MASK];
