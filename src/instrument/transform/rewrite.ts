import { TRACE } from './channels';
import type { Found, Node } from './locate';

// The names the transform adds to a function; `$` keeps them out of the way of the module's own.
const ARGS = '__fluxloop$args';
const REST = '__fluxloop$rest';
const PARAM = '__fluxloop$p';

/**
 * Makes a function's body publish each call to the tracing channel `index`, in place. The
 * function stays the same object, so identity, `name`, `length`, `this`, `new`, getters, static
 * and private members, and `util.types` kinds (async, generator) are as they were.
 *
 * Written here rather than taken from code-transformer's own operators: those turn an async
 * function or a generator into a plain function returning a promise or an iterator (so
 * `util.types.isAsyncFunction` turns false) and call a moved body with `apply`, which loses
 * `new.target`. Here the body moves into an arrow function, which keeps `this`, `arguments`,
 * `super` and `new.target` of the function it sits in.
 *
 * Returns why it cannot, or undefined once done.
 */
export function rewrite(found: Found, index: number): string | undefined {
  const { node } = found;
  if (node.generator) {
    if (contains(node.body, 'Super')) return 'a generator method that uses `super` cannot be traced';
    rewriteGenerator(node, index);
  } else if (node.type === 'ArrowFunctionExpression') {
    rewriteArrow(node, index);
  } else {
    // A constructor's `this` cannot be read before `super()`; calls record their arguments alone.
    const self = found.isConstructor ? undefinedValue() : { type: 'ThisExpression' };
    const [directives, body] = splitDirectives(node.body);
    // `function f(opts) { var opts = opts || {} }`: a `var` of a parameter's name is that
    // parameter, so the arrow takes such parameters as its own to keep their values.
    const shared = redeclaredParams(node).map(id);
    const moved = arrow(shared, block(body), node.async);
    const run = shared.length === 0 ? moved : arrow([], call(moved, shared), false);
    node.body = block([...directives, ret(traceCall(index, self, id('arguments'), run))]);
  }
  return undefined;
}

/**
 * An arrow has no `arguments`: its parameters become `p0…pN, ...rest`, N being its `length`, so
 * every argument passed is seen, and the original arrow, parameters and all, is called with them.
 */
function rewriteArrow(node: Node, index: number): void {
  const inner = { ...node };
  const [params, args] = numberedParams(node.params);
  node.params = params;
  node.expression = false;
  node.body = block([constant(ARGS, args), ret(traceCall(index, undefinedValue(), id(ARGS), arrow([], call(inner, [spread(id(ARGS))]), false)))]);
}

/**
 * A generator must stay one, and its body runs at the first `next()`: the original becomes an
 * inner generator that the outer one delegates to with `yield*`, so the call is seen when the
 * caller first asks for a value.
 */
function rewriteGenerator(node: Node, index: number): void {
  const inner = { type: 'FunctionExpression', id: null, params: node.params, body: node.body, async: node.async, generator: true };
  const [params, args] = numberedParams(node.params);
  const apply = call({ type: 'MemberExpression', object: inner, property: id('apply'), computed: false, optional: false }, [{ type: 'ThisExpression' }, id(ARGS)]);
  node.params = params;
  node.body = block([
    constant(ARGS, args),
    ret({ type: 'YieldExpression', delegate: true, argument: traceCall(index, { type: 'ThisExpression' }, id(ARGS), arrow([], apply, false)) }),
  ]);
}

/** `p0, …, pN-1, ...rest` for a function whose `length` is N, and the array of all of them. */
function numberedParams(params: Node[]): [Node[], Node] {
  let length = params.findIndex((p) => p.type === 'AssignmentPattern' || p.type === 'RestElement');
  if (length === -1) length = params.length;
  const named = Array.from({ length }, (_, i) => id(`${PARAM}${i}`));
  return [
    [...named, { type: 'RestElement', argument: id(REST) }],
    { type: 'ArrayExpression', elements: [...named, spread(id(REST))] },
  ];
}

function traceCall(index: number, self: Node, args: Node, run: Node): Node {
  return call(id(TRACE), [literal(index), self, args, run]);
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
    for (const key of Object.keys(n)) {
      if (key === 'loc' || key === 'range') continue;
      const child = n[key];
      if (Array.isArray(child)) for (const c of child) visit(c, false);
      else if (child && typeof child === 'object') visit(child, false);
    }
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

/** A function body's directive prologue (`'use strict'`) stays with the function it governs. */
function splitDirectives(body: Node): [Node[], Node[]] {
  const statements = body.body as Node[];
  let n = 0;
  while (n < statements.length && typeof statements[n]!.directive === 'string') n++;
  return [statements.slice(0, n), statements.slice(n)];
}

function contains(node: Node, type: string): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (node.type === type) return true;
  // `super` inside a nested ordinary function or class belongs to that one.
  if (node.type === 'FunctionExpression' || node.type === 'FunctionDeclaration' || node.type === 'ClassBody') return false;
  for (const key of Object.keys(node)) {
    if (key === 'loc' || key === 'range') continue;
    const child = node[key];
    if (Array.isArray(child) ? child.some((c) => contains(c, type)) : contains(child, type)) return true;
  }
  return false;
}

function call(callee: Node, args: Node[]): Node {
  return { type: 'CallExpression', callee, arguments: args, optional: false };
}

function id(name: string): Node {
  return { type: 'Identifier', name };
}

function literal(value: number): Node {
  return { type: 'Literal', value, raw: String(value) };
}

function undefinedValue(): Node {
  return { type: 'UnaryExpression', operator: 'void', prefix: true, argument: literal(0) };
}

function spread(argument: Node): Node {
  return { type: 'SpreadElement', argument };
}

function block(body: Node[]): Node {
  return { type: 'BlockStatement', body };
}

function ret(argument: Node): Node {
  return { type: 'ReturnStatement', argument };
}

function constant(name: string, init: Node): Node {
  return { type: 'VariableDeclaration', kind: 'const', declarations: [{ type: 'VariableDeclarator', id: id(name), init }] };
}

function arrow(params: Node[], body: Node, async: boolean): Node {
  return { type: 'ArrowFunctionExpression', params, body, async, expression: body.type !== 'BlockStatement', generator: false };
}
