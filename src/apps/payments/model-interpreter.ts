// The language model as PayBot's free-text interpreter (platform/ai). It is asked only about a
// message the rules could not read, gets the redacted text and the field being asked for, and must
// answer with a small JSON object. Its answer is untrusted input: the amount goes through the same
// exact parser as a typed one, and interpretWithin keeps only well-formed fields. With no model
// configured (the offline default) PayBot does not use this at all; when the model fails, times out
// or its budget is spent, generate() throws and the rules answer alone.
import type { LanguageModels } from '../../platform/ai/client.ts';
import { type Extracted, parseAmount } from './dialog/parse.ts';
import type { Field } from './dialog/state.ts';
import type { FreeTextInterpreter } from './interpreter.ts';

export const INTERPRETER_PURPOSE = 'payments.chat';

export const INTERPRETER_SYSTEM_PROMPT = [
  'You read one chat message from a customer who is paying a bill and extract what they said.',
  'Answer with one JSON object and nothing else: {"name": string or null, "amount": string or null, "currency": string or null}.',
  '"name" is the full name of the person paying, only if they gave it.',
  '"amount" is the amount to pay as a plain decimal such as "45.10", only if they gave one; "currency" its ISO 4217 code.',
  'Never guess: use null for anything the message does not state. Card details are never needed here.',
].join('\n');

export function modelInterpreter(ai: LanguageModels, defaultCurrency: string): FreeTextInterpreter {
  return {
    name: 'model',
    async interpret(redactedText: string, field: Field, signal: AbortSignal): Promise<Extracted | null> {
      const { text } = await ai.generate({
        purpose: INTERPRETER_PURPOSE,
        system: INTERPRETER_SYSTEM_PROMPT,
        messages: [
          { role: 'user', content: `The bot asked for: ${field}.\nThe customer wrote: ${redactedText}` },
        ],
        maxOutputTokens: 80,
        temperature: 0,
        // One attempt's worth of time: interpretWithin's deadline aborts the call.
        signal,
      });
      return readModelAnswer(text, defaultCurrency);
    },
  };
}

/** The first JSON object in the model's answer, as fields; null when there is none or it is malformed. */
export function readModelAnswer(text: string, defaultCurrency: string): Extracted | null {
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  if (!json) return null;
  let answer: { name?: unknown; amount?: unknown; currency?: unknown };
  try {
    answer = JSON.parse(json);
  } catch {
    return null;
  }
  if (!answer || typeof answer !== 'object') return null;
  const extracted: Extracted = {};
  if (typeof answer.name === 'string' && answer.name.trim()) extracted.name = answer.name.trim();
  if (typeof answer.amount === 'string' || typeof answer.amount === 'number') {
    const currency =
      typeof answer.currency === 'string' && /^[A-Za-z]{3}$/.test(answer.currency)
        ? answer.currency.toUpperCase()
        : defaultCurrency;
    // Exact string arithmetic, as for typed amounts: "45.1" is 4510 cents, never a float.
    const amount = parseAmount(`${answer.amount} ${currency}`, currency, true);
    if (amount && !('error' in amount)) extracted.amount = amount;
  }
  return Object.keys(extracted).length ? extracted : null;
}
