import { isUtf8 } from 'node:buffer';
import { BUILTIN_OPENINGS } from './builtin-openings';
import { openingTable, unpackTable } from './openings';

/** Decides what of a recorded value is a secret. */
export interface Redactor {
  /** True when the value stored under `key` must be masked as a whole. */
  isSensitiveKey(key: string): boolean;
  /**
   * True when `value`, stored under `key`, is written as the mask: the key is secret-named and the
   * value is there (not `undefined`, `null` or `''`), is no callable, and is no count (a number
   * under a token key, such as `tokens: 20`).
   */
  masks(key: string, value: unknown): boolean;
  /** `s` with every secret-looking part replaced; `s` itself when nothing matched. */
  redactString(s: string): string;
  /**
   * The pairs of characters that a secret `redactString` looks for can open with (see
   * `openingTable`): it gives back a string none of whose pairs is in the table as it is, so a
   * writer that looks every pair up as it copies need not call it. Undefined when a configured
   * pattern can match the empty string, or cannot be read.
   */
  readonly openings: Uint8Array | undefined;
  /**
   * `bytes` with every secret-looking part overwritten by `*`, byte for byte, so that the length
   * and every other byte stay as they were; `bytes` itself when nothing matched.
   */
  redactBytes(bytes: Buffer): Buffer;
}

/** The text that stands in for a masked value. */
export const MASK = '***';

/** One redaction rule, as the README's table lists it. */
export interface RedactionRule {
  /** A stable name, the table's first column. */
  readonly id: string;
  /** What the rule looks at: an object key, a string (anywhere in it), or a container. */
  readonly kind: 'key' | 'string' | 'container';
  /** What it masks (Markdown). */
  readonly masks: string;
  /** An example (Markdown). */
  readonly example: string;
  /** What it leaves as it is (Markdown). */
  readonly keeps: string;
}

/** A string rule: its regular expression and the fixed text that any match contains. */
interface StringRule extends RedactionRule {
  readonly kind: 'string';
  /**
   * Capturing groups in threes, (kept before)(secret)(kept after), with every other group
   * non-capturing; a rule with several forms has one three per form.
   */
  readonly pattern: string;
  /**
   * A regular expression, as cheap as can be, that every match of `pattern` matches too; for a
   * rule that reads a name, made from the source of a name the key rules may call secret.
   */
  readonly pretest: string | ((secretName: string) => string);
  /**
   * The pretest as the scan looks for it, where that differs: from a less common character of
   * it, with a look behind for what comes before that character. It matches the same strings. The
   * regex engine tries a match at every character one of its alternatives can open with, so a
   * pretest that opens with a common letter (the `s` of `sk-`, the `e` of `eyJ`) has the scan
   * stop at every one of them in prose: the scan cost three times as much before these.
   */
  readonly scan?: string;
  /** A test of each match beyond its shape; a match that fails it stays. */
  readonly check?: 'secret name or query key' | 'secret name before colon' | 'basic credentials';
}

// The words of the key rules, also printed in the README's table.
const SECRET_WORDS = [
  'token',
  'tokens',
  'password',
  'passwords',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'secret',
  'secrets',
  'auth',
  'authorization',
  'credential',
  'credentials',
  'cookie',
  'cookies',
  'session',
  'sessions',
  'dsn',
  'apikey',
  'apikeys',
  'privatekey',
];
const KEY_KINDS = ['api', 'private', 'signing', 'secret', 'encryption', 'master', 'access', 'ssh'];
const ABOUT_AFTER = ['id', 'ids', 'count', 'counts', 'limit', 'limits', 'length', 'type', 'name', 'usage'];
const ABOUT_BEFORE = ['max', 'min', 'total', 'prompt', 'completion', 'input', 'output', 'cached', 'reasoning', 'num', 'remaining', 'used'];
const COUNT_WORDS = ['token', 'tokens'];
const QUERY_WORDS = ['key', 'sig', 'signature'];

const list = (words: readonly string[]) => words.map((w) => `\`${w}\``).join(', ');

// The value of `password=`, `token=`...: quoted, or up to a space, a separator of a query string
// or connection string, a quote or an `=` (base64 padding at its end is kept in it). Stopping at
// `=` and `?` lets the check resume inside a value whose own name was not a secret's
// (`redirect=/cb?token=…`).
const ASSIGNED = String.raw`'(?:[^'\\\n]|\\.)+'|"(?:[^"\\\n]|\\.)+"|[^\s&;#"'<>=?]+=*`;
const PASSWORD_NAME = String.raw`(?:[Pp]assword|PASSWORD|[Pp]wd|PWD)[ \t]*=[ \t]*`;
// The pretest of both rules of `name=value`: from the `=`, which the engine finds quickly, a look
// behind for a name that may be a secret's. An `=` with another name before it is no hit.
const SECRET_NAME_EQUALS = (name: string) => String.raw`=(?<=${name}[ \t]*=)`;

// A name the key rules call secret holds one of these, in any case (`api_key`, `ApiKey` and
// `APIKEY` all hold `key`): the rules that read a name look for one before they run (see Pretests).
const NAME_STEMS = ['token', 'pass', 'pwd', 'secret', 'auth', 'credential', 'cookie', 'session', 'dsn', 'key', 'sig'];

/**
 * Every redaction rule, in the order the string rules are tried at one position. The README's
 * table is made from this (see `redactionTable`); the key rules print the word lists above, which
 * the code reads, and the string rules hold the patterns the code runs.
 */
const RULES: ReadonlyArray<RedactionRule | StringRule> = [
  {
    id: 'secret-word',
    kind: 'key',
    masks: `the value of a key one of whose words is ${list(SECRET_WORDS)}, at any depth, class instance fields, Map entries, error properties and emitters' data included`,
    example: '`password`, `db_pwd`, `session`, `secrets`, `x-auth-token`, `OAuthToken` → `"***"`',
    keeps: 'keys where such a word is only part of a word: `tokenizer`, `author`, `passage`, `passenger`, `compass`, `keyboard`, `secretary`',
  },
  {
    id: 'key-kind',
    kind: 'key',
    masks: `the value of a key with the word \`key\` or \`keys\` right after ${list(KEY_KINDS)}`,
    example: '`api_key`, `apiKeys`, `x-api-key`, `privateKey`, `signing_key`, `secret_access_key` → `"***"`',
    keeps: '`key`, `keys`, `keyboard`, `publicKey`, `sort_key`',
  },
  {
    id: 'about-secret',
    kind: 'key',
    masks: `nothing: a secret word of the two rules above right before ${list(ABOUT_AFTER)}, or right after ${list(ABOUT_BEFORE)}, names something about the secret, not the secret`,
    example: '`max_tokens`, `maxTokens`, `prompt_tokens`, `completion_tokens`, `total_tokens`, `token_count`, `sessionId`, `session_id`, `token_type` are kept',
    keeps: 'everything it names; another secret word in the same key still masks it (`session_token`)',
  },
  {
    id: 'token-count',
    kind: 'key',
    masks: `nothing: a number under a key whose secret word is ${list(COUNT_WORDS)} is a count`,
    example: '`{ tokens: 20 }` is kept; `{ tokens: "abc" }` → `"***"`',
    keeps: 'numbers under such keys; strings, objects and arrays are masked',
  },
  {
    id: 'configured-key',
    kind: 'key',
    masks: 'the value of a key that holds the words of a `recording.redact_keys` entry, in that order, next to each other (`session_id` matches `sessionId`, `SESSION_ID`, `userSessionIdHash`)',
    example: '`redact_keys: [ssn]`: `userSsn` → `"***"`',
    keeps: 'the exceptions above do not apply to it',
  },
  {
    id: 'absent-value',
    kind: 'key',
    masks: 'nothing: `undefined`, `null` and `\'\'` under a secret-named key stay as they are, and so does a function (recorded as its `<callable:…>` marker)',
    example: '`{ password: null }` stays `{ "password": null }`',
    keeps: 'absent values, so that a replay sees no key that was never there',
  },
  {
    id: 'pem-private-key',
    kind: 'string',
    pattern: String.raw`(-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)([\s\S]*?)(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)`,
    pretest: '-----BEGIN',
    masks: 'the body of a PEM private key (RSA, EC, OpenSSH, PKCS#8, encrypted, PGP), to its END line or to the end of the string',
    example: '`-----BEGIN PRIVATE KEY-----MIIE…-----END PRIVATE KEY-----` → `-----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----`',
    keeps: 'the BEGIN and END lines; public keys and certificates',
  },
  {
    id: 'bearer',
    kind: 'string',
    pattern: String.raw`(\b(?:Bearer|bearer|BEARER)\s+)([A-Za-z0-9\-._~+/]{8,}=*)()`,
    pretest: 'Bearer|bearer|BEARER',
    masks: 'the token after `Bearer`, eight characters at least',
    example: '`Authorization: Bearer abc123def456` → `Authorization: Bearer ***`',
    keeps: 'the word `Bearer`; prose such as "Bearer of bad news"',
  },
  {
    id: 'basic-auth',
    kind: 'string',
    pattern: String.raw`(\b(?:Basic|basic|BASIC)[ \t]+)([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])()`,
    pretest: '[Bb]asic|BASIC',
    check: 'basic credentials',
    masks: 'the credentials after `Basic`: base64 text that decodes to `user:password`, or any base64 after an `Authorization` header name',
    example: '`Authorization: Basic dXNlcjpwYXNz` → `Authorization: Basic ***`',
    keeps: 'the word `Basic`; prose such as "Basic knowledge"',
  },
  {
    id: 'openai-key',
    kind: 'string',
    pattern: String.raw`()(\bsk-[A-Za-z0-9_\-]{16,})()`,
    pretest: 'sk-',
    scan: '-(?<=sk-)',
    masks: 'OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-…`) keys',
    example: '`key sk-proj-AbC123… is set` → `key *** is set`',
    keeps: 'short words that start with `sk-`',
  },
  {
    id: 'stripe-key',
    kind: 'string',
    pattern: String.raw`()(\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,})()`,
    pretest: '_(?:live|test)_',
    masks: 'Stripe secret and restricted keys, live and test: `sk_live_`, `rk_live_`, `sk_test_`, `rk_test_`',
    example: '`sk_live_51H…` → `***`',
    keeps: 'publishable keys (`pk_live_…`), which are public',
  },
  {
    id: 'aws-key-pair',
    kind: 'string',
    pattern: String.raw`()(\b(?:AKIA|ASIA)[A-Z0-9]{16}[\s:,;|"'=]{1,4}[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])()`,
    pretest: 'AKIA|ASIA',
    scan: 'K(?<=AK)IA|S(?<=AS)IA',
    masks: 'an AWS access key id followed by its 40-character secret access key (as in a credentials CSV, `id:secret`)',
    example: '`AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY` → `***`',
    keeps: '40-character strings with no AWS key id or name before them',
  },
  {
    id: 'aws-access-key-id',
    kind: 'string',
    pattern: String.raw`()(\b(?:AKIA|ASIA)[A-Z0-9]{16}\b)()`,
    pretest: 'AKIA|ASIA',
    scan: 'K(?<=AK)IA|S(?<=AS)IA',
    masks: 'AWS access key ids, long-term (`AKIA…`) and temporary (`ASIA…`)',
    example: '`id=AKIAIOSFODNN7EXAMPLE;` → `id=***;`',
    keeps: 'shorter words that start with `AKIA`',
  },
  {
    id: 'aws-secret-key',
    kind: 'string',
    pattern: String.raw`((?:aws_secret_access_key|AWS_SECRET_ACCESS_KEY|aws_secret_key|AWS_SECRET_KEY)["']?[ \t]*[=:][ \t]*["']?)([^\s"',;]+)()`,
    pretest: '_(?:secret|SECRET)_',
    masks: 'an AWS secret access key after its name, `=` or `:` and spaces (a credentials file, an environment dump)',
    example: '`aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY` → `aws_secret_access_key = ***`',
    keeps: 'the name; an ordinary 40-character string elsewhere',
  },
  {
    id: 'jwt',
    kind: 'string',
    pattern: String.raw`()(\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*)()`,
    pretest: 'eyJ',
    scan: 'J(?<=eyJ)',
    masks: 'JSON Web Tokens: header, payload and signature',
    example: '`token: eyJhbGci….eyJzdWIi….SflKxw…` → `token: ***`',
    keeps: '`eyJ` not followed by two dotted parts',
  },
  {
    id: 'slack-webhook',
    kind: 'string',
    pattern: String.raw`(\bhttps?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/)([A-Za-z0-9_\/\-]+)()`,
    pretest: 'hooks\\.slack\\.com',
    scan: '\\.(?<=hooks\\.)slack\\.com',
    masks: 'the path of a Slack webhook URL, which is its secret',
    example: '`https://hooks.slack.com/services/T000/B000/XXXX` → `https://hooks.slack.com/services/***`',
    keeps: 'the host and `/services/`',
  },
  {
    id: 'url-credentials',
    kind: 'string',
    pattern: String.raw`(:\/\/)([^\s/?#"'<>\x60\\{}\[\]]+)(@)`,
    pretest: ':\\/\\/',
    masks: 'the user info of a URL (`user:password@`, `token@`), up to the last `@` before the host, so a password that holds `@` is masked whole',
    example: '`postgres://admin:p@ss@db:5432/app` → `postgres://***@db:5432/app`',
    keeps: 'the scheme, host, path; an `@` in the path or query (`?q=a@b`)',
  },
  {
    id: 'github-token',
    kind: 'string',
    pattern: String.raw`()(\bgh[pousr]_[A-Za-z0-9]{36,}|\bgithub_pat_[A-Za-z0-9_]{22,})()`,
    pretest: 'gh[pousr]_|github_pat_',
    scan: '_(?<=gh[pousr]_)|_(?<=github_)pat_',
    masks: 'GitHub personal, OAuth, user-to-server, server-to-server, refresh and fine-grained tokens',
    example: '`GITHUB_TOKEN=ghp_a1B2…` → `GITHUB_TOKEN=***`',
    keeps: 'short words that start with `ghp_`',
  },
  {
    id: 'slack-token',
    kind: 'string',
    pattern: String.raw`()(\bxox[abprs]-[A-Za-z0-9\-]{10,})()`,
    pretest: 'xox[abprs]-',
    scan: '-(?<=xox[abprs]-)',
    masks: 'Slack bot, app, user, refresh and workspace tokens',
    example: '`xoxb-1234567890-abcdefghij` → `***`',
    keeps: 'short words that start with `xoxb-`',
  },
  {
    id: 'google-api-key',
    kind: 'string',
    pattern: String.raw`()(\bAIza[0-9A-Za-z_\-]{35})()`,
    pretest: 'AIza',
    scan: 'z(?<=AIz)a',
    masks: 'Google API keys',
    example: '`key=AIzaSy…` → `key=***`',
    keeps: 'shorter words that start with `AIza`',
  },
  {
    id: 'huggingface-token',
    kind: 'string',
    pattern: String.raw`()(\bhf_[A-Za-z0-9]{30,})()`,
    // An underscore that starts a long run: cheaper to look for than the prefix, and shared with npm.
    pretest: '_[A-Za-z0-9]{30}',
    masks: 'Hugging Face access tokens',
    example: '`hf_AbCdEf…` → `***`',
    keeps: 'short words that start with `hf_`',
  },
  {
    id: 'npm-token',
    kind: 'string',
    pattern: String.raw`()(\bnpm_[A-Za-z0-9]{36,})()`,
    pretest: '_[A-Za-z0-9]{30}',
    masks: 'npm access tokens',
    example: '`//registry.npmjs.org/:_authToken=npm_AbC…` → `//registry.npmjs.org/:_authToken=***`',
    keeps: 'short words that start with `npm_`, such as `npm_config_cache`',
  },
  {
    id: 'connection-string-password',
    kind: 'string',
    // At the start, only when a `;` follows: `password=x host=y` there is libpq's, which the next rule reads.
    pattern: String.raw`(^[ \t]*${PASSWORD_NAME})(\{[^}]*\}|[^;]+(?=;))()|(;[ \t]*${PASSWORD_NAME})(\{[^}]*\}|[^;]+)()`,
    pretest: SECRET_NAME_EQUALS,
    masks: 'the value of `Password=` or `Pwd=` (any case) in an ADO.NET or ODBC connection string, spaces included, up to the next `;`',
    example: '`Server=db;User Id=app;Password=my pass;` → `Server=db;User Id=app;Password=***;`',
    keeps: 'every other field',
  },
  {
    id: 'secret-assignment',
    kind: 'string',
    // An auth scheme word before the value is kept, as the bearer rule keeps it.
    pattern: String.raw`(=(?:(?:Bearer|bearer|BEARER|Basic|basic|BASIC|Token|token)[ \t]+)?)(${ASSIGNED})()`,
    pretest: SECRET_NAME_EQUALS,
    check: 'secret name or query key',
    masks: 'the value of `name=value` when the name is secret-named by the key rules: query strings, libpq DSNs, environment and INI text; in a URL query (after `?` or `&`) also `key`, `sig`, `signature` (`X-Amz-Signature`)',
    example: '`https://api.x.com/v1?api_key=abc&q=1` → `…?api_key=***&q=1`; `host=db password=s3cret` → `host=db password=***`',
    keeps: 'the name and `=`; values of other names (`max_tokens=100`); an empty value',
  },
  {
    id: 'secret-json-field',
    kind: 'string',
    pattern: String.raw`(:[ \t]*")((?:[^"\\\n]|\\.)+)(")|(:[ \t]*')((?:[^'\\\n]|\\.)+)(')`,
    pretest: (name) => String.raw`:(?<=${name}["']?[ \t]*:)[ \t]*["']`,
    check: 'secret name before colon',
    masks: 'a quoted value after a secret-named name and a colon: JSON text, JavaScript and YAML',
    example: '`{"api_key": "abc123", "model": "x"}` → `{"api_key": "***", "model": "x"}`',
    keeps: 'other fields; `""` and `null`',
  },
  {
    id: 'configured-pattern',
    kind: 'string',
    masks: 'each match of a `recording.redact_patterns` entry (a regular expression)',
    example: '`redact_patterns: ["ORD-\\\\d+"]`: `order ORD-12345` → `order ***`',
    keeps: 'a pattern that does not compile, or that matches only empty text, is left out',
  },
  {
    id: 'secret-object-key',
    kind: 'container',
    masks: 'an object key that is itself a secret by the string rules: it is written redacted, then `#2`, `#3`… when two keys of one object would be the same',
    example: '`{ ["sk-proj-…"]: client }` → `{ "***": {…client…} }`',
    keeps: 'the value under it',
  },
  {
    id: 'secret-pair',
    kind: 'container',
    masks: 'in an array of even length, the element after a secret-named string (no spaces, 64 characters at most) at an even index: `[name, value]` pairs and flat header lists such as Node\'s `rawHeaders`',
    example: '`[["Authorization", "Basic dXNl…"]]` → `[["Authorization", "***"]]`',
    keeps: 'names; odd-length arrays. A tag list of even length such as `["auth", "login"]` reads as a pair and loses `login`',
  },
  {
    id: 'bytes',
    kind: 'container',
    masks: 'Buffers, typed arrays, DataViews and ArrayBuffers whose bytes are UTF-8 text: the bytes are read as Latin-1 (one character a byte) by the string rules, and each secret is overwritten with `*` byte for byte',
    example: '`Buffer.from("Authorization: Bearer abc123def456")` is recorded as the bytes of `Authorization: Bearer ************`',
    keeps: 'the length and every other byte; bytes that are not UTF-8 (images, audio, compressed data) are not read; a secret in UTF-16 text is not seen',
  },
  {
    id: 'url-object',
    kind: 'container',
    masks: 'a `URL` object: its `href`, read by the string rules (query values, user info)',
    example: '`new URL("https://u:pw@x.com/?token=abc")` → `https://***@x.com/?token=***`',
    keeps: 'the rest of the URL',
  },
];

export const REDACTION_RULES: readonly RedactionRule[] = RULES;

/** The rows of the README's table of redaction rules, one per rule, in Markdown. */
export function redactionTable(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = ['| rule | looks at | masks | example | keeps |', '| --- | --- | --- | --- | --- |'];
  for (const rule of REDACTION_RULES) rows.push(`| \`${rule.id}\` | ${rule.kind} | ${cell(rule.masks)} | ${cell(rule.example)} | ${cell(rule.keeps)} |`);
  return rows.join('\n');
}

const STRING_RULES = RULES.filter((rule): rule is StringRule => 'pattern' in rule);

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

const SECRET_WORD_SET = new Set(SECRET_WORDS);
const KEY_KIND_SET = new Set(KEY_KINDS);
const ABOUT_AFTER_SET = new Set(ABOUT_AFTER);
const ABOUT_BEFORE_SET = new Set(ABOUT_BEFORE);
const COUNT_WORD_SET = new Set(COUNT_WORDS);
const QUERY_WORD_SET = new Set(QUERY_WORDS);

const KEEP = 0;
const MASKED = 1;
/** Masked unless the value is a number (a count). */
const COUNT = 2;
type KeyDecision = typeof KEEP | typeof MASKED | typeof COUNT;

/** What the built-in key rules say of a key's words. */
function builtinKey(words: string[]): KeyDecision {
  let decision: KeyDecision = KEEP;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const secret = SECRET_WORD_SET.has(word) || ((word === 'key' || word === 'keys') && i > 0 && KEY_KIND_SET.has(words[i - 1]!));
    if (!secret) continue;
    if (ABOUT_AFTER_SET.has(words[i + 1]!) || (i > 0 && ABOUT_BEFORE_SET.has(words[i - 1]!))) continue;
    if (!COUNT_WORD_SET.has(word)) return MASKED;
    decision = COUNT;
  }
  return decision;
}

/**
 * The string rules' pretests, for a redactor whose secret names hold `stems` (each in any case).
 * A clean string (nearly all of them) costs one test, `any`. It only looks for the fixed part of
 * each rule, which the regex engine searches for quickly; a hit may be a false alarm, which the
 * rules themselves then sort out. Made from the rules, so it stays in step with them.
 *
 * A rule that reads a name looks, from its `=` or `:`, behind for a name holding a stem. So JSON
 * text, with a `":` at every member, or a URL's query, is no hit unless a name in it may be a
 * secret's, where a search for the stems anywhere in the string would cost more than the rest.
 */
class Pretests {
  readonly sources: string[];
  /** Each of `sources` as the scan looks for it (see StringRule.scan). */
  private readonly scanForms: string[];
  readonly any: RegExp;
  /** The bits of the rules whose pretest is sources[i]. */
  readonly rules: number[];
  private readonly scans = new Map<number, PretestScan | null>();
  private table: Uint8Array | undefined;

  /** `packed`: the table of openings as `packTable` gave it, when it was worked out beforehand. */
  constructor(
    stems: string[],
    private readonly packed?: readonly number[],
  ) {
    // At most MAX_NAME characters, as the rules' checks read a name, with the stem among them.
    const name = `(?:${stems.map(anyCase).join('|')})[A-Za-z0-9_.-]{0,${MAX_NAME}}`;
    const ofRule = STRING_RULES.map((rule) => (typeof rule.pretest === 'string' ? rule.pretest : rule.pretest(name)));
    this.sources = [...new Set(ofRule)];
    this.scanForms = this.sources.map((source) => STRING_RULES[ofRule.indexOf(source)]!.scan ?? source);
    this.any = new RegExp(this.scanForms.join('|'));
    this.rules = this.sources.map((source) => ofRule.reduce((set, s, i) => (s === source ? set | (1 << i) : set), 0));
  }

  /**
   * The pairs of characters a pretest can open with: a string that opens none holds no secret,
   * since every rule's match holds its pretest's. Made when first asked for, by the first record.
   * Working them out from the patterns takes 5 to 10 ms of a process that has not run the parser
   * yet, so the built-in pretests' table is worked out beforehand (see BUILTIN_OPENINGS).
   */
  get openings(): Uint8Array | undefined {
    return (this.table ??= this.packed !== undefined ? unpackTable(this.packed) : this.workedOut());
  }

  /** The table, from the patterns. */
  workedOut(): Uint8Array | undefined {
    return openingTable(this.sources.map((source) => ({ source })));
  }

  /**
   * The pretests a string holds, which tell which rules may match it, are found by one regex of
   * the pretests not found yet, each a group: after each find, the scan goes on with the others
   * alone, so that a pretest found at every line costs one find, not one per line. By the set
   * found so far (a bit a pretest); few sets occur.
   */
  scan(found: number): PretestScan | null {
    let scan = this.scans.get(found);
    if (scan === undefined) {
      const pretests = this.sources.map((_, i) => i).filter((i) => (found & (1 << i)) === 0);
      scan = pretests.length === 0 ? null : { find: new RegExp(pretests.map((i) => `(${nonCapturing(this.scanForms[i]!)})`).join('|'), 'g'), pretests };
      this.scans.set(found, scan);
    }
    return scan;
  }
}

interface PretestScan {
  find: RegExp;
  /** The index in `sources` of each group's pretest. */
  pretests: number[];
}

// For the built-in names, which most redactors have alone: made once, by the first.
let builtinPretests: Pretests | undefined;

/**
 * The built-in pretests' table of openings, worked out from their patterns: what
 * BUILTIN_OPENINGS must hold (`scripts/builtin-openings.mjs` writes it, and a test checks it).
 */
export function builtinOpeningTable(): Uint8Array | undefined {
  return new Pretests(NAME_STEMS).workedOut();
}

/** `word` (lowercase) as a pattern that matches it in any case. */
function anyCase(word: string): string {
  return escapeRegExp(word).replace(/[a-z]/g, (c) => `[${c.toUpperCase()}${c}]`);
}

/** Each rule's own regular expression, tried at one position: what it keeps and what it masks there. */
const STICKY = STRING_RULES.map((rule) => new RegExp(rule.pattern, 'y'));

/** The rules a string's pretests let through, joined into one pattern that finds where their secrets start. */
interface Joined {
  find: RegExp;
  /** The indexes of the rules, in the table's order. */
  rules: number[];
}

// By the set of rules (a bit each), since one regex of all of them costs several times as much
// per character as one of the two or three that a string can match, and capturing groups cost
// even more: `find` has none. Few sets occur in practice.
const joinedCache = new Map<number, Joined>();
const JOINED_CACHE_LIMIT = 256;

function joined(set: number): Joined {
  let found = joinedCache.get(set);
  if (found === undefined) {
    const rules = STRING_RULES.map((_, i) => i).filter((i) => (set & (1 << i)) !== 0);
    found = { find: new RegExp(rules.map((i) => nonCapturing(STRING_RULES[i]!.pattern)).join('|'), 'g'), rules };
    if (joinedCache.size >= JOINED_CACHE_LIMIT) joinedCache.clear();
    joinedCache.set(set, found);
  }
  return found;
}

/** `source` with each capturing group made non-capturing. */
function nonCapturing(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      out += c + source[++i];
      continue;
    }
    if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(' && source[i + 1] !== '?') {
      out += '(?:';
      continue;
    }
    out += c;
  }
  return out;
}

function groupCount(source: string): number {
  return new RegExp(`${source}|`).exec('')!.length - 1;
}

/**
 * Throws when the rules above are not of the shape the code below relies on. Run by the tests,
 * not as the module loads: compiling every pattern would cost each recording process's start-up.
 */
export function checkRules(): void {
  for (const word of [...SECRET_WORDS, ...QUERY_WORDS, ...KEY_KINDS.map((kind) => `${kind}key`)]) {
    if (!NAME_STEMS.some((stem) => word.includes(stem))) throw new Error(`redaction: no name stem for ${word}`);
  }
  if (STRING_RULES.length > 31 || new Pretests(NAME_STEMS).sources.length > 31) throw new Error('redaction rules: at most 31 string rules, and 31 pretests, fit in a set');
  for (const rule of STRING_RULES) {
    // Pretests are told apart by their text: the rules that share one must scan for it alike.
    if (STRING_RULES.some((other) => other.pretest === rule.pretest && other.scan !== rule.scan)) throw new Error(`redaction rule ${rule.id}: its pretest is scanned for in two ways`);
    const groups = groupCount(rule.pattern);
    if (groups === 0 || groups % 3 !== 0 || groupCount(nonCapturing(rule.pattern)) !== 0) {
      throw new Error(`redaction rule ${rule.id}: its groups must come in threes`);
    }
  }
}

// Most strings are short ids, names and enum values; none of the shapes above fits in fewer
// characters than this, short of a one-letter URL password.
const MIN_SECRET_LENGTH = 8;

// Characters of a name before `=` or `:`: letters, digits, `_`, `.`, `-`.
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

const MAX_NAME = 64;

/** Where the name that ends at `end` starts (`end` when there is none). */
function nameStart(s: string, end: number): number {
  let i = end;
  while (i > 0 && end - i < MAX_NAME && isNameChar(s.charCodeAt(i - 1))) i--;
  return i;
}

// Printable text with a colon: what `user:password` in base64 decodes to.
const BASIC_CREDENTIALS = /^[^\x00-\x1f\x7f]*:[^\x00-\x1f\x7f]*$/;
const AUTHORIZATION_BEFORE = /authorization["']?\s*[:=,]\s*["']?$/i;

/**
 * A redactor with the built-in rules (REDACTION_RULES), plus `extraKeys` (key words or phrases,
 * e.g. "ssn" or "session_id") and `extraPatterns` (regular expressions or their source text)
 * whose matches in string values are masked.
 */
export function createRedactor(extraKeys: string[] = [], extraPatterns: Array<string | RegExp> = []): Redactor {
  const phrases = extraKeys.map(keyWords).filter((words) => words.length > 0);
  const extras = compilePatterns(extraPatterns);
  let openings: { table: Uint8Array | undefined } | undefined;
  const keyCache = new Map<string, KeyDecision>();
  // A configured key's first word is in any key it matches, so it joins the stems.
  const pretests = phrases.length === 0 ? (builtinPretests ??= new Pretests(NAME_STEMS, BUILTIN_OPENINGS)) : new Pretests([...NAME_STEMS, ...phrases.map((words) => words[0]!)]);

  function decideKey(key: string): KeyDecision {
    const words = keyWords(key);
    for (const phrase of phrases) if (containsRun(words, phrase)) return MASKED;
    return builtinKey(words);
  }

  function keyDecision(key: string): KeyDecision {
    let decision = keyCache.get(key);
    if (decision === undefined) {
      decision = decideKey(key);
      if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
      keyCache.set(key, decision);
    }
    return decision;
  }

  function passes(check: StringRule['check'], s: string, at: number, secret: string): boolean {
    switch (check) {
      case undefined:
        return true;
      case 'secret name or query key': {
        const start = nameStart(s, at);
        if (start === at) return false;
        const name = s.slice(start, at);
        if (keyDecision(name) !== KEEP) return true;
        const before = s.charCodeAt(start - 1);
        // `?key=` or `&sig=`: a query string's own names for secrets.
        if (before !== 63 /* ? */ && before !== 38 /* & */) return false;
        const words = keyWords(name);
        return words.length > 0 && QUERY_WORD_SET.has(words[words.length - 1]!);
      }
      case 'secret name before colon': {
        let end = at;
        while (end > 0 && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
        const quote = s.charCodeAt(end - 1);
        if (quote === 34 /* " */ || quote === 39 /* ' */) end--;
        const start = nameStart(s, end);
        return start < end && keyDecision(s.slice(start, end)) !== KEEP;
      }
      case 'basic credentials':
        return BASIC_CREDENTIALS.test(Buffer.from(secret, 'base64').toString('latin1')) || AUTHORIZATION_BEFORE.test(s.slice(Math.max(0, at - 40), at));
    }
  }

  /** `s` redacted by the built-in rules; `start` is where its first pretest matched, before which none can. */
  function builtin(s: string, fill: boolean, start: number): string {
    let set = 0;
    let found = 0;
    let from = start;
    for (let scan = pretests.scan(0); scan !== null; scan = pretests.scan(found)) {
      scan.find.lastIndex = from;
      const p = scan.find.exec(s);
      if (p === null) break;
      let g = 1;
      while (p[g] === undefined) g++;
      const pretest = scan.pretests[g - 1]!;
      found |= 1 << pretest;
      set |= pretests.rules[pretest]!;
      // Another pretest may be found here too (`_(?<=ghp_)` and `_(?:live|test)_` at the `_` of
      // `ghp_live_`), or inside this one's match: the next scan, without this one, starts here.
      from = p.index;
    }
    if (set === 0) return s;
    const { find, rules } = joined(set);
    find.lastIndex = 0;
    let out = '';
    let last = 0;
    let m: RegExpExecArray | null;
    while ((m = find.exec(s)) !== null) {
      const at = m.index;
      // The first rule that matches here is the alternative that `find` took.
      let groups: RegExpExecArray | null = null;
      let rule: StringRule | undefined;
      for (let i = 0; i < rules.length && groups === null; i++) {
        const sticky = STICKY[rules[i]!]!;
        sticky.lastIndex = at;
        groups = sticky.exec(s);
        rule = STRING_RULES[rules[i]!];
      }
      let g = 1;
      while (groups !== null && g + 3 < groups.length && groups[g + 1] === undefined) g += 3;
      const secret = groups?.[g + 1];
      if (groups === null || secret === undefined || !passes(rule!.check, s, at, secret)) {
        // Resume inside the match: a secret may start there (`redirect=/cb?token=…`).
        find.lastIndex = at + 1;
        continue;
      }
      out += s.slice(last, at) + groups[g]! + (fill ? '*'.repeat(secret.length) : MASK) + groups[g + 2]!;
      last = at + groups[0].length;
      find.lastIndex = last > at ? last : at + 1;
    }
    return last === 0 ? s : out + s.slice(last);
  }

  function redact(s: string, fill: boolean): string {
    if (s.length < MIN_SECRET_LENGTH) return s;
    let out = s;
    // The scan for which pretests a string holds starts where the first one is, not again from the start.
    const first = pretests.any.exec(s);
    if (first !== null) out = builtin(s, fill, first.index);
    for (let i = 0; i < extras.length; i++) {
      const { test, replace } = extras[i]!;
      if (test.test(out)) out = out.replace(replace, fill ? maskFill : maskExtra);
    }
    return out;
  }

  return {
    get openings() {
      openings ??= { table: extras.reduce<Uint8Array | undefined>((table, { test }) => orTable(table, test.flags.includes('v') ? undefined : openingTable([test])), pretests.openings) };
      return openings.table;
    },
    isSensitiveKey(key) {
      return keyDecision(key) !== KEEP;
    },
    masks(key, value) {
      if (value === undefined || value === null || value === '' || typeof value === 'function') return false;
      const decision = keyDecision(key);
      return decision === MASKED || (decision === COUNT && typeof value !== 'number');
    },
    redactString(s) {
      return redact(s, false);
    },
    redactBytes(bytes) {
      // Images, audio and compressed data are not text: reading them costs the most and finds nothing.
      if (bytes.length < MIN_SECRET_LENGTH || !isUtf8(bytes)) return bytes;
      // Latin-1 maps each byte to one character and back, so positions and the other bytes are kept.
      const text = bytes.toString('latin1');
      const masked = redact(text, true);
      return masked === text ? bytes : Buffer.from(masked, 'latin1');
    },
  };
}

/** Both tables at once; undefined if either is. */
function orTable(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (a === undefined || b === undefined) return undefined;
  const table = a.slice();
  for (let i = 0; i < b.length; i++) table[i]! |= b[i]!;
  return table;
}

// A configured pattern that can match nothing at all must not put a mask between every character.
function maskExtra(match: string): string {
  return match === '' ? '' : MASK;
}

function maskFill(match: string): string {
  return '*'.repeat(match.length);
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

// A name of a [name, value] pair: no longer than a header name and no spaces, so that prose is never one.
const MAX_PAIR_NAME = 64;

/** Whether `s`, at an even index of an array of even length, can name the element after it (see the `secret-pair` rule). */
export function isPairName(s: string): boolean {
  return s.length <= MAX_PAIR_NAME && s.indexOf(' ') < 0;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function containsRun(words: string[], run: string[]): boolean {
  outer: for (let start = 0; start + run.length <= words.length; start++) {
    for (let j = 0; j < run.length; j++) if (words[start + j] !== run[j]) continue outer;
    return true;
  }
  return false;
}

/** `name`, or `name#2`, `name#3`... when an earlier key of the same object was written as `name`: two keys masked alike stay two. */
export function uniqueName(name: string, used: Set<string>): string {
  let unique = name;
  for (let n = 2; used.has(unique); n++) unique = `${name}#${n}`;
  used.add(unique);
  return unique;
}
