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
  // The CVV is a risk only when one is plausibly being typed: at the card step, or right after a card number.
  const text = field === 'card' || card ? redactSecurityCodes(withoutCards) : withoutCards;
  return { text, redacted: { card, cvv: text.includes(CVV_MASK) } };
}

export const MASKS = [CARD_MASK, CVV_MASK];
