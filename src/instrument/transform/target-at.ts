import { parse } from 'meriyah';
import { ConfigError } from '../../config/errors';
import { parseTarget } from '../../config/targets';
import { children, FUNCTION_TYPES, holderOf, locate, propertyKey, type Node, type Source } from './locate';

/** A position in a file, from 1; without a column, the line as a whole. */
export interface Position {
  line: number;
  column?: number;
}

/** The target of the function at a position, as `fluxloop record add --at` adds it. */
export interface TargetAt {
  target: string;
  /** `name`: the transform finds it by that name; `line`: by the line it begins on. */
  by: 'name' | 'line';
  /** Said on stderr: why the target is the given line, unchecked. */
  note?: string;
}

interface Fn {
  node: Node;
  /** Its parents, the closest last. */
  ancestors: Node[];
  /** Where it begins, as line targets count. */
  begin: Node;
}

const TYPESCRIPT = /\.[cm]?tsx?$/;

/**
 * The target of the innermost function containing `position` in a module's `source`; `file` is
 * the module as targets name it (project-relative, with `/`). By name when the transform's own
 * lookup (locate) finds exactly that function by it, else by the line the function begins on.
 * Without a column, the function that begins on the line, else the innermost containing it; at
 * a column no function contains (on `export` before one), the function that begins on the line.
 * TypeScript is read with its types stripped (Node 22.13+); where Node cannot strip them, the
 * target is the line given, unchecked, with a note saying so.
 */
export function targetAt(source: string, file: string, position: Position): TargetAt {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const lines = text.split('\n');
  const { line, column } = position;
  if (line > lines.length) throw new ConfigError(`line ${line} is past the end of the file (${lines.length} lines)`, { file, line });
  const length = lines[line - 1]!.replace(/\r$/, '').length;
  if (column !== undefined && column > length + 1) throw new ConfigError(`column ${column} is past the end of line ${line} (${length} characters)`, { file, line, column });
  let code = text;
  if (TYPESCRIPT.test(file)) {
    const stripped = stripTypes(text, file);
    if (typeof stripped !== 'string') {
      return { target: `${file}:${line}`, by: 'line', note: `${stripped.why}: added the line you gave, ${file}:${line}, unchecked; a line target needs the function to begin on that line` };
    }
    code = stripped;
  }
  const program = parseModule(code, file);
  const lineStart = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
  // Without a column, the line's first character that is not a blank stands for it.
  const offset = lineStart + (column ?? (lines[line - 1]!.search(/\S/) + 1 || 1)) - 1;
  const fn = functionAt(program, line, offset, column === undefined);
  if (fn === undefined) {
    throw new ConfigError(column === undefined ? `no function begins on line ${line} or contains it` : `no function contains line ${line}, column ${column}, or begins on that line`, { file, line, column });
  }
  const written: Source = { position: (loc) => loc, line: (n) => lines[n - 1] ?? '' };
  const finds = (spec: string): boolean => {
    let parsed;
    try {
      parsed = parseTarget(spec);
    } catch {
      return false;
    }
    const found = locate(program, parsed, written);
    return found.ok && found.found.length === 1 && found.found[0]!.node === fn.node;
  };
  const named = namesOf(fn).map((name) => `${file}:${name}`).find(finds);
  if (named !== undefined) return { target: named, by: 'name' };
  const start = fn.begin.loc!.start;
  const byLine = `${file}:${start.line}`;
  // Another function beginning on the same line: the column tells them apart.
  return { target: finds(byLine) ? byLine : `${byLine}:${start.column + 1}`, by: 'line' };
}

/** TypeScript as JavaScript at the same positions, or why it cannot be. */
function stripTypes(text: string, file: string): string | { why: string } {
  const strip = (require('node:module') as { stripTypeScriptTypes?: (code: string, options: { mode: 'strip' }) => string }).stripTypeScriptTypes;
  if (typeof strip !== 'function') return { why: `Node ${process.version} cannot read TypeScript (module.stripTypeScriptTypes comes with Node 22.13)` };
  // Node warns that it is experimental, on stderr, where a tool reading ours would take it for ours.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes('stripTypeScriptTypes')) (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return strip(text, { mode: 'strip' });
  } catch (error) {
    // Syntax that stripping cannot erase (an enum, a namespace, JSX).
    return { why: `the types of ${file} cannot be stripped (${(error as Error).message.split('\n')[0]})` };
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** The module's syntax tree, as an ES module or else as CommonJS, as the file's extension allows. */
function parseModule(code: string, file: string): Node {
  const jsx = /x$/.test(file);
  const kinds = /\.m[jt]sx?$/.test(file) ? [true] : /\.c[jt]sx?$/.test(file) ? [false] : [true, false];
  let first: unknown;
  for (const module of kinds) {
    try {
      return parse(code, { module, globalReturn: !module, webcompat: true, next: true, jsx, loc: true, ranges: true }) as unknown as Node;
    } catch (error) {
      first ??= error;
    }
  }
  const error = first as { description?: string; message?: string; loc?: { start: { line: number; column: number } } };
  const at = error.loc?.start;
  throw new ConfigError(`cannot be parsed: ${error.description ?? error.message}`, { file, line: at?.line, column: at === undefined ? undefined : at.column + 1 });
}

/**
 * The innermost function containing `offset`, or the first function that begins on `line`: the
 * latter first when `lineFirst` (a line without a column, as a line target reads it), else when
 * no function contains the offset (on `export` before a function).
 */
function functionAt(program: Node, line: number, offset: number, lineFirst: boolean): Fn | undefined {
  const all: Fn[] = [];
  const walk = (node: Node, ancestors: Node[]): void => {
    if (FUNCTION_TYPES.has(node.type)) all.push({ node, ancestors, begin: holderOf(node, ancestors.at(-1)) });
    const inner = [...ancestors, node];
    for (const child of children(node)) walk(child, inner);
  };
  walk(program, []);
  // Nested functions: the innermost begins last.
  const containing = all.filter((f) => f.begin.start <= offset && offset < f.node.end).sort((a, b) => b.begin.start - a.begin.start)[0];
  const onLine = all.filter((f) => f.begin.loc!.start.line === line).sort((a, b) => a.begin.start - b.begin.start)[0];
  return lineFirst ? (onLine ?? containing) : (containing ?? onLine);
}

/** The names a node may go by at the top level: its own, its binding's, or its export's. */
function ownNames(node: Node, parent: Node | undefined): string[] {
  const names: string[] = [];
  if (node.id?.type === 'Identifier') names.push(node.id.name);
  if (parent?.type === 'VariableDeclarator' && parent.init === node && parent.id.type === 'Identifier') names.push(parent.id.name);
  if (parent?.type === 'ExportDefaultDeclaration') names.push('default');
  if (parent?.type === 'AssignmentExpression' && parent.right === node) {
    const { left } = parent;
    if (left.type === 'Identifier') names.push(left.name);
    else if (left.type === 'MemberExpression' && !left.computed) {
      // `module.exports = …` is the default export; `exports.x = …` and `module.exports.x = …` are x.
      names.push(left.object.type === 'Identifier' && left.object.name === 'module' && left.property.name === 'exports' ? 'default' : left.property.name);
    }
  }
  // `module.exports = { handle() {} }` exports handle under its key.
  if (parent?.type === 'Property' && parent.value === node) {
    const key = propertyKey(parent);
    if (key !== undefined) names.push(key);
  }
  return names;
}

/** Candidate names of a function, most direct first: its own, then Owner.member for a method. */
function namesOf({ node, ancestors }: Fn): string[] {
  const [parent, body, owner] = [ancestors.at(-1), ancestors.at(-2), ancestors.at(-3)];
  const names = ownNames(node, parent);
  if (parent !== undefined && holderOf(node, parent) === parent) {
    // A class member's owner is the class around its body; an object member's, the object.
    const [ownerNode, ownerParent] = body?.type === 'ClassBody' ? [owner, ancestors.at(-4)] : [body, owner];
    if (ownerNode !== undefined) {
      const owners = ownNames(ownerNode, ownerParent);
      const key = propertyKey(parent);
      if (parent.kind === 'constructor') names.push(...owners);
      else if (key !== undefined) names.push(...owners.map((o) => `${o}.${key}`));
    }
  }
  return [...new Set(names)];
}
