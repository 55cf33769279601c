import { unwrap } from './wrap';

/** A parameter: its name, the keys of an object-destructuring pattern, a rest parameter, or null when it cannot be told (array pattern). */
export type Param = string | { destructured: string[] } | { rest: string } | null;

/**
 * The parameters of `fn`, read from its source text. Never throws; [] when the source cannot be
 * read (native and bound functions show no parameters).
 *
 * A small hand-written scanner rather than a dependency: the parsers that handle every form of
 * function source (acorn, esprima, the TypeScript compiler) are large, and the small "get
 * parameter names" packages work with regular expressions, which break on default values with
 * nested brackets, strings, templates, regular expressions or comments, and know nothing of
 * classes or destructuring. Only what surrounds the parameter list needs to be understood.
 */
export function parseParams(fn: Function): Param[] {
  try {
    const source = Function.prototype.toString.call(unwrap(fn));
    return paramsOf(new Scanner(source));
  } catch {
    return [];
  }
}

function paramsOf(s: Scanner): Param[] {
  const first = s.next();
  if (first.type === 'ident' && isPunct(s.peek(), '=>')) return [first.value];
  // `class(a) {}` is a method named "class", not a class.
  if (isWord(first, 'class') && !isPunct(s.peek(), '(')) return constructorParams(s);
  let t = first;
  if (isWord(t, 'async')) {
    const after = s.peek();
    if (after.type === 'ident' && after.value !== 'function' && isPunct(s.peek(1), '=>')) return [after.value];
    if (isWord(after, 'function')) t = s.next();
  }
  // Whatever comes first (function name, method name, computed key, modifiers) ends at the first
  // "(" outside brackets; the source of an arrow function with parentheses starts with it.
  let depth = 0;
  for (;;) {
    if (t.type === 'eof') return [];
    if (t.type === 'punct') {
      if (t.value === '(' && depth === 0) return paramList(s);
      if (t.value === '[') depth++;
      else if (t.value === ']') depth--;
    }
    t = s.next();
  }
}

/** The parameters of a class's own constructor, found at the top level of the class body. */
function constructorParams(s: Scanner): Param[] {
  if (!skipToClassBody(s)) return [];
  let depth = 1;
  let prev: Token = { type: 'punct', value: '{', newlineBefore: false };
  for (;;) {
    const t = s.next();
    if (t.type === 'eof') return [];
    if (depth === 1 && isPunct(t, '}')) return [];
    const named = t.value === 'constructor' && (t.type === 'ident' || t.type === 'string');
    if (depth === 1 && named && startsMember(prev, t) && isPunct(s.peek(), '(')) {
      s.next();
      return paramList(s);
    }
    if (t.type === 'punct') {
      if (t.value === '{' || t.value === '(' || t.value === '[') depth++;
      else if (t.value === '}' || t.value === ')' || t.value === ']') depth--;
    }
    prev = t;
  }
}

// A member starts after the body's "{", after a method body or a ";", or on a new line after a
// field without one. Modifiers before "constructor" make it something else (a static method named
// so), or a syntax error.
function startsMember(prev: Token, t: Token): boolean {
  if (prev.type === 'punct') return prev.value === '{' || prev.value === '}' || prev.value === ';' || (t.newlineBefore && (prev.value === ')' || prev.value === ']'));
  if (prev.type === 'ident') return t.newlineBefore && !MODIFIERS.has(prev.value);
  return t.newlineBefore;
}

const MODIFIERS = new Set(['static', 'get', 'set', 'async', 'accessor']);

/** Skips the name and heritage of a class; true when positioned right after the body's "{". */
function skipToClassBody(s: Scanner): boolean {
  let depth = 0;
  for (;;) {
    const t = s.next();
    if (t.type === 'eof') return false;
    if (depth === 0 && isWord(t, 'class')) {
      // A class expression in the heritage: `extends class {...} {`.
      if (!skipToClassBody(s) || !skipBalanced(s, '{')) return false;
      continue;
    }
    if (depth === 0 && isWord(t, 'function')) {
      // `extends function () {...} {`: its parameters, then its body.
      if (!skipUntil(s, '(') || !skipBalanced(s, '(') || !skipUntil(s, '{') || !skipBalanced(s, '{')) return false;
      continue;
    }
    if (t.type !== 'punct') continue;
    if (t.value === '{' && depth === 0) return true;
    if (t.value === '(' || t.value === '[' || t.value === '{') depth++;
    else if (t.value === ')' || t.value === ']' || t.value === '}') depth--;
  }
}

/** Reads a parameter list whose "(" was just read, through its ")". */
function paramList(s: Scanner): Param[] {
  const params: Param[] = [];
  for (;;) {
    const t = s.next();
    if (t.type === 'eof' || isPunct(t, ')')) return params;
    if (isPunct(t, ',')) continue;
    let param: Param = null;
    if (isPunct(t, '...')) {
      const target = s.next();
      if (target.type === 'ident') param = { rest: target.value };
      else if (isPunct(target, '{') || isPunct(target, '[')) skipBalanced(s, target.value);
    } else if (isPunct(t, '{')) {
      param = { destructured: patternKeys(s) };
    } else if (isPunct(t, '[')) {
      skipBalanced(s, '[');
    } else if (t.type === 'ident') {
      param = t.value;
    }
    params.push(param);
    // The rest of the parameter is its default value, if any.
    if (skipToEnd(s, ')') !== ',') return params;
  }
}

/** The top-level keys of an object pattern whose "{" was just read, through its "}". */
function patternKeys(s: Scanner): string[] {
  const keys: string[] = [];
  for (;;) {
    const t = s.next();
    if (t.type === 'eof' || isPunct(t, '}')) return keys;
    if (isPunct(t, ',')) continue;
    if (isPunct(t, '[')) {
      // A computed key has no name to give.
      skipBalanced(s, '[');
    } else if (t.type === 'ident' || t.type === 'string') {
      keys.push(t.value);
    } else if (t.type === 'number') {
      keys.push(numberKey(t.value));
    }
    // `...rest` is left out; so is whatever follows a key (`: alias`, `= default`, `: { nested }`).
    if (skipToEnd(s, '}') !== ',') return keys;
  }
}

function numberKey(text: string): string {
  const n = Number(text.replace(/_/g, ''));
  return Number.isNaN(n) ? text : String(n);
}

/** Skips to the "," or the closer at the current level, and reads it; returns what it read. */
function skipToEnd(s: Scanner, closer: string): string {
  let depth = 0;
  for (;;) {
    const t = s.next();
    if (t.type === 'eof') return '';
    if (t.type !== 'punct') continue;
    if (depth === 0 && (t.value === ',' || t.value === closer)) return t.value;
    if (t.value === '(' || t.value === '[' || t.value === '{') depth++;
    else if (t.value === ')' || t.value === ']' || t.value === '}') depth--;
  }
}

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Skips past the closer matching `opener`, which was just read. False at the end of the source. */
function skipBalanced(s: Scanner, opener: string): boolean {
  let depth = 1;
  const closer = CLOSERS[opener]!;
  for (;;) {
    const t = s.next();
    if (t.type === 'eof') return false;
    if (t.type !== 'punct') continue;
    if (t.value === opener) depth++;
    else if (t.value === closer && --depth === 0) return true;
  }
}

function skipUntil(s: Scanner, punct: string): boolean {
  for (;;) {
    const t = s.next();
    if (t.type === 'eof') return false;
    if (isPunct(t, punct)) return true;
  }
}

function isPunct(t: Token, value: string): boolean {
  return t.type === 'punct' && t.value === value;
}

function isWord(t: Token, value: string): boolean {
  return t.type === 'ident' && t.value === value;
}

// ---- scanner -----------------------------------------------------------------------------------

interface Token {
  type: 'ident' | 'string' | 'number' | 'template' | 'regex' | 'punct' | 'eof';
  /** The name, the punctuator, or the value of a string literal; other tokens' text. */
  value: string;
  newlineBefore: boolean;
}

const IDENT = /(?:[\p{ID_Start}$_#\\]|[\ud800-\udfff])(?:[\p{ID_Continue}$\u200c\u200d\\]|[\ud800-\udfff])*/uy;
const NUMBER = /(?:0[xXoObB][\da-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)n?/y;
const PUNCT = /=>|\.\.\.|\?\.(?!\d)|[^\s\w$]/y;

// After these words an expression starts, so "/" opens a regular expression rather than dividing.
const EXPRESSION_KEYWORDS = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do',
  'else', 'yield', 'await', 'extends',
]);

/** Splits JavaScript source into the tokens the parser above needs, skipping comments. */
class Scanner {
  private pos = 0;
  private readonly ahead: Token[] = [];
  private prev: Token | undefined;

  constructor(private readonly src: string) {}

  next(): Token {
    return this.ahead.length > 0 ? this.ahead.shift()! : this.scan();
  }

  peek(n = 0): Token {
    while (this.ahead.length <= n) this.ahead.push(this.scan());
    return this.ahead[n]!;
  }

  private scan(): Token {
    const newlineBefore = this.skipSpace();
    const token = this.read(newlineBefore);
    this.prev = token;
    return token;
  }

  /** Skips white space and comments; true when they held a line break. */
  private skipSpace(): boolean {
    const src = this.src;
    let newline = false;
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos);
      if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) {
        newline = true;
        this.pos++;
      } else if (c === 32 || c === 9 || c === 11 || c === 12 || c === 0xa0 || c === 0xfeff || (c > 127 && /\s/.test(src[this.pos]!))) {
        this.pos++;
      } else if (c === 47 /* / */ && src.charCodeAt(this.pos + 1) === 47) {
        const end = src.indexOf('\n', this.pos);
        this.pos = end < 0 ? src.length : end;
      } else if (c === 47 && src.charCodeAt(this.pos + 1) === 42 /* * */) {
        const end = src.indexOf('*/', this.pos + 2);
        const stop = end < 0 ? src.length : end + 2;
        if (/[\n\r\u2028\u2029]/.test(src.slice(this.pos, stop))) newline = true;
        this.pos = stop;
      } else {
        break;
      }
    }
    return newline;
  }

  private read(newlineBefore: boolean): Token {
    const src = this.src;
    if (this.pos >= src.length) return { type: 'eof', value: '', newlineBefore };
    const c = src[this.pos]!;
    if (c === '"' || c === "'") return { type: 'string', value: this.string(c), newlineBefore };
    if (c === '`') {
      this.template();
      return { type: 'template', value: '`', newlineBefore };
    }
    if (c === '/' && this.regexAllowed()) {
      const end = this.regexEnd();
      if (end > 0) {
        const value = src.slice(this.pos, end);
        this.pos = end;
        return { type: 'regex', value, newlineBefore };
      }
    }
    if ((c >= '0' && c <= '9') || (c === '.' && /\d/.test(src[this.pos + 1] ?? ''))) {
      const number = this.match(NUMBER);
      if (number !== undefined) return { type: 'number', value: number, newlineBefore };
    }
    const ident = this.match(IDENT);
    if (ident !== undefined) return { type: 'ident', value: ident, newlineBefore };
    const punct = this.match(PUNCT) ?? src[this.pos++]!;
    return { type: 'punct', value: punct, newlineBefore };
  }

  private match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.src);
    if (m === null || m[0] === '') return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  /** Reads a string literal; gives its value, escapes resolved. */
  private string(quote: string): string {
    const src = this.src;
    let value = '';
    let i = this.pos + 1;
    while (i < src.length && src[i] !== quote) {
      if (src[i] === '\\') {
        const [text, length] = escapeAt(src, i);
        value += text;
        i += length;
      } else {
        value += src[i++];
      }
    }
    this.pos = i + 1;
    return value;
  }

  /** Skips a template literal, with the code of each `${...}` in it. */
  private template(): void {
    const src = this.src;
    this.pos++;
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (c === '\\') {
        this.pos += 2;
      } else if (c === '`') {
        this.pos++;
        return;
      } else if (c === '$' && src[this.pos + 1] === '{') {
        this.pos += 2;
        this.prev = { type: 'punct', value: '{', newlineBefore: false };
        let depth = 0;
        for (;;) {
          const t = this.scan();
          if (t.type === 'eof') return;
          if (t.type !== 'punct') continue;
          if (t.value === '{') depth++;
          else if (t.value === '}' && depth-- === 0) break;
        }
      } else {
        this.pos++;
      }
    }
  }

  private regexAllowed(): boolean {
    const prev = this.prev;
    if (prev === undefined) return true;
    switch (prev.type) {
      case 'number':
      case 'string':
      case 'template':
      case 'regex':
        return false;
      case 'ident':
        return EXPRESSION_KEYWORDS.has(prev.value);
      case 'punct':
        return prev.value !== ')' && prev.value !== ']' && prev.value !== '}';
      default:
        return true;
    }
  }

  /** The end of a regular expression literal starting here, or -1 when there is none on this line. */
  private regexEnd(): number {
    const src = this.src;
    let inClass = false;
    for (let i = this.pos + 1; i < src.length; i++) {
      const c = src[i];
      if (c === '\n' || c === '\r') return -1;
      if (c === '\\') i++;
      else if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) {
        let end = i + 1;
        while (end < src.length && /[\w$]/.test(src[end]!)) end++;
        return end;
      }
    }
    return -1;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** The text of the escape sequence at `i` in a string literal, and its length in the source. */
function escapeAt(src: string, i: number): [string, number] {
  const c = src[i + 1] ?? '';
  if (c === 'x') return [String.fromCharCode(parseInt(src.slice(i + 2, i + 4), 16)), 4];
  if (c === 'u') {
    if (src[i + 2] === '{') {
      const close = src.indexOf('}', i + 3);
      return [String.fromCodePoint(parseInt(src.slice(i + 3, close), 16)), close - i + 1];
    }
    return [String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16)), 6];
  }
  if (c === '\r' && src[i + 2] === '\n') return ['', 3];
  if (c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029') return ['', 2];
  return [SIMPLE_ESCAPES[c] ?? c, 2];
}
