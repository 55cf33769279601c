import { chance, int, pick, shuffle, type Random } from './random';
import type { Transform } from './index';
import { asContinuation, lowerFirst, matchCase, splitGreeting } from './text';

// After a sentence end or at the start: question frames only make sense there.
const START = String.raw`(?<=^\s*|[.!?]\s+)`;

interface Frame {
  re: RegExp;
  /** $1, $2… are the pattern's groups. */
  alts: string[];
}

const frame = (source: string, alts: string[]): Frame => ({ re: new RegExp(source, 'iu'), alts });

const FRAMES: Frame[] = [
  frame(`${START}can i (.+?)\\?`, ['Is it possible to $1?', 'Am I able to $1?', 'Could I $1?', 'Would it be possible to $1?']),
  frame(`${START}could i (.+?)\\?`, ['Can I $1?', 'Is it possible to $1?', 'Would I be able to $1?']),
  frame(`${START}is it possible to (.+?)\\?`, ['Can I $1?', 'Could I $1?']),
  frame(`${START}can you (.+?)\\?`, ['Could you $1?', 'Would you be able to $1?', 'Are you able to $1?']),
  frame(`${START}could you (.+?)\\?`, ['Can you $1?', 'Would you be able to $1?']),
  frame(`${START}how do i (.+?)\\?`, ["What's the way to $1?", 'How can I $1?', 'What should I do to $1?', 'How would I $1?']),
  frame(`${START}how can i (.+?)\\?`, ['How do I $1?', "What's the best way to $1?"]),
  frame(`${START}where can i (.+?)\\?`, ['Where would I be able to $1?', 'Where do I $1?']),
  frame(`${START}is the (.+?) open\\b(.*?)\\?`, ['Will the $1 be open$2?', 'Is the $1 open for business$2?', 'Does the $1 open$2?']),
  frame(`${START}when (?:does|do) the (.+?) (open|close)\\b(.*?)\\?`, ['What time does the $1 $2$3?', 'At what time does the $1 $2$3?']),
  frame(`${START}do you have (.+?)\\?`, ['Have you got $1?', 'Do you happen to have $1?']),
  frame(`${START}how much (?:does|do) (.+?) cost\\?`, ["What's the price of $1?", 'What does $1 cost?']),
  frame(`${START}please,? (.+?)(?:[.!]+|$)`, ['Could you $1?', 'Can you $1?', "I'd like you to $1."]),
  frame(`(?<![\\p{L}])what should i do\\?`, ['what do you suggest?', 'what are my options?', 'how should I handle this?', 'what do you recommend?']),
];

// Phrasal uses ("get to", "get it") mean something else and are left alone.
const NOT_PHRASAL = String.raw`(?! (?:to|in|into|out|up|back|there|here|home|rid|started|on|off|away|over|through|it|lost|along|ready|used|better|worse)\b)`;
const BEFORE_OBJECT = String.raw`(?= (?:a|an|the|it|this|that|these|those|them|my|your|some|more|me)\b)`;

/** [pattern (regex source, matched as whole words, case-insensitive), replacements]. Longer matches win over shorter overlapping ones. */
const SYNONYMS: Array<[string, string[]]> = [
  ['a refund', ['a reimbursement', 'my money back']],
  ['refund', ['reimbursement']],
  ['refunds', ['reimbursements']],
  ['refunded', ['reimbursed']],
  [`get${NOT_PHRASAL}`, ['receive', 'obtain']],
  [`got${NOT_PHRASAL}`, ['received']],
  ['receive', ['get']],
  ['received', ['got']],
  ['buy', ['purchase']],
  ['bought', ['purchased']],
  ['buying', ['purchasing']],
  [`purchase${BEFORE_OBJECT}`, ['buy']],
  ['purchased', ['bought']],
  ['help me', ['assist me', 'give me a hand']],
  ['help us', ['assist us']],
  ['need help', ['need assistance', 'need some support']],
  ['assist', ['help']],
  ['I want', ['I would like', "I'd like"]],
  ['need to', ['have to', 'must']],
  ['need(?! to\\b)', ['require']],
  ['shop(?! (?:online|around|for)\\b)', ['store']],
  ['shops', ['stores']],
  ['store', ['shop']],
  ['stores', ['shops']],
  ['problem', ['issue']],
  ['problems', ['issues']],
  ['issue', ['problem']],
  ['issues', ['problems']],
  ['cancel', ['call off']],
  ['cancell?ed', ['called off']],
  ['(?<!in )order', ['purchase']],
  ['orders', ['purchases']],
  ['ordered', ['bought', 'purchased']],
  ['account', ['profile']],
  ['log in', ['sign in']],
  ['sign in', ['log in']],
  ['logged in', ['signed in']],
  ['price', ['cost']],
  ['prices', ['costs']],
  ['cheap', ['inexpensive', 'affordable']],
  ['expensive', ['pricey', 'costly']],
  ['broken', ['damaged', 'busted']],
  ['arrived', ['came', 'showed up', 'got here']],
  ['package', ['parcel']],
  ['parcel', ['package']],
  ['delivery', ['shipment']],
  ['delivered', ['shipped']],
  ['item', ['product']],
  ['items', ['products']],
  ['product', ['item']],
  ['products', ['items']],
  ['money', ['funds']],
  ['fix', ['repair', 'resolve']],
  ['change', ['modify', 'update']],
  ['delete', ['remove']],
  ['remove', ['delete']],
  ['find(?! out\\b)', ['locate']],
  ['check(?! (?:out|in)\\b)', ['verify']],
  [`return${BEFORE_OBJECT}`, ['send back']],
  ['send(?! back\\b)', ['forward']],
  ['show me', ['let me see']],
  ['tell me', ['let me know']],
  ['let me know', ['tell me']],
  ['contact(?= (?:you|support|someone|the|a|an|customer|your)\\b)', ['reach', 'get in touch with']],
  ['talk to', ['speak with', 'chat with']],
  ['speak to', ['talk to', 'speak with']],
  ['question', ['query']],
  ['questions', ['queries']],
  ['information', ['info', 'details']],
  ['info', ['information', 'details']],
  ['website', ['site', 'web page']],
  ['working', ['functioning']],
  ['start', ['begin']],
  ['quickly', ['fast', 'promptly']],
  ['soon', ['shortly']],
  ['right now', ['immediately']],
  ['right away', ['immediately', 'at once']],
  ['immediately', ['right away', 'at once']],
  ['asap', ['as soon as possible']],
  ['as soon as possible', ['ASAP', 'at the earliest opportunity']],
  ['a lot of', ['plenty of', 'lots of']],
  ['lots of', ['a lot of', 'plenty of']],
  ['very', ['really', 'extremely']],
  ['really', ['truly']],
  ['maybe', ['perhaps']],
  ['perhaps', ['maybe']],
  ['wrong', ['incorrect']],
  ['big', ['large']],
  ['large', ['big']],
  ['hi', ['hello', 'hey']],
  ['hello', ['hi', 'hey there']],
  ['hey', ['hi', 'hello']],
  ['thanks', ['thank you', 'many thanks']],
  ['thank you', ['thanks']],
  ["what['’]s", ['what is']],
  ['what is', ["what's"]],
  ["where['’]s", ['where is']],
  ['where is', ["where's"]],
  ["I['’]m", ['I am']],
  ['I am', ["I'm"]],
  ["it['’]s", ['it is']],
  ['it is', ["it's"]],
  ["don['’]t", ['do not']],
  ['do not', ["don't"]],
  ["doesn['’]t", ['does not']],
  ['does not', ["doesn't"]],
  ["didn['’]t", ['did not']],
  ['did not', ["didn't"]],
  ["can['’]t", ['cannot']],
  ['cannot', ["can't"]],
];

const SYNONYM_RES = SYNONYMS.map(([source, alts]) => ({ re: new RegExp(`(?<![\\p{L}\\p{N}'’])(?:${source})(?![\\p{L}\\p{N}])`, 'giu'), alts }));

const QUESTION_LEAD_INS = ['Quick question: ', 'I was wondering, ', 'Just curious, ', 'Sorry to ask, but '];
const LEAD_INS = ['So, ', 'Okay, so ', 'Um, '];
const QUESTION_TAILS = [', could you tell me?', '? Any idea?', ', do you know?'];

interface Found {
  start: number;
  end: number;
  text: string;
  alts: string[];
}

/** Non-overlapping synonym matches, longest first where they overlap. */
function synonymsIn(text: string): Found[] {
  const all: Found[] = [];
  for (const { re, alts } of SYNONYM_RES) {
    for (const m of text.matchAll(re)) all.push({ start: m.index, end: m.index + m[0].length, text: m[0], alts });
  }
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Found[] = [];
  for (const f of all) {
    const last = kept[kept.length - 1];
    if (last && f.start < last.end) {
      if (f.end - f.start > last.end - last.start) kept[kept.length - 1] = f;
      continue;
    }
    kept.push(f);
  }
  return kept;
}

function replaceSynonyms(rng: Random, text: string, found: Found[]): string {
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.start) + matchCase(f.text, pick(rng, f.alts));
    at = f.end;
  }
  return out + text.slice(at);
}

function applyFrame(rng: Random, text: string, f: Frame): string {
  return text.replace(f.re, (matched: string, ...rest: unknown[]) => {
    // The groups come before the offset and the whole string.
    const groups = rest.slice(0, -2) as Array<string | undefined>;
    const body = pick(rng, f.alts).replace(/\$(\d)/g, (_m, n: string) => groups[Number(n) - 1] ?? '');
    return matchCase(matched, body);
  });
}

function addFraming(rng: Random, text: string): string {
  if (text.trimEnd().endsWith('?') && chance(rng, 0.4)) return text.trimEnd().replace(/\?+$/, pick(rng, QUESTION_TAILS));
  // A text that is only a greeting gets the lead-in in front.
  const [greeting, rest] = splitGreeting(text).includes('') ? ['', text] : splitGreeting(text);
  const picked = pick(rng, text.includes('?') ? QUESTION_LEAD_INS : LEAD_INS);
  // After "Hello, " the lead-in goes on the same sentence.
  const lead = /,\s*$/u.test(greeting) ? lowerFirst(picked) : picked;
  return greeting + lead + (lead.endsWith(': ') ? rest : asContinuation(rest));
}

/** Paraphrase by a question frame, synonyms and a lead-in, each taken or not by the rng. */
export const rephrase: Transform = (base, { rng }) => {
  if (base.trim() === '') return undefined;
  const frames = FRAMES.filter((f) => f.re.test(base));
  let text = base;
  if (frames.length > 0 && chance(rng, 0.6)) text = applyFrame(rng, text, pick(rng, frames));
  const found = synonymsIn(text);
  const chosen = found.filter(() => chance(rng, 0.5));
  text = replaceSynonyms(rng, text, chosen);
  if (chance(rng, 0.3)) text = addFraming(rng, text);
  if (text !== base) return { input: text };
  // Nothing was taken this time: force one change, the kind again left to the rng.
  const forced = shuffle(rng, ['synonym', 'frame', 'framing'] as const).find((k) => (k === 'synonym' ? found.length : k === 'frame' ? frames.length : 1) > 0);
  if (forced === 'synonym') return { input: replaceSynonyms(rng, base, [found[int(rng, found.length)]!]) };
  if (forced === 'frame') return { input: applyFrame(rng, base, pick(rng, frames)) };
  return { input: addFraming(rng, base) };
};
