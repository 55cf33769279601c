import type MagicString from 'magic-string';
import { TRACE } from './channels';
import { children, type Found, type Node } from './locate';

// The names the transform adds to a function; `$` keeps them out of the way of the module's own.
const ARGS = '__fluxloop$args';
const REST = '__fluxloop$rest';
const PARAM = '__fluxloop$p';

/**
 * Makes a function publish each call to the tracing channel `channel`, in place, by inserting text
 * around its body: no newline is added and no character of the app's own code moves to another
 * line, so stack traces keep their lines without source maps. The function stays the same object,
 * so identity, `name`, `length`, `this`, `new` and `new.target`, getters, static and private
 * members, and `util.types` kinds (async, generator) are as they were. The body moves into an
 * arrow function, which keeps `this`, `arguments`, `super` and `new.target` of the function it
 * sits in. An async function awaits it, so that async stack traces still reach the caller.
 *
 * Insertions at one place nest: callers rewrite inner functions first, and text opening a
 * function goes before what is there (`prependRight`), text closing it after (`appendLeft`).
 *
 * `unfit` must have found nothing to say against it.
 */
export function rewrite(code: MagicString, source: string, found: Found, channel: number, variant: number): void {
  const { node } = found;
  // The channel, and which of the target's functions was called where it has several (a getter
  // and its setter): the first arguments of every call of the trace function.
  const index = `${channel}, ${variant}`;
  if (node.generator) {
    rewriteGenerator(code, source, node, index);
  } else if (node.type === 'ArrowFunctionExpression') {
    rewriteArrow(code, node, index);
  } else {
    // A constructor's `this` cannot be read before `super()`; calls record their arguments alone.
    const self = found.isConstructor ? 'void 0' : 'this';
    const [async, wait] = node.async ? ['async ', 'await '] : ['', ''];
    // `function f(opts) { var opts = opts || {} }`: a `var` of a parameter's name is that
    // parameter, so the arrow takes such parameters as its own to keep their values.
    const shared = redeclaredParams(node).join(', ');
    const statements = node.body.body as Node[];
    const directives = statements.filter((s, i) => typeof s.directive === 'string' && statements.slice(0, i).every((p) => typeof p.directive === 'string'));
    // A directive prologue (`'use strict'`) stays with the function it governs.
    const at = directives.length > 0 ? directives[directives.length - 1]!.end : node.body.start + 1;
    const open = shared === '' ? `${async}() => {` : `() => (${async}(${shared}) => {`;
    around(code, at, node.body.end - 1, `return ${wait}${TRACE}(${index}, ${self}, arguments, ${open}`, shared === '' ? '});' : `})(${shared}));`);
  }
}

/** Why a function cannot be rewritten, if it cannot. */
export function unfit({ node }: Found): string | undefined {
  // The body of a generator moves into an inner generator, where `super` has no meaning.
  return node.generator && contains(node.body, 'Super') ? 'a generator method that uses `super` cannot be traced' : undefined;
}

/**
 * An arrow has no `arguments`: a new arrow, whose parameters are `p0…pN-1, ...rest` (N being the
 * original's `length`), stands in its place and calls the original with every argument given.
 */
function rewriteArrow(code: MagicString, node: Node, index: string): void {
  const params = numberedParams(node.params);
  const [async, wait] = node.async ? ['async ', 'await '] : ['', ''];
  code.prependRight(node.start, `${async}(${params}) => { const ${ARGS} = [${params}]; return ${wait}${TRACE}(${index}, void 0, ${ARGS}, () => (`);
  code.appendLeft(node.end, `)(...${ARGS})); }`);
}

/**
 * A generator must stay one, and its body runs at the first `next()`: the original becomes an
 * inner generator that the outer one delegates to with `yield*`, so the call is seen when the
 * caller first asks for a value.
 */
function rewriteGenerator(code: MagicString, source: string, node: Node, index: string): void {
  const params = node.params as Node[];
  const numbered = numberedParams(params);
  const original = params.length === 0 ? '' : source.slice(params[0]!.start, params[params.length - 1]!.end);
  if (params.length === 0) code.appendLeft(source.indexOf('(', node.id?.end ?? node.start) + 1, numbered);
  else code.overwrite(params[0]!.start, params[params.length - 1]!.end, numbered);
  const inner = `${node.async ? 'async ' : ''}function* (${original}) {`;
  around(code, node.body.start + 1, node.body.end - 1, `const ${ARGS} = [${numbered}]; return yield* ${TRACE}(${index}, this, ${ARGS}, () => (${inner}`, `}).apply(this, ${ARGS}));`);
}

/** Puts `open` before the code from `start` and `close` after the code up to `end`, also when there is none. */
function around(code: MagicString, start: number, end: number, open: string, close: string): void {
  if (start === end) return void code.prependRight(start, open + close);
  code.prependRight(start, open);
  code.appendLeft(end, close);
}

/** `p0, …, pN-1, ...rest` for a function whose `length` is N: as parameters, and in an array, all the arguments. */
function numberedParams(params: Node[]): string {
  let length = params.findIndex((p) => p.type === 'AssignmentPattern' || p.type === 'RestElement');
  if (length === -1) length = params.length;
  return [...Array.from({ length }, (_, i) => `${PARAM}${i}`), `...${REST}`].join(', ');
}

/** The parameter names that the body declares again with `var` or `function`. */
function redeclaredParams(node: Node): string[] {
  const params = new Set<string>();
  for (const p of node.params as Node[]) boundNames(p, params);
  const redeclared = new Set<string>();
  const visit = (n: Node | null | undefined, top: boolean): void => {
    if (!n || typeof n.type !== 'string') return;
    if (n.type === 'FunctionDeclaration') {
      if (top && params.has(n.id?.name)) redeclared.add(n.id.name);
      return;
    }
    if (n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression' || n.type === 'ClassDeclaration' || n.type === 'ClassExpression') return;
    if (n.type === 'VariableDeclaration' && n.kind === 'var') {
      const names = new Set<string>();
      for (const d of n.declarations) boundNames(d.id, names);
      for (const name of names) if (params.has(name)) redeclared.add(name);
    }
    for (const child of children(n)) visit(child, false);
  };
  for (const statement of node.body.body as Node[]) visit(statement, true);
  return [...redeclared];
}

function boundNames(pattern: Node | null, into: Set<string>): void {
  if (!pattern) return;
  if (pattern.type === 'Identifier') into.add(pattern.name);
  else if (pattern.type === 'AssignmentPattern') boundNames(pattern.left, into);
  else if (pattern.type === 'RestElement') boundNames(pattern.argument, into);
  else if (pattern.type === 'ArrayPattern') for (const e of pattern.elements) boundNames(e, into);
  else if (pattern.type === 'ObjectPattern') for (const p of pattern.properties) boundNames(p.type === 'RestElement' ? p : p.value, into);
}

function contains(node: Node, type: string): boolean {
  if (node.type === type) return true;
  // `super` inside a nested ordinary function or class belongs to that one.
  if (node.type === 'FunctionExpression' || node.type === 'FunctionDeclaration' || node.type === 'ClassBody') return false;
  return children(node).some((child) => contains(child, type));
}
