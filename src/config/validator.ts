import { Document, LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';
import { ConfigError, type SourceLocation } from './errors.js';

/** Parses YAML text, turning the first syntax error into a ConfigError at its line and column. */
export function parseYaml(text: string, file: string, lineCounter?: LineCounter): Document.Parsed {
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    // With prettyErrors, yaml appends " at line L, column C:" and an excerpt; the location goes in front instead.
    const message = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    const pos = error.linePos?.[0];
    throw new ConfigError(`invalid YAML: ${message}`, { file, line: pos?.line, column: pos?.col });
  }
  return doc;
}

/** Edits between two strings, a swap of neighbours counting as one (`tpyo` is one from `typo`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key closest to `key`, when it is close enough to be a typo. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  // `timeout` for `timeout_ms`: a known key that merely adds a unit or a suffix.
  const extended = known.find((candidate) => lower.length >= 4 && candidate.startsWith(lower));
  if (extended) return extended;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(lower, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/** Checks the parsed document node by node, so that every message points at the offending node. */
export class Validator {
  constructor(
    protected readonly doc: Document.Parsed,
    protected readonly lineCounter: LineCounter,
    protected readonly file: string,
  ) {}

  location(node: Node | null | undefined, field?: string): SourceLocation {
    const pos = node?.range ? this.lineCounter.linePos(node.range[0]) : undefined;
    return { file: this.file, line: pos?.line, column: pos?.col, field };
  }

  fail(message: string, node: Node | null | undefined, field?: string): never {
    throw new ConfigError(message, this.location(node, field));
  }

  /** The node an alias stands for; other nodes as they are. */
  resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null | undefined) ?? null;
  }

  /** An empty value (`key:` with nothing after it) counts as absent, as when its lines are commented out. */
  isEmpty(node: Node | null): boolean {
    return node === null || (isScalar(node) && node.value === null);
  }

  describe(node: Node | null): string {
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    if (isScalar(node)) {
      const v = node.value;
      return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${String(v)} (${typeof v})`;
    }
    return 'nothing';
  }

  /** A mapping's entries with their key text; `shown` is the node to point at when the value is no mapping. */
  mapping(node: Node | null, field: string | undefined, shown: Node | null): Array<{ key: string; keyNode: Node | null; value: Node | null }> {
    if (!isMap(node)) {
      const what = field ? 'must be a mapping' : 'the top level must be a mapping';
      this.fail(`${what} (key: value), found ${this.describe(node)}`, node ?? shown, field);
    }
    return (node as YAMLMap).items.map((pair) => {
      const keyNode = this.resolve(pair.key);
      const key = isScalar(keyNode) ? String(keyNode.value) : String(pair.key);
      return { key, keyNode, value: this.resolve(pair.value) };
    });
  }

  string(node: Node | null, field: string): string | undefined {
    if (this.isEmpty(node)) return undefined;
    if (!isScalar(node) || typeof node.value !== 'string') this.fail(`must be a string, found ${this.describe(node)}`, node, field);
    return node.value as string;
  }

  boolean(node: Node | null, field: string): boolean | undefined {
    if (this.isEmpty(node)) return undefined;
    if (!isScalar(node) || typeof node.value !== 'boolean') this.fail(`must be true or false, found ${this.describe(node)}`, node, field);
    return node.value as boolean;
  }

  positiveInteger(node: Node | null, field: string): number | undefined {
    if (this.isEmpty(node)) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      this.fail(`must be a positive integer, found ${this.describe(node)}`, node, field);
    }
    return v as number;
  }

  /** An integer in [min, max]. */
  integerIn(node: Node | null, field: string, min: number, max: number): number | undefined {
    if (this.isEmpty(node)) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) this.fail(`must be an integer from ${min} to ${max}, found ${this.describe(node)}`, node, field);
    return v as number;
  }

  /** A list of strings, each checked by `check` with its own node so that errors point at the item. */
  stringList(node: Node | null, field: string, check?: (item: string, node: Node, field: string) => void): string[] {
    if (this.isEmpty(node)) return [];
    if (!isSeq(node)) this.fail(`must be a list of strings, found ${this.describe(node)}`, node, field);
    return node.items.map((raw, i) => {
      const item = this.resolve(raw);
      const itemField = `${field}[${i}]`;
      if (!isScalar(item) || typeof item.value !== 'string') this.fail(`must be a string, found ${this.describe(item)}`, item ?? node, itemField);
      check?.(item.value as string, item, itemField);
      return item.value as string;
    });
  }

  /** A key this section (`''` for the top level) does not know: an error, since a misspelt key would otherwise be ignored quietly. */
  unknownKey(key: string, keyNode: Node | null, section: string, known: readonly string[]): never {
    const hint = suggest(key, known);
    this.fail(
      `unknown key "${key}" ${section ? `under ${section}` : 'at the top level'}${hint ? `; did you mean "${hint}"?` : ''} (known keys: ${known.join(', ')})`,
      keyNode,
      section ? `${section}.${key}` : key,
    );
  }

  /** A value outside a fixed set, with the closest one suggested: `unknown strategy "tpyo"; did you mean "typo"?`. */
  unknownValue(what: string, value: string, node: Node | null, field: string, allowed: readonly string[]): never {
    const hint = suggest(value, allowed);
    this.fail(`unknown ${what} ${JSON.stringify(value)}${hint ? `; did you mean "${hint}"?` : ''} (${what === 'strategy' ? 'strategies' : `${what}s`}: ${allowed.join(', ')})`, node, field);
  }

  oneOf<T extends string>(node: Node | null, field: string, allowed: readonly T[]): T | undefined {
    const value = this.string(node, field);
    if (value !== undefined && !allowed.includes(value as T)) {
      this.fail(`must be one of ${allowed.join(', ')}, found ${JSON.stringify(value)}`, node, field);
    }
    return value as T | undefined;
  }

  nonEmpty(node: Node | null, field: string): string | undefined {
    const value = this.string(node, field);
    if (value === '') this.fail('must not be empty', node, field);
    return value;
  }

  count(node: Node | null, field: string): number | undefined {
    if (this.isEmpty(node)) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(`must be 0 or a positive integer, found ${this.describe(node)}`, node, field);
    return v as number;
  }

  /** A number above 0, fractions allowed. */
  positiveNumber(node: Node | null, field: string): number | undefined {
    if (this.isEmpty(node)) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(`must be a positive number, found ${this.describe(node)}`, node, field);
    return v as number;
  }

  /** A number in [min, max]. */
  number(node: Node | null, field: string, min: number, max: number): number | undefined {
    if (this.isEmpty(node)) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(`must be a number from ${min} to ${max}, found ${this.describe(node)}`, node, field);
    return v as number;
  }
}
