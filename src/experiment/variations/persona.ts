import type { Persona } from '../../config/types';
import { dropFillers } from './concise';
import { chance, pick, shuffle, type Random } from './random';
import { asContinuation, endSentence, lowerFirst } from './text';
import type { Transform } from './index';

type Voice = 'hurried' | 'frustrated' | 'formal' | 'novice' | 'expert';

// Cues looked for in the persona's description, characteristics and expertise level.
const CUES: Array<[Voice, RegExp]> = [
  ['hurried', /hurr|impatient|busy|rush|short on time|no time|time-poor|brief|terse|\bshort\b|quick|concise/],
  ['frustrated', /frustrat|angry|annoyed|upset|irritat|furious|impatient|fed up|complain/],
  ['formal', /polite|formal|courteous|respectful|old-fashioned/],
  ['novice', /novice|beginner|new to|newbie|non-technical|not technical|not tech|first[- ]time|inexperienced|elderly|confused/],
  ['expert', /expert|(?<!non-|not )technical|developer|engineer|advanced|power user|programmer|tech-savvy/],
];

interface Wording {
  before: string[];
  after: string[];
}

const WORDING: Record<Voice, Wording> = {
  hurried: { before: ['Quick one: '], after: [' Quick answer pls.', ' Need this fast.', ' In a hurry, thx.'] },
  frustrated: {
    before: ['This is really frustrating. ', "Seriously, ", "I'm getting fed up here. ", 'Ugh. '],
    after: [' This is ridiculous!', " I've already waited long enough!", ' Please just sort this out!'],
  },
  formal: {
    before: ['Good day. ', 'Dear support team, ', 'Excuse me, ', 'Good afternoon. I would like to enquire: '],
    after: [' Thank you kindly.', ' I would greatly appreciate your assistance.', ' Kind regards.'],
  },
  novice: {
    before: ["I'm new to this, sorry if this is a basic question. ", "Sorry, I'm not very technical. ", "I'm a beginner here, so please bear with me. "],
    after: [' Could you explain it step by step?', ' Please keep it simple.'],
  },
  expert: {
    before: ['Technical question: ', "FYI, I've already checked the docs. ", 'Skipping the basics: '],
    after: [' No need for the basics.', ' A precise answer is fine, I can handle the details.'],
  },
};

// A persona with no cue at all still speaks up a little.
const PLAIN: Wording = { before: ['Hi, ', 'Hello! ', 'Quick question: '], after: [' Thanks.'] };

const GREETINGS: Record<string, string> = { es: 'Hola.', fr: 'Bonjour.', de: 'Hallo.', pt: 'Olá.', it: 'Ciao.', ko: '안녕하세요.', ja: 'こんにちは。', zh: '你好。' };
const LANGUAGE_NAMES: Record<string, string> = {
  spanish: 'es', español: 'es', french: 'fr', français: 'fr', german: 'de', deutsch: 'de', portuguese: 'pt', português: 'pt',
  italian: 'it', italiano: 'it', korean: 'ko', 한국어: 'ko', japanese: 'ja', 日本語: 'ja', chinese: 'zh', mandarin: 'zh', 中文: 'zh',
};

// Goals that start with one of these read as "I need to <goal>"; others as "My priority is <goal>".
const VERBS = new Set(
  ('get find buy cancel return fix resolve understand learn know check track change update reset receive save compare complete book make pay ' +
    'avoid contact speak talk see have keep set use start stop close open upgrade downgrade report obtain solve recover access transfer send ' +
    'order replace exchange sign log delete remove file claim reach confirm apply finish move schedule').split(' '),
);
const VERB_GOALS = ['My goal is to $.', 'I need to $.', "What I'm trying to do is $.", "I'm trying to $."];
const OTHER_GOALS = ['My goal: $.', 'My priority is $.', 'What I care about most: $.'];

function voicesOf(persona: Persona): Voice[] {
  const traits = [persona.description ?? '', ...persona.characteristics, persona.expertise_level ?? ''].join(' ').toLowerCase();
  const voices = CUES.filter(([, re]) => re.test(traits)).map(([v]) => v);
  // "non-technical" and "developer" together are rarer than a loose match: trust the novice cue.
  return voices.includes('novice') ? voices.filter((v) => v !== 'expert') : voices;
}

function greetingFor(language: string | undefined): string | undefined {
  const name = language?.trim().toLowerCase() ?? '';
  return GREETINGS[LANGUAGE_NAMES[name] ?? name.split(/[-_]/)[0]!];
}

function speak(rng: Random, text: string, voice: Voice | 'plain'): string {
  const wording = voice === 'plain' ? PLAIN : WORDING[voice];
  if (voice === 'hurried' && chance(rng, 0.5)) return text.replace(/([.!?]*)$/u, (end) => ` ASAP${end || '!'}`);
  const core = voice === 'frustrated' && chance(rng, 0.5) ? text.replace(/\?$/u, '?!').replace(/\.$/u, '!') : text;
  const place = pick(rng, ['before', 'after', 'both'] as const);
  const before = place !== 'after' ? pick(rng, wording.before) : '';
  const after = place !== 'before' ? pick(rng, wording.after) : '';
  const joined = before === '' || /[:.!] $/u.test(before) ? core : asContinuation(core);
  return before + (after ? endSentence(joined) : joined) + after;
}

function goalSentence(rng: Random, goal: string): string {
  let g = goal.trim().replace(/[.!]+$/u, '').replace(/^to\s+/iu, '');
  if (/^\p{Lu}\p{Ll}/u.test(g)) g = lowerFirst(g);
  const verb = VERBS.has(g.split(/\s/)[0]!.toLowerCase());
  return pick(rng, verb ? VERB_GOALS : OTHER_GOALS).replace('$', g);
}

/** The input as this persona would write it: their voice, one of their goals, a greeting in their language. */
export const personaBased: Transform = (base, { rng, persona }) => {
  if (persona === undefined || base.trim() === '') return undefined;
  const voices = voicesOf(persona);
  const goals = persona.goals.filter((g) => g.trim() !== '');
  const greeting = greetingFor(persona.language);
  // One voice, sometimes two: all of them at once pile up into a caricature.
  let used: Array<Voice | 'plain'> = shuffle(rng, voices).slice(0, chance(rng, 0.4) ? 2 : 1);
  const goal = goals.length > 0 && (chance(rng, 0.6) || used.length === 0) ? pick(rng, goals) : undefined;
  const greet = greeting !== undefined && (chance(rng, 0.6) || (used.length === 0 && goal === undefined));
  if (used.length === 0 && goal === undefined && !greet) used = ['plain'];
  let text = base.trim();
  // A hurried writer skips the pleasantries of the input itself (not those the other voices add).
  const hurried = used.includes('hurried') ? dropFillers(text) : text;
  if (/[\p{L}\p{N}]/u.test(hurried)) text = hurried;
  for (const voice of used) text = speak(rng, text, voice);
  if (goal !== undefined) {
    const sentence = goalSentence(rng, goal);
    text = chance(rng, 0.5) ? `${sentence} ${text}` : `${endSentence(text)} ${sentence}`;
  }
  if (greet) text = `${greeting} ${text}`;
  return { input: text };
};
