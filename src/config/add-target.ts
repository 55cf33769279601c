import { Document, isMap, isScalar, isSeq, parseDocument, Scalar, type Node, type YAMLSeq } from 'yaml';
import { parseSimulationConfig, setConfigValue } from './simulation.js';
import { parseTarget } from './targets.js';
import { parseYaml } from './validator.js';

const KEYS = ['recording', 'targets'];

/** A target as a YAML scalar: plain when it can be, quoted when the context needs it. */
function render(target: string, flow: boolean): string {
  const plain = new Document(new Scalar(target)).toString({ lineWidth: 0 }).trimEnd();
  // A comma or a bracket ends a plain scalar inside [ ]; JSON's quoting is YAML's double quotes.
  return flow && /[,[\]{}]/.test(plain) ? JSON.stringify(target) : plain;
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** The offset just past the line that `at` is on (the end of the text when it has no newline after). */
function nextLine(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl === -1 ? text.length : nl + 1;
}

/** Lines inserted at the start of a line; a last line without its newline gets one first. */
function insertLines(text: string, at: number, line: string): string {
  const eol = eolOf(text);
  const lead = at > 0 && text[at - 1] !== '\n' ? eol : '';
  return text.slice(0, at) + lead + line + eol + text.slice(at);
}

function column(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** `- target` on a new line after the last item of a block list, at its items' indent. */
function appendToBlock(text: string, seq: YAMLSeq, target: string): string | undefined {
  const last = seq.items.at(-1) as Node | undefined;
  if (!seq.range || !last?.range) return undefined;
  return insertLines(text, nextLine(text, last.range[1]), `${' '.repeat(column(text, seq.range[0]))}- ${render(target, false)}`);
}

/** `[a, target]`, or `[target]` in place of `[]`, keeping whatever follows on the line. */
function appendToFlow(text: string, seq: YAMLSeq, target: string): string | undefined {
  if (!seq.range) return undefined;
  const close = text.lastIndexOf(']', seq.range[1] - 1);
  const last = seq.items.at(-1) as Node | undefined;
  if (close < seq.range[0]) return undefined;
  if (last === undefined) return `${text.slice(0, seq.range[0])}[${render(target, true)}]${text.slice(close + 1)}`;
  if (!last.range) return undefined;
  return `${text.slice(0, last.range[1])}, ${render(target, true)}${text.slice(last.range[1])}`;
}

/** A list under an empty `targets:`, its item indented below the key. */
function underEmptyKey(text: string, doc: Document.Parsed, target: string): string | undefined {
  const recording = doc.get('recording', true);
  if (!isMap(recording)) return undefined;
  const pair = recording.items.find((p) => isScalar(p.key) && p.key.value === 'targets');
  const key = pair?.key as Node | undefined;
  const value = pair?.value as Node | undefined;
  if (!key?.range || !isScalar(value) || value.value !== null || !value.range) return undefined;
  return insertLines(text, nextLine(text, value.range[0]), `${' '.repeat(column(text, key.range[0]) + 2)}- ${render(target, false)}`);
}

/**
 * Adds `target` to `recording.targets` in simulation config text, creating `recording:` and
 * `targets:` when they are missing; `added` is false when the target is listed already. The new
 * item is a line inserted in place (or an item added inside `[ ]`), so that every comment and
 * every other byte stays; the result is read back and must mean the config plus the target, else
 * the Document API writes it (which keeps comments, and may reformat the lines it touches).
 * A config that does not validate is refused with its file, line and field.
 */
export function addTarget(text: string, target: string, file = 'configs/simulation.yaml'): { text: string; added: boolean } {
  parseTarget(target);
  const config = parseSimulationConfig(text, file);
  if (config.recording.targets.includes(target)) return { text, added: false };
  const doc = parseYaml(text, file);
  const targets = [...config.recording.targets, target];
  const expected = (doc.toJS() ?? {}) as Record<string, unknown>;
  expected.recording = { ...((expected.recording ?? {}) as Record<string, unknown>), targets };
  const wanted = JSON.stringify(expected);

  const node = doc.getIn(KEYS, true);
  const edits = [
    () => (isSeq(node) && !node.flow && node.items.length > 0 ? appendToBlock(text, node, target) : undefined),
    () => (isSeq(node) && node.flow ? appendToFlow(text, node, target) : undefined),
    () => underEmptyKey(text, doc, target),
    () => (node === undefined ? setConfigValue(text, KEYS, [target], file) : undefined),
  ];
  for (const edit of edits) {
    const result = edit();
    if (result === undefined) continue;
    const check = parseDocument(result);
    if (check.errors.length === 0 && JSON.stringify(check.toJS() ?? {}) === wanted) return { text: result, added: true };
  }
  const edited = doc.clone();
  // An empty `recording:` holds null, which setIn cannot descend into.
  if (!isMap(edited.get('recording', true))) edited.set('recording', edited.createNode({}));
  const list = edited.getIn(KEYS, true);
  if (isSeq(list)) list.add(edited.createNode(target));
  else edited.setIn(KEYS, edited.createNode(targets));
  return { text: edited.toString({ lineWidth: 0 }), added: true };
}
