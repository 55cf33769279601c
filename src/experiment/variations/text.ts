// Case and sentence helpers for the strategies that put words around or in place of the user's.

export function upperFirst(text: string): string {
  return text.replace(/^(\s*)(\p{Ll})/u, (_m, space: string, c: string) => space + c.toUpperCase());
}

export function lowerFirst(text: string): string {
  return text.replace(/^(\s*)(\p{Lu})/u, (_m, space: string, c: string) => space + c.toLowerCase());
}

/** The first word is "I" or an acronym, which keep their capital inside a sentence. */
function keepsCapital(text: string): boolean {
  const first = /^\s*([\p{L}'’]+)/u.exec(text)?.[1] ?? '';
  return /^I(?:$|['’])/u.test(first) || (first.length > 1 && first === first.toUpperCase());
}

/** The replacement written the way the original was: Refund → Reimbursement, REFUND → REIMBURSEMENT. */
export function matchCase(original: string, replacement: string): string {
  const letters = original.replace(/\P{L}/gu, '');
  if (letters.length > 1 && letters === letters.toUpperCase() && letters !== letters.toLowerCase()) return replacement.toUpperCase();
  if (/^\s*\p{Lu}/u.test(original)) return upperFirst(replacement);
  return keepsCapital(replacement) ? replacement : lowerFirst(replacement);
}

/**
 * The text as the rest of a sentence, after a lead-in such as "I was wondering, ": "Can I…" →
 * "can I…", but "I…" and "FAQ…" stay. A name in first place gets lowered too; that is rarer than
 * a common word there.
 */
export function asContinuation(text: string): string {
  return keepsCapital(text) ? text : lowerFirst(text);
}

const GREETING = /^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b/iu;

/**
 * The text's opening greeting (with its punctuation and space) and the rest, so that words can go
 * after it: "Hi! Quick question: …", not "Quick question: Hi! …". A text that is only a greeting
 * is all greeting; one without a greeting is all rest.
 */
export function splitGreeting(text: string): [greeting: string, rest: string] {
  if (!GREETING.test(text)) return ['', text];
  const m = /^([^.!?,]*[.!?,]+\s+)(\S.*)$/su.exec(text);
  return m ? [m[1]!, m[2]!] : [text, ''];
}

/** Ends a sentence that has no final punctuation, so that more sentences can follow it. */
export function endSentence(text: string): string {
  const trimmed = text.trimEnd();
  return /[.!?…。！？]$/u.test(trimmed) ? trimmed : `${trimmed}.`;
}
