// The text of a day's message: generated once per audience (a language) per local date by default,
// never a repeat (exact or near) of what that audience had within the horizon, and never longer than
// DAILY_MAX_SEGMENTS: a text that does not fit or repeats is regenerated, then replaced by the
// offline library; it is never cut.

import { DateTime } from 'luxon';
import type { LanguageModels } from '../../platform/ai/client.ts';
import { countSegments } from '../../platform/channels/sms/segments.ts';
import { and, eq, gte, lt } from '../../platform/db/drizzle.ts';
import type { DbOrTx } from '../../platform/db/transaction.ts';
import { dayNumber, LIBRARY_CYCLE, libraryMessage, subscriberOffset } from './offline-library.ts';
import { dailyContents } from './schema.ts';
import { fingerprint, isRepeat } from './similarity.ts';

export const PURPOSE = 'daily.message';
const ATTEMPTS = 3;

export interface ContentRules {
  maxSegments: number;
  repeatHorizonDays: number;
  prompt: string | null;
}

export interface ChosenContent {
  body: string;
  source: 'model' | 'offline';
  reason: string | null;
}

export const horizonStart = (localDate: string, days: number) =>
  DateTime.fromISO(localDate, { zone: 'UTC' }).minus({ days }).toISODate() as string;

const DEFAULT_PROMPT =
  'You write one short, warm, uplifting text message for adults. Plain words, no hashtags, no emoji, ' +
  'no quotation marks, no greeting by name. At most 140 characters. Answer with the message only.';

const clean = (text: string) =>
  text
    .replace(/^["'\s]+|["'\s]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim();

/** Asks the model (with up to ATTEMPTS tries) for a text that fits and does not repeat `previous`. */
export async function generateMessage(
  ai: LanguageModels,
  rules: ContentRules,
  options: { language: string; localDate: string; previous: string[]; offline: (skip: number) => string },
): Promise<ChosenContent> {
  const system = `${rules.prompt ?? DEFAULT_PROMPT} Write in the language with code "${options.language}".`;
  const avoid = options.previous.slice(-10);
  let problem: string | null = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const request =
      `Today's message for ${options.localDate}.` +
      (avoid.length
        ? ` It must not resemble any of these earlier ones:\n${avoid.map((b) => `- ${b}`).join('\n')}`
        : '') +
      (problem ? `\nYour previous answer was rejected: ${problem}.` : '');
    const result = await ai.generate({
      purpose: PURPOSE,
      system,
      messages: [{ role: 'user', content: request }],
      maxOutputTokens: 120,
      temperature: 0.9,
      fallback: () => '',
    });
    if (result.source === 'offline')
      return offlineMessage(rules, options.previous, options.offline, result.reason ?? 'provider_error');
    const text = clean(result.text);
    if (countSegments(text).segments > rules.maxSegments) problem = 'it was too long for one text message';
    else if (isRepeat(text, options.previous)) problem = 'it repeated an earlier message';
    else if (text.length < 10) problem = 'it was empty';
    else return { body: text, source: 'model', reason: null };
  }
  return offlineMessage(rules, options.previous, options.offline, problem ?? 'rejected');
}

/** The first library message from the sequence that fits and repeats nothing in `previous`. */
export function offlineMessage(
  rules: Pick<ContentRules, 'maxSegments'>,
  previous: string[],
  at: (skip: number) => string,
  reason: string,
): ChosenContent {
  for (let skip = 0; skip < LIBRARY_CYCLE; skip += 1) {
    const body = at(skip);
    if (countSegments(body).segments <= rules.maxSegments && !isRepeat(body, previous))
      return { body, source: 'offline', reason };
  }
  throw new Error('the offline library has no message left that is not a repeat');
}

/** The audience's position in the library on a date (shared by everyone of the audience). */
export const audienceSequence = (localDate: string) => (skip: number) =>
  libraryMessage(dayNumber(localDate) + skip * 437);

/** A subscriber's own position, for those who get a personal text. */
export const subscriberSequence = (subscriberId: string, localDate: string) => (skip: number) =>
  libraryMessage(dayNumber(localDate) + subscriberOffset(subscriberId) + skip * 437);

/**
 * The audience's text for a local date: the one stored, or a new one (model or offline) stored now.
 * Two planners racing agree: the first insert wins and both use it.
 */
export async function audienceContent(
  db: DbOrTx,
  ai: LanguageModels,
  rules: ContentRules,
  localDate: string,
  audience: string,
): Promise<ChosenContent> {
  const stored = async () =>
    (
      await db
        .select()
        .from(dailyContents)
        .where(and(eq(dailyContents.localDate, localDate), eq(dailyContents.audience, audience)))
    )[0];
  const existing = await stored();
  if (existing) return { body: existing.body, source: existing.source, reason: existing.reason };
  const previous = (
    await db
      .select({ body: dailyContents.body })
      .from(dailyContents)
      .where(
        and(
          eq(dailyContents.audience, audience),
          gte(dailyContents.localDate, horizonStart(localDate, rules.repeatHorizonDays)),
          lt(dailyContents.localDate, localDate),
        ),
      )
  ).map((r) => r.body);
  const chosen = await generateMessage(ai, rules, {
    language: audience,
    localDate,
    previous,
    offline: audienceSequence(localDate),
  });
  await db
    .insert(dailyContents)
    .values({ localDate, audience, ...chosen, fingerprint: fingerprint(chosen.body) })
    .onConflictDoNothing();
  const final = await stored();
  return final ? { body: final.body, source: final.source, reason: final.reason } : chosen;
}
