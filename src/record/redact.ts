/** Decides what of a recorded value is a secret. */
export interface Redactor {
  /** True when the value stored under `key` must be masked as a whole. */
  isSensitiveKey(key: string): boolean;
  /** `s` with every secret-looking part replaced; `s` itself when nothing matched. */
  redactString(s: string): string;
}

/** The text that stands in for a masked value. */
export const MASK = '***';

const SENSITIVE_WORDS = new Set([
  'token',
  'password',
  'passwd',
  'secret',
  'auth',
  'authorization',
  'credential',
  'credentials',
  'cookie',
  'cookies',
  'apikey',
]);

// Key decisions are asked for on every property of every recorded value; keys repeat a lot, but
// an app can also use ids as keys, so the cache is emptied rather than allowed to grow forever.
const KEY_CACHE_LIMIT = 10_000;

// Words are runs of lowercase letters, capitalized words, acronyms (an uppercase run not followed
// by lowercase: "APIKey" -> API, Key; "OAuthToken" -> O, Auth, Token), digits, and letters of
// scripts without case. Anything else ("_", "-", ".", " ") only separates words.
const WORD = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+|\p{L}+/gu;

/** Splits a key into lowercase words at camelCase, acronym, snake, kebab, dot and space boundaries. */
export function keyWords(key: string): string[] {
  const words = key.match(WORD);
  if (words === null) return [];
  for (let i = 0; i < words.length; i++) words[i] = words[i]!.toLowerCase();
  return words;
}

// The built-in secret shapes, joined into one global pattern so that a string with secrets is
// rewritten in one pass. The groups keep what is not secret: the scheme word of a bearer token,
// and the "://" before URL credentials.
const SECRET_SOURCES = [
  // The auth scheme, then a token of the RFC 6750 alphabet. Eight characters at least, so that
  // prose such as "Bearer of bad news" stays.
  String.raw`\b(Bearer|bearer|BEARER)\s+[A-Za-z0-9\-._~+/]{8,}=*`,
  // OpenAI (sk-..., sk-proj-...) and Anthropic (sk-ant-...) keys; the prefixes use the same alphabet.
  String.raw`\bsk-[A-Za-z0-9_\-]{16,}`,
  // AWS access key ids, long-term (AKIA) and temporary (ASIA).
  String.raw`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`,
  // JWTs: base64url header (always '{"' -> eyJ), payload, and a signature that may be empty.
  String.raw`\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*`,
  // user:pass@ or token@ right after a scheme. Quotes and brackets end it, so that a URL inside
  // JSON text does not reach an e-mail address further on.
  String.raw`(:\/\/)[^\s/?#@"'<>\x60\\{}\[\]]+@`,
  // GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens.
  String.raw`\bgh[pousr]_[A-Za-z0-9]{36,}`,
  String.raw`\bgithub_pat_[A-Za-z0-9_]{22,}`,
  // Slack bot, app, user, refresh and workspace tokens.
  String.raw`\bxox[abprs]-[A-Za-z0-9\-]{10,}`,
  // Google API keys.
  String.raw`\bAIza[0-9A-Za-z_\-]{35}`,
];

// A clean string (nearly all of them) costs this one test. It only looks for the fixed part of
// each shape above, which the regex engine searches for quickly; a hit may be a false alarm,
// which the exact patterns then sort out. Keep it in step with SECRET_SOURCES.
const PRETEST = /Bearer|bearer|BEARER|sk-|AKIA|ASIA|eyJ|:\/\/|gh[pousr]_|github_pat_|xox[abprs]-|AIza/;
const BUILTIN = new RegExp(SECRET_SOURCES.join('|'), 'g');

// Most strings are short ids, names and enum values; none of the shapes above fits in fewer
// characters than this, short of a one-letter URL password.
const MIN_SECRET_LENGTH = 8;

function maskBuiltin(match: string, scheme: string | undefined, slashes: string | undefined): string {
  if (scheme !== undefined) return `${scheme} ${MASK}`;
  if (slashes !== undefined) return `${slashes}${MASK}@`;
  return MASK;
}

/**
 * A redactor with the built-in key words and secret shapes, plus `extraKeys` (key words or
 * phrases, e.g. "ssn" or "session_id") and `extraPatterns` (regular expressions or their source
 * text) whose matches in string values are masked.
 */
export function createRedactor(extraKeys: string[] = [], extraPatterns: Array<string | RegExp> = []): Redactor {
  const phrases = extraKeys.map(keyWords).filter((words) => words.length > 0);
  const extras = compilePatterns(extraPatterns);
  const keyCache = new Map<string, boolean>();

  function decideKey(key: string): boolean {
    const words = keyWords(key);
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      if (SENSITIVE_WORDS.has(word)) return true;
      if (word === 'api' && words[i + 1] === 'key') return true;
    }
    for (const phrase of phrases) if (containsRun(words, phrase)) return true;
    return false;
  }

  return {
    isSensitiveKey(key) {
      let sensitive = keyCache.get(key);
      if (sensitive === undefined) {
        sensitive = decideKey(key);
        if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
        keyCache.set(key, sensitive);
      }
      return sensitive;
    },
    redactString(s) {
      if (s.length < MIN_SECRET_LENGTH) return s;
      let out = s;
      if (PRETEST.test(s)) out = s.replace(BUILTIN, maskBuiltin);
      for (let i = 0; i < extras.length; i++) {
        const { test, replace } = extras[i]!;
        if (test.test(out)) out = out.replace(replace, maskExtra);
      }
      return out;
    },
  };
}

// A configured pattern that can match nothing at all must not put a mask between every character.
function maskExtra(match: string): string {
  return match === '' ? '' : MASK;
}

interface ExtraPattern {
  /** Without the g flag, so that `test` keeps no state between strings. */
  test: RegExp;
  replace: RegExp;
}

function compilePatterns(patterns: Array<string | RegExp>): ExtraPattern[] {
  const compiled: ExtraPattern[] = [];
  for (const pattern of patterns) {
    const source = typeof pattern === 'string' ? pattern : pattern.source;
    const flags = typeof pattern === 'string' ? '' : pattern.flags.replace(/[gy]/g, '');
    // A pattern that does not compile is a configuration error, which the config loader reports;
    // here it must not stop recording, so it is left out.
    try {
      compiled.push({ test: new RegExp(source, flags), replace: new RegExp(source, `${flags}g`) });
    } catch {
      continue;
    }
  }
  return compiled;
}

function containsRun(words: string[], run: string[]): boolean {
  outer: for (let start = 0; start + run.length <= words.length; start++) {
    for (let j = 0; j < run.length; j++) if (words[start + j] !== run[j]) continue outer;
    return true;
  }
  return false;
}
