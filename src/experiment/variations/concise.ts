import { matchCase } from './text';
import type { Transform } from './index';

// Words that carry politeness or hedging but not the request.
const FILLERS: RegExp[] = [
  /^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening))(?: there| team| all| everyone)?\s*[,!.]*\s*/iu,
  /\b(?:thanks|thank you)(?: so much| very much| a lot)?(?: in advance)?(?: for (?:your|the) (?:help|time))?\s*[!.,]*/giu,
  /\b(?:sorry to bother you(?: with this)?|i hope this is the right place to ask|any help would be (?:greatly )?appreciated|hope you(?:'|’)re doing well)\s*[!.,]*/giu,
  /\bi was wondering(?: if| whether|,)?\s*/giu,
  /\bcould you please\s*/giu,
  /\b(?:please|kindly|just|really|actually|basically)\b,?\s*/giu,
];

const ARTICLES = /\b(?:a|an|the)\s+/giu;

const STOPWORDS = new Set(
  (
    'a an the and or but so if then than of to in on at by for with from about into over after before as is am are was were be been being ' +
    'do does did doing have has had having i me my mine we us our you your yours he him his she her it its they them their this that these those ' +
    'there here what which who whom whose when where why how can could would should will shall may might must ' +
    "i'm i've i'd i'll you're it's that's what's there's let's some any just really very also please hi hello hey thanks thank"
  ).split(' '),
);

/** Spaces and punctuation left tidy after words were cut out. */
function tidy(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/\s+([,.!?;:])/g, '$1')
    .replace(/([,;:])(?=[,.!?;:])/g, '')
    .replace(/^[\s,.;:!]+/, '')
    .trim();
}

export function dropFillers(text: string): string {
  const out = tidy(FILLERS.reduce((t, re) => t.replace(re, ' '), text));
  return matchCase(text.trim(), out);
}

function dropArticles(text: string): string {
  return matchCase(text, tidy(text.replace(ARTICLES, '')));
}

function words(text: string): string[] {
  return text.match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu) ?? [];
}

/** Content words only, lower case, no punctuation. Negations stay: dropping them would flip the meaning. */
function keywords(text: string): string {
  return words(text.replace(/’/g, "'").toLowerCase())
    .filter((w) => !STOPWORDS.has(w))
    .join(' ');
}

// A clause that opens with one of these only sets the scene ("In order to get a refund, …").
const SUBORDINATE = /^(?:in order to|to|if|when|whenever|because|since|although|though|while|after|before|as|once|unless)\b/iu;

/** The first main clause of a long input: the part that usually holds the request. */
function firstClause(text: string): string | undefined {
  if (words(text).length < 8) return undefined;
  const clauses = text.split(/[,;:]|(?<=[.!?])\s+|\s+(?:and|but|because|so)\s+/u).map((c) => c.trim());
  const clause = clauses.find((c) => !SUBORDINATE.test(c) && words(c).length >= 3);
  return clause === undefined ? undefined : matchCase(text, clause);
}

/** The reductions in the order attempts walk them: each a little terser than the one before. */
function reductions(base: string): string[] {
  const plain = dropFillers(base);
  const bare = dropArticles(plain);
  const clause = firstClause(bare);
  const keys = keywords(bare);
  const clauseKeys = clause === undefined ? undefined : keywords(clause);
  const seen = new Set<string>();
  const length = base.trim().length;
  return [plain, bare, clause, keys, clauseKeys].filter((r): r is string => {
    if (r === undefined || !/[\p{L}\p{N}]/u.test(r) || r.length >= length || r === base || seen.has(r)) return false;
    seen.add(r);
    return true;
  });
}

/** Attempt n gives the n-th reduction; undefined once they run out. */
export const concise: Transform = (base, { attempt }) => {
  const r = reductions(base)[attempt];
  return r === undefined ? undefined : { input: r };
};
