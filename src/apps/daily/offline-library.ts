// The offline generator: a reviewed library of short, plain (GSM-7, one SMS segment) parts that
// combine into a message when no language model answers: a greeting, a thought and a small nudge.
// Message n is opener[n % 23], middle[n % 29], closer[n % 19]: the lengths are pairwise coprime, so
// the sequence repeats only after 23 x 29 x 19 = 12,673 positions, and any two messages less than
// 437 positions apart share at most one of their three parts (23 x 19 = 437 is the shortest period of
// a pair). Thought and nudge are of similar length, so sharing one part is not a near repeat: a
// subscriber stepping one position a day gets no repeat, exact or near, for over a year.

export const OPENERS = [
  'Good afternoon!',
  'Hello there!',
  'A quick note for you:',
  'Here is a thought:',
  'Pause for a second.',
  'Hi!',
  'Today, remember this:',
  'Just a reminder:',
  'Something for today:',
  'Take a breath.',
  'Hey, you.',
  'A small message:',
  'Halfway through the day:',
  'Quick check-in:',
  'Good news first:',
  'From us to you:',
  'Little reminder:',
  'Hello, friend.',
  'Afternoon thought:',
  'Here you go:',
  'Consider this:',
  'One thing to keep:',
  "Today's note:",
] as const;

export const MIDDLES = [
  'Small steps still move you forward, even on slow days.',
  'You have handled hard things before, and you can handle this one too.',
  'Kindness you give away has a way of finding its way back.',
  'Progress is not always loud. Quiet effort counts just as much.',
  'You do not have to do it all today. One good thing is enough.',
  'The effort you put in today is building something you will be glad of.',
  'Rest is part of the work, not a break from it.',
  'Someone is grateful you are in their life, whether they say it or not.',
  'Curiosity is a good companion. Ask one new question today.',
  'You are allowed to start again, as many times as you need.',
  'A walk, a glass of water and a deep breath can change an afternoon.',
  'Being patient with yourself is a skill, and you are getting better at it.',
  'The best time to begin is often the moment you are in.',
  'What you are learning now will make tomorrow easier.',
  'Your pace is your own. Comparison can wait.',
  'Celebrate one thing you got right this week, however small.',
  'Good days are built from ordinary moments done with care.',
  'It is fine to ask for help. Strong people do it all the time.',
  'A kind word to someone else today may be the best part of their day.',
  'Every expert was once a beginner who did not give up.',
  'You bring something to the table that nobody else does.',
  'Mistakes mean you are trying. Keep trying.',
  'Look up for a moment. There is more good around you than it seems.',
  'Finishing one small task can clear the way for the next.',
  'Today does not need to be perfect to be worthwhile.',
  'Your future self will thank you for the care you take today.',
  'Gratitude turns what we have into enough.',
  'Hope is a habit. Practise it a little every day.',
  'You have come further than you think. Look back and see.',
] as const;

export const CLOSERS = [
  'Drink some water and stretch for a minute.',
  'Send a kind word to someone you miss.',
  'Step outside and look at the sky for a bit.',
  'Write down one thing that went well today.',
  'Put on a song you love and enjoy it.',
  'Give yourself credit for showing up.',
  'Take five slow breaths before the next task.',
  'Tidy one small corner and enjoy the calm.',
  'Say thank you to someone who helped you.',
  'Let one worry go for the rest of the day.',
  'Stand up, roll your shoulders, carry on.',
  'Eat something good and take your time.',
  'Call someone who makes you laugh.',
  'Notice three things around you that you like.',
  'Plan one small treat for this evening.',
  'Smile at the next person you see.',
  'Finish one little thing and call it a win.',
  'Be as kind to yourself as to a friend.',
  'Keep going. You are doing better than you think.',
] as const;

export const LIBRARY_CYCLE = OPENERS.length * MIDDLES.length * CLOSERS.length;

/** The library message at position `n` (any integer; positions wrap after LIBRARY_CYCLE). */
export function libraryMessage(n: number): string {
  const i = ((Math.trunc(n) % LIBRARY_CYCLE) + LIBRARY_CYCLE) % LIBRARY_CYCLE;
  return `${OPENERS[i % OPENERS.length]} ${MIDDLES[i % MIDDLES.length]} ${CLOSERS[i % CLOSERS.length]}`;
}

/** Days since 1970-01-01 for a `YYYY-MM-DD` date: the audience's position for that day. */
export const dayNumber = (localDate: string) => Math.floor(Date.parse(`${localDate}T00:00:00Z`) / 86_400_000);

/** A stable offset per subscriber, so people who fall back individually do not all get the same text. */
export function subscriberOffset(id: string): number {
  let hash = 2166136261;
  for (let i = 0; i < id.length; i += 1) hash = Math.imul(hash ^ id.charCodeAt(i), 16777619);
  return (hash >>> 0) % LIBRARY_CYCLE;
}
