import type { TargetSpec } from '../../config/types';
import type { Param } from '../params';

// ESTree nodes as meriyah makes them; typed loosely, since only a few shapes are read.
export interface Node {
  type: string;
  loc?: { start: { line: number; column: number } };
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A function the transform wraps, and what records and `record status` say of it. */
export interface Found {
  node: Node;
  /** The function's own name, or the name it is known by (a variable, a key); '' for none. */
  name: string;
  line: number;
  column: number;
  params: Param[];
  /** A class constructor, whose `this` cannot be read before `super()`. */
  isConstructor: boolean;
}

export type Location = { ok: true; found: Found[] } | { ok: false; reason: string };

/**
 * Where the code the app wrote is: the position of a node, and a line's text. For code compiled
 * in memory (tsx), through the source map it carries, so that lines are the source's lines.
 */
export interface Source {
  position(loc: { line: number; column: number }, arrow: boolean): { line: number; column: number };
  line(line: number): string;
}

export const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/**
 * Finds the functions a target names in a module's syntax tree. Names are looked up in the
 * module's top-level scope first, so a function that is not exported, or is called from inside
 * its own module, is reached where it is declared; then through the module's exports, ESM and
 * CommonJS alike. A line target is the function that begins on that line, anywhere.
 */
export function locate(program: Node, target: TargetSpec, source: Source): Location {
  if (target.line !== undefined) return locateLine(program, target, source);
  const scope = topLevel(program);
  const owner = resolve(scope, target.exportName);
  if (owner === undefined) {
    const names = [...scope.names.keys()].filter((n) => n !== 'default').sort();
    return miss(`no function, class or object named "${target.exportName}" at the top level${names.length ? ` (there: ${list(names)})` : ''}`);
  }
  if (target.member === undefined) {
    const fn = isClass(owner.node) ? constructorOf(owner.node) : owner.node;
    if (fn === undefined) return miss(`class "${target.exportName}" has no constructor of its own`);
    if (!FUNCTION_TYPES.has(fn.type)) return miss(`"${target.exportName}" is not a function`);
    return { ok: true, found: [found(source, fn, owner.name || functionName(owner.node) || target.exportName, isClass(owner.node))] };
  }
  const members = membersOf(owner.node);
  if (members === undefined) return miss(`"${target.exportName}" is neither a class nor an object literal`);
  const matches = members.filter((m) => m.key === target.member && FUNCTION_TYPES.has(m.fn?.type));
  if (matches.length === 0) {
    const keys = [...new Set(members.filter((m) => FUNCTION_TYPES.has(m.fn?.type)).map((m) => m.key))];
    return miss(`"${target.exportName}" has no method "${target.member}"${keys.length ? ` (methods: ${list(keys)})` : ''}`);
  }
  return { ok: true, found: matches.map((m) => found(source, m.fn, m.key, false, m.at)) };
}

function miss(reason: string): Location {
  return { ok: false, reason };
}

function list(names: string[]): string {
  return names.slice(0, 20).join(', ') + (names.length > 20 ? ', …' : '');
}

interface Binding {
  node: Node;
  /** The name it was declared with, when that differs from the name it was reached by. */
  name: string;
}

interface Scope {
  names: Map<string, Node>;
  /** Exports under a name of their own: a default, a CommonJS value, or the local name an alias stands for. */
  exports: Map<string, Node | string>;
}

/** The declarations of a module's top level, and what it exports (ESM and CommonJS). */
function topLevel(program: Node): Scope {
  const names = new Map<string, Node>();
  const exports = new Map<string, Node | string>();
  const declare = (node: Node | null | undefined): void => {
    if (!node) return;
    if ((node.type === 'FunctionDeclaration' || node.type === 'ClassDeclaration') && node.id) names.set(node.id.name, node);
    if (node.type === 'VariableDeclaration') {
      for (const d of node.declarations) if (d.id.type === 'Identifier' && d.init) names.set(d.id.name, unwrapped(d.init));
    }
  };
  for (const statement of moduleScope(program.body as Node[])) {
    declare(statement);
    if (statement.type === 'ExportNamedDeclaration') {
      // `export function f` and `export const f` are declarations of the top level, under their own names.
      declare(statement.declaration);
      if (!statement.source) for (const s of statement.specifiers) exports.set(s.exported.name ?? s.exported.value, s.local.name ?? s.local.value);
    } else if (statement.type === 'ExportDefaultDeclaration') {
      declare(statement.declaration);
      const d = statement.declaration;
      exports.set('default', d.type === 'Identifier' ? d.name : d);
    } else if (statement.type === 'ExpressionStatement') {
      commonJsExport(statement.expression, exports);
    }
  }
  return { names, exports };
}

/**
 * The statements of a module's scope: its top level, and the body of a function it calls at once
 * there, as compilers wrap a module (tsx compiles TypeScript for `require` into `(() => { … })()`).
 */
function moduleScope(statements: Node[]): Node[] {
  return statements.flatMap((statement) => {
    const call = statement.type === 'ExpressionStatement' ? statement.expression : undefined;
    const fn = call?.type === 'CallExpression' && call.arguments.length === 0 ? call.callee : undefined;
    const body = fn && (fn.type === 'ArrowFunctionExpression' || fn.type === 'FunctionExpression') && fn.body.type === 'BlockStatement' ? fn.body.body : undefined;
    return body ? [statement, ...moduleScope(body)] : [statement];
  });
}

/** `module.exports = …`, `module.exports.x = …` and `exports.x = …`, also chained (`a = exports.x = …`). */
function commonJsExport(expression: Node, exports: Map<string, Node | string>): void {
  if (expression.type !== 'AssignmentExpression' || expression.operator !== '=') return;
  const { left } = expression;
  let right: Node = expression.right;
  while (right.type === 'AssignmentExpression' && right.operator === '=') {
    commonJsExport(right, exports);
    right = right.right;
  }
  const value = right.type === 'Identifier' ? right.name : right;
  if (isModuleExports(left)) {
    exports.set('default', value);
    if (right.type === 'ObjectExpression') {
      for (const p of right.properties) {
        const key = propertyKey(p);
        if (key !== undefined && p.type === 'Property' && p.kind === 'init') exports.set(key, p.value.type === 'Identifier' ? p.value.name : p.value);
      }
    }
  } else if (left.type === 'MemberExpression' && (isModuleExports(left.object) || isIdentifier(left.object, 'exports'))) {
    const key = left.computed ? (left.property.type === 'Literal' ? String(left.property.value) : undefined) : left.property.name;
    if (key !== undefined) exports.set(key, value);
  }
}

function isModuleExports(node: Node): boolean {
  return node.type === 'MemberExpression' && !node.computed && isIdentifier(node.object, 'module') && node.property.name === 'exports';
}

function isIdentifier(node: Node, name: string): boolean {
  return node.type === 'Identifier' && node.name === name;
}

/** A top-level name, then an export of that name, each followed through local names it stands for. */
function resolve(scope: Scope, name: string): Binding | undefined {
  let next: Node | string | undefined = scope.names.get(name) ?? scope.exports.get(name);
  let declared = '';
  for (let hops = 0; typeof next === 'string' && hops < 10; hops++) {
    declared = next;
    next = scope.names.get(next);
  }
  if (next === undefined || typeof next === 'string') return undefined;
  return { node: next, name: declared };
}

/**
 * `__name(fn, "name")`, as esbuild (and so tsx) writes a function it keeps the name of, is the
 * function itself.
 */
function unwrapped(node: Node): Node {
  const [fn, name] = node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === '__name' ? node.arguments : [];
  return fn && FUNCTION_TYPES.has(fn.type) && name?.type === 'Literal' ? fn : node;
}

function isClass(node: Node): boolean {
  return node.type === 'ClassDeclaration' || node.type === 'ClassExpression';
}

function constructorOf(node: Node): Node | undefined {
  return (node.body.body as Node[]).find((m) => m.type === 'MethodDefinition' && m.kind === 'constructor')?.value;
}

interface Member {
  key: string;
  fn: Node;
  /** Where the member begins (its key, or `static`, `get`, `async`), for line and name. */
  at: Node;
}

/** The methods, accessors and function-valued fields of a class or an object literal. */
function membersOf(node: Node): Member[] | undefined {
  const items: Node[] | undefined = isClass(node) ? node.body.body : node.type === 'ObjectExpression' ? node.properties : undefined;
  if (items === undefined) return undefined;
  const members: Member[] = [];
  for (const item of items) {
    if (item.kind === 'constructor') continue;
    const key = propertyKey(item);
    if (key !== undefined && item.value) members.push({ key, fn: unwrapped(item.value), at: item });
  }
  return members;
}

/** A member's name: its key, `#name` when private; undefined when computed. */
export function propertyKey(item: Node): string | undefined {
  if (!('key' in item) || item.computed) return undefined;
  const { key } = item;
  if (key.type === 'PrivateIdentifier') return `#${key.name}`;
  if (key.type === 'Identifier') return key.name;
  if (key.type === 'Literal') return String(key.value);
  return undefined;
}

/** Every function that begins on the line (and at the column, when given). */
function locateLine(program: Node, { file, line, column }: TargetSpec, source: Source): Location {
  const candidates: Found[] = [];
  walk(program, (node, parent) => {
    if (!FUNCTION_TYPES.has(node.type)) return;
    const holder = holderOf(node, parent);
    const candidate = found(source, node, '', holder.kind === 'constructor', holder);
    if (candidate.line !== line) return;
    candidate.name = functionName(node) || (holder !== node ? (propertyKey(holder) ?? '') : '') || declaredName(parent, node);
    candidates.push(candidate);
  });
  const matches = column === undefined ? candidates : candidates.filter((c) => c.column === column);
  if (matches.length === 1) return { ok: true, found: matches };
  if (matches.length === 0 && candidates.length === 0) return miss(`no function begins on line ${line}`);
  const named = (c: Found): string => `${file}:${line}:${c.column}${c.name ? ` (${c.name})` : ''}`;
  if (matches.length === 0) return miss(`no function begins at line ${line}, column ${column}; functions on that line: ${candidates.map(named).join(', ')}`);
  return miss(`${matches.length} functions begin on line ${line}; name one with its column: ${matches.map(named).join(', ')}`);
}

/** The node a function begins at: a method's definition (`async`, `get`, `static`, its key), not its `(`. */
export function holderOf(node: Node, parent: Node | undefined): Node {
  return parent && (parent.type === 'MethodDefinition' || parent.type === 'Property' || parent.type === 'PropertyDefinition') && parent.value === node ? parent : node;
}

/** `const name = () => …` and `name: function () {}` give an anonymous function its name. */
function declaredName(parent: Node | undefined, node: Node): string {
  if (parent?.type === 'VariableDeclarator' && parent.init === node && parent.id.type === 'Identifier') return parent.id.name;
  if (parent?.type === 'AssignmentExpression' && parent.right === node) {
    const left = parent.left;
    if (left.type === 'Identifier') return left.name;
    if (left.type === 'MemberExpression' && !left.computed) return left.property.name;
  }
  return '';
}

function functionName(node: Node): string {
  return node.id?.name ?? '';
}

function walk(node: Node, visit: (node: Node, parent: Node | undefined) => void, parent?: Node): void {
  visit(node, parent);
  for (const child of children(node)) walk(child, visit, node);
}

/** A node's child nodes. */
export function children(node: Node): Node[] {
  const out: Node[] = [];
  for (const key of Object.keys(node)) {
    if (key === 'loc') continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (const item of value) if (item && typeof item.type === 'string') out.push(item);
    } else if (value && typeof value.type === 'string') {
      out.push(value);
    }
  }
  return out;
}

function found(source: Source, node: Node, name: string, isConstructor: boolean, holder: Node = node): Found {
  const { line, column } = source.position(holder.loc!.start, node.type === 'ArrowFunctionExpression');
  return { node, name, line, column: column + 1, params: (node.params as Node[]).map(paramOf), isConstructor };
}

/** A parameter as the recorder describes it: its name, the keys it destructures, or its rest name. */
function paramOf(param: Node): Param {
  if (param.type === 'AssignmentPattern') return paramOf(param.left);
  if (param.type === 'Identifier') return param.name;
  if (param.type === 'RestElement') return param.argument.type === 'Identifier' ? { rest: param.argument.name } : null;
  if (param.type === 'ObjectPattern') {
    const keys = (param.properties as Node[]).map((p) => (p.type === 'RestElement' ? undefined : propertyKey(p))).filter((k): k is string => k !== undefined);
    return { destructured: keys };
  }
  return null;
}
