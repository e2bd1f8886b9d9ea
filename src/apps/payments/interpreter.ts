// The seam for a language model. The rules in dialog/parse.ts read names, amounts and intents; only
// a message they cannot read at all is offered to an interpreter, which gets the redacted text (never
// card data) and the field being asked for, and has a short time limit: a slow or failing model
// leaves the rules' answer ("I could not read that") rather than a stuck conversation.
//
// With a language model configured, the app uses model-interpreter.ts (platform/ai); without one,
// the rule-only interpreter below.
import type { Logger } from '../../platform/log.ts';
import type { Extracted } from './dialog/parse.ts';
import type { Field } from './dialog/state.ts';

export interface FreeTextInterpreter {
  readonly name: string;
  /** Fields read from `redactedText`, or null when it finds none. The signal aborts at the time limit. */
  interpret(redactedText: string, field: Field, signal: AbortSignal): Promise<Extracted | null>;
}

/** No model: the rules have already read everything they can. */
export const ruleOnlyInterpreter: FreeTextInterpreter = {
  name: 'rules',
  interpret: async () => null,
};

/** Runs the interpreter with a deadline; a timeout, an error or a malformed answer counts as "nothing found". */
export async function interpretWithin(
  interpreter: FreeTextInterpreter,
  redactedText: string,
  field: Field,
  timeoutMs: number,
  log: Logger,
): Promise<Extracted | null> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      log.warn({ interpreter: interpreter.name, timeoutMs }, 'interpreter timed out; rules answer alone');
      resolve(null);
    }, timeoutMs);
  });
  try {
    const answer = await Promise.race([
      interpreter.interpret(redactedText, field, controller.signal),
      deadline,
    ]);
    return sanitize(answer);
  } catch (error) {
    log.warn({ interpreter: interpreter.name, err: error }, 'interpreter failed; rules answer alone');
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** A model's answer is untrusted input: keep only well-formed fields. */
function sanitize(answer: Extracted | null): Extracted | null {
  if (!answer || typeof answer !== 'object') return null;
  const clean: Extracted = {};
  if (
    typeof answer.name === 'string' &&
    answer.name.trim() &&
    answer.name.length <= 100 &&
    // No digits of any script (a card number is not a name) and none of our masks.
    !/[\p{Nd}\p{No}[\]]/u.test(answer.name)
  )
    clean.name = answer.name.trim();
  const amount = answer.amount;
  if (
    amount &&
    Number.isSafeInteger(amount.minor) &&
    amount.minor > 0 &&
    typeof amount.currency === 'string' &&
    /^[A-Z]{3}$/.test(amount.currency)
  )
    clean.amount = { minor: amount.minor, currency: amount.currency };
  return Object.keys(clean).length ? clean : null;
}
