import fs from 'node:fs';
import { ConfigError } from './errors.js';

/**
 * Keys as dotenv reads them (letters, digits, `_`, `.`, `-`), except that a key may not start
 * with a digit, `.` or `-`: such a line is far more likely a typo than a variable anyone reads.
 */
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const QUOTES = new Set(['"', "'", '`']);

/** One `KEY=VALUE` assignment, as offsets into the text. */
interface Assignment {
  key: string;
  /** Where the value's text starts: its opening quote, or its first character. */
  valueStart: number;
  /** Just past the value's text: past the closing quote, or past its last non-blank character. */
  valueEnd: number;
}

interface Problem {
  offset: number;
  message: string;
}

interface Scan {
  assignments: Assignment[];
  problems: Problem[];
}

/** The offset of the end of the line holding `pos`, before any `\r\n` or `\n`. */
function lineEnd(text: string, pos: number): number {
  let end = text.indexOf('\n', pos);
  if (end === -1) end = text.length;
  if (end > pos && text[end - 1] === '\r') end--;
  return end;
}

/** The offset where the next line starts, or the text's length. */
function nextLine(text: string, pos: number): number {
  const nl = text.indexOf('\n', pos);
  return nl === -1 ? text.length : nl + 1;
}

/** Only blanks and a comment may follow a closing quote on its line. */
function restIsBlankOrComment(text: string, from: number): boolean {
  return /^[ \t]*(#.*)?$/.test(text.slice(from, lineEnd(text, from)));
}

/**
 * Finds the closing quote of a quoted value starting at `open`. dotenv's pattern for a quoted value
 * lets `\"` stand for a quote inside it but backtracks to treat that quote as the closing one when
 * nothing else fits, so every escaped quote before the first plain one is a candidate too, the
 * furthest tried first. Returns the closing quote's offset or a problem.
 */
function findClosingQuote(text: string, open: number): number | Problem {
  const quote = text[open];
  const candidates: number[] = [];
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] !== quote) continue;
    candidates.push(i);
    if (text[i - 1] !== '\\') break;
  }
  for (let c = candidates.length - 1; c >= 0; c--) {
    if (restIsBlankOrComment(text, candidates[c]! + 1)) return candidates[c]!;
  }
  const last = candidates[candidates.length - 1];
  // A quote found on a later line is most likely the opening quote of another value.
  if (last === undefined || text.lastIndexOf('\n', last) >= open) {
    return { offset: open, message: `unterminated quoted value: the closing ${quote} is missing` };
  }
  let after = last + 1;
  while (text[after] === ' ' || text[after] === '\t') after++;
  return { offset: after, message: `unexpected text after the closing ${quote} of the value` };
}

/**
 * Reads .env text the way dotenv does, but notes every line dotenv would silently skip or misread.
 * Keeps offsets into the original text (`\r\n` included), so that edits can splice into it.
 */
function scanEnv(text: string): Scan {
  const assignments: Assignment[] = [];
  const problems: Problem[] = [];
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (pos < text.length) {
    const end = lineEnd(text, pos);
    const line = text.slice(pos, end);
    if (/^\s*(#.*)?$/.test(line)) {
      pos = nextLine(text, pos);
      continue;
    }
    const m = /^(\s*(?:export[ \t]+)?)([^=]*?)[ \t]*=/.exec(line);
    if (!m) {
      const indent = /^\s*/.exec(line)![0].length;
      problems.push({ offset: pos + indent, message: 'expected KEY=VALUE, export KEY=VALUE, a # comment or a blank line' });
      pos = nextLine(text, pos);
      continue;
    }
    const key = m[2]!;
    if (!KEY_RE.test(key)) {
      const message = key
        ? `invalid key "${key}": use letters, digits and _ (not starting with a digit)`
        : 'missing key before "="';
      problems.push({ offset: pos + m[1]!.length, message });
      pos = nextLine(text, pos);
      continue;
    }
    let valueStart = pos + m[0].length;
    while (text[valueStart] === ' ' || text[valueStart] === '\t') valueStart++;
    if (valueStart < end && QUOTES.has(text[valueStart]!)) {
      const close = findClosingQuote(text, valueStart);
      if (typeof close !== 'number') {
        problems.push(close);
        pos = nextLine(text, pos);
        continue;
      }
      assignments.push({ key, valueStart, valueEnd: close + 1 });
      pos = nextLine(text, close);
      continue;
    }
    const hash = text.indexOf('#', valueStart);
    let valueEnd = hash !== -1 && hash < end ? hash : end;
    while (valueEnd > valueStart && /\s/.test(text[valueEnd - 1]!)) valueEnd--;
    // An empty value sits right after "=", so that writing one never runs into a comment.
    if (valueEnd === valueStart) valueStart = valueEnd = pos + m[0].length;
    assignments.push({ key, valueStart, valueEnd });
    pos = nextLine(text, pos);
  }
  return { assignments, problems };
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Reads a .env file. A missing file gives no values; a line dotenv would skip or misread throws a
 * ConfigError naming `label` (the path to show, default `file`), line and column.
 */
export function readEnvFile(file: string, label: string = file): { exists: boolean; values: Record<string, string> } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, values: {} };
    throw err;
  }
  const problem = scanEnv(text).problems[0];
  if (problem) throw new ConfigError(problem.message, { file: label, ...lineAndColumn(text, problem.offset) });
  return { exists: true, values: dotenvParse(text) };
}

// Loaded only for a file that exists: the preload of an app without a .env reads none.
function dotenvParse(text: string): Record<string, string> {
  return (require('dotenv') as typeof import('dotenv')).parse(text);
}

/** Sets the keys of `values` that `process.env` does not have yet: the environment always wins. */
export function applyEnv(values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
}

/**
 * The plainest way to write `value` that reads back exactly: bare when it has no blanks, quotes or
 * `#`, else in the first quotes that survive dotenv (single and backtick quotes are literal,
 * double quotes turn `\n` into a newline).
 */
function encodeValue(value: string): string {
  const candidates = [value, `'${value}'`, `"${value}"`, `\`${value}\``];
  if (/[\s'"`#]/.test(value)) candidates.shift();
  for (const candidate of candidates) {
    const line = `KEY=${candidate}`;
    if (scanEnv(line).problems.length === 0 && dotenvParse(line).KEY === value) return candidate;
  }
  throw new Error('this value cannot be written to a .env file: it holds every kind of quote');
}

/**
 * Sets `key` in .env text and changes nothing else: the assignment dotenv uses (the last one,
 * with or without `export`) gets the new value in place, keeping any comment after it; a key not
 * yet set is appended as `KEY=value`. Lines it cannot read are kept as they are.
 */
export function setEnvValue(text: string, key: string, value: string): string {
  if (!KEY_RE.test(key)) throw new Error(`invalid .env key "${key}"`);
  const encoded = encodeValue(value);
  const found = scanEnv(text).assignments.filter((a) => a.key === key).pop();
  if (found) {
    const next = text[found.valueEnd];
    // A bare `KEY=` followed by `#` would otherwise swallow the comment.
    const gap = found.valueStart === found.valueEnd && next === '#' ? ' ' : '';
    return text.slice(0, found.valueStart) + encoded + gap + text.slice(found.valueEnd);
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lead = text === '' || text.endsWith('\n') ? '' : eol;
  return `${text}${lead}${key}=${encoded}${eol}`;
}
