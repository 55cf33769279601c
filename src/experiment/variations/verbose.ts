import { chance, pick } from './random';
import { endSentence, splitGreeting, upperFirst } from './text';
import type { Transform } from './index';

const GREETINGS = ['Hi there!', 'Hello!', "Hey, hope you're doing well.", 'Good morning!', 'Hi team!', 'Hello, I hope you can help me.'];
const CONTEXT = [
  "I've been trying to sort this out for a while.",
  'I hope this is the right place to ask.',
  "I've been a customer for a few years now.",
  "I couldn't find the answer in the FAQ.",
  'Sorry to bother you with this.',
  "I have a question that's been on my mind.",
  'I looked around on the website but got a bit lost.',
];
const HAS_THANKS = /\b(?:thanks|thank you|appreciate)/iu;
const CLOSINGS = [
  'Thanks so much in advance!',
  'Any help would be greatly appreciated.',
  'Looking forward to hearing from you.',
  'Thank you for your time!',
  'Thanks a lot, have a great day!',
  'I really appreciate your help with this.',
  'Let me know if you need any more details.',
  'Hope to hear back soon.',
];

/** The same request padded with a greeting, context and a closing, as chatty users write it. */
export const verbose: Transform = (base, { rng }) => {
  const core = base.trim();
  if (core === '') return undefined;
  // A second greeting or thank-you next to the user's own would read as a glitch: the context goes
  // after the user's greeting instead, and the closing is one without thanks.
  const [greeting, rest] = splitGreeting(core);
  const closings = HAS_THANKS.test(core) ? CLOSINGS.filter((c) => !HAS_THANKS.test(c)) : CLOSINGS;
  const open = greeting ? ['context', 'closing'] : ['greeting', 'context', 'closing'];
  const odds: Record<string, number> = { greeting: 0.7, context: 0.6, closing: 0.7 };
  let parts: string[] = [];
  // Retry the coin flips until at least two pieces (where two are open) are added, so the result reads clearly longer.
  for (let tries = 0; parts.length < Math.min(2, open.length) && tries < 10; tries++) parts = open.filter((p) => chance(rng, odds[p]!));
  if (parts.length < Math.min(2, open.length)) parts = open;
  const pieces = [
    parts.includes('greeting') ? pick(rng, GREETINGS) : '',
    // "Hi, can I…" becomes "Hi! Can I…": the greeting is a sentence of its own now.
    greeting ? endSentence(upperFirst(greeting.trim().replace(/[,;:]$/u, '!'))) : '',
    parts.includes('context') ? pick(rng, CONTEXT) : '',
    rest ? endSentence(upperFirst(rest)) : '',
    parts.includes('closing') ? pick(rng, closings) : '',
  ];
  return { input: pieces.filter(Boolean).join(' ') };
};
