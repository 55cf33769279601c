import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseParams, type Param } from '../../src/instrument/params';
import { wrap } from '../../src/instrument/wrap';

/** A function made from exact source text, untouched by the test's own compiler. */
function fromSource(source: string): Function {
  return vm.runInNewContext(`(${source})`, {
    __name: (target: unknown) => target,
    __publicField: () => undefined,
    __objRest: () => ({}),
    mixin: (base: unknown) => base,
    Base: Object,
    init: () => undefined,
  }) as Function;
}

function paramsOf(source: string): Param[] {
  return parseParams(fromSource(source));
}

describe('parseParams: functions', () => {
  it.each<[string, string, Param[]]>([
    ['declaration', 'function handle(a, b) { return a + b; }', ['a', 'b']],
    ['anonymous expression', 'function (x) {}', ['x']],
    ['no parameters', 'function () {}', []],
    ['async', 'async function run(input, options) {}', ['input', 'options']],
    ['generator', 'function* gen(a, ...rest) {}', ['a', { rest: 'rest' }]],
    ['generator with space', 'function * gen (a) {}', ['a']],
    ['async generator', 'async function* stream(prompt) {}', ['prompt']],
    ['comment before the list', 'function f /* (not, this) */ (a) {}', ['a']],
    ['arrow with parentheses', '(a, b) => a + b', ['a', 'b']],
    ['arrow without parentheses', 'x => x * 2', ['x']],
    ['arrow with no parameters', '() => 1', []],
    ['async arrow without parentheses', 'async x => x', ['x']],
    ['async arrow', 'async (a, b) => a', ['a', 'b']],
    ['async arrow without space', 'async(a)=>a', ['a']],
    ['arrow whose parameter is named async', 'async => async', ['async']],
    ['arrow with body calls', 'x => foo(bar, baz)', ['x']],
  ])('%s', (_name, source, expected) => {
    expect(paramsOf(source)).toEqual(expected);
  });
});

describe('parseParams: methods', () => {
  class Service {
    static create(config: unknown) {
      return config;
    }
    async *events(since: number) {
      yield since;
    }
    [Symbol.iterator](step: number) {
      return step as never;
    }
    'quoted name'(c: unknown) {
      return c;
    }
    get size() {
      return 1;
    }
    set size(next: number) {
      void next;
    }
    #secret(a: unknown) {
      return a;
    }
    reveal() {
      return this.#secret;
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(Service.prototype, 'size')!;

  it.each<[string, Function, Param[]]>([
    ['static method', Service.create, ['config']],
    ['async generator method', Service.prototype.events, ['since']],
    ['computed symbol name', Service.prototype[Symbol.iterator], ['step']],
    ['quoted name', Service.prototype['quoted name'], ['c']],
    ['getter', descriptor.get!, []],
    ['setter', descriptor.set!, ['next']],
    ['private method', new Service().reveal(), ['a']],
    ['object method', { run(a: unknown, b: unknown) {} }.run, ['a', 'b']],
    ['object async method', { async ask(question: string) {} }.ask, ['question']],
    ['method named async', fromSource('{ async(c) {} }.async'), ['c']],
  ])('%s', (_name, fn, expected) => {
    expect(parseParams(fn)).toEqual(expected);
  });

  it.each<[string, string, Param[]]>([
    ['method source', 'run(a, b) {}', ['a', 'b']],
    ['async generator method source', 'async *name(a) {}', ['a']],
    ['computed name with calls and brackets', '[key("a(")[0]](x, y) {}', ['x', 'y']],
    ['numeric name', '1(b) {}', ['b']],
    ['method named class', 'class(a, b) {}', ['a', 'b']],
    ['method named function', 'function(a) {}', ['a']],
    ['getter source', 'get value() {}', []],
  ])('%s', (_name, source, expected) => {
    // Method source is not an expression on its own; an object literal around it makes one.
    const object = vm.runInNewContext(`({ ${source} })`, { key: () => ['k'] }) as Record<string, Function>;
    const fn = Object.values(object)[0]!;
    expect(parseParams(fn)).toEqual(expected);
  });
});

describe('parseParams: classes', () => {
  it.each<[string, string, Param[]]>([
    ['constructor', 'class A { constructor(a, b) {} run(c) {} }', ['a', 'b']],
    ['no own constructor', 'class A { run(c) {} }', []],
    ['derived without constructor', 'class B extends Object { run(c) {} }', []],
    ['constructor after fields and methods', 'class A { x = 1; static y = () => {}; run(c) { return {}; } constructor({ id }, ...more) {} }', [{ destructured: ['id'] }, { rest: 'more' }]],
    ['fields without semicolons', 'class A {\n  x = 1\n  constructor(a) {}\n}', ['a']],
    ['static method named constructor', 'class A { static constructor(no) {} constructor(yes) {} }', ['yes']],
    ['constructor as a quoted name', "class A { 'constructor'(q) {} }", ['q']],
    ['constructor inside a method body', 'class A { run() { this.constructor(1); } }', []],
    ['constructor text in a field string', 'class A { s = "constructor(no)"; constructor(yes) {} }', ['yes']],
    ['class expression as heritage', 'class A extends class { constructor(no) {} } { constructor(yes) {} }', ['yes']],
    ['call as heritage', 'class A extends mixin(Base, { constructor(no) {} }) { constructor(yes) {} }', ['yes']],
    ['static block', 'class A { static { init(); } constructor(a = {}) {} }', ['a']],
  ])('%s', (_name, source, expected) => {
    expect(paramsOf(source)).toEqual(expected);
  });

  it('reads the constructor of a class compiled by the test runner', () => {
    class Agent {
      constructor(
        private readonly config: { model: string },
        public name = 'agent',
      ) {}
    }
    expect(parseParams(Agent)).toEqual(['config', 'name']);
  });
});

describe('parseParams: defaults, comments and trailing commas', () => {
  it.each<[string, string, Param[]]>([
    ['simple default', 'function f(a = 1, b) {}', ['a', 'b']],
    ['nested parentheses', 'function f(a = g(1, (2)), b) {}', ['a', 'b']],
    ['brackets and braces', 'function f(a = [1, [2]], b = { c: [3], d: { e: 4 } }, z) {}', ['a', 'b', 'z']],
    ['strings with delimiters', 'function f(a = ")", b = \'(,\', c = "\\")") {}', ['a', 'b', 'c']],
    ['template with expressions', 'function f(a = `x${ {k: ")"}.k }y${`${1}`}`, b) {}', ['a', 'b']],
    ['regular expression', 'function f(a = /[)/]+,/g, b = 4 / 2, c) {}', ['a', 'b', 'c']],
    ['comments between parameters', 'function f(a /* , x */, // b, y\n b) {}', ['a', 'b']],
    ['trailing comma', 'function f(a, b,) {}', ['a', 'b']],
    ['arrow default', '(a = () => ({}), b = (x) => x) => a', ['a', 'b']],
  ])('%s', (_name, source, expected) => {
    expect(paramsOf(source)).toEqual(expected);
  });
});

describe('parseParams: destructuring and rest', () => {
  it.each<[string, string, Param[]]>([
    ['object pattern', 'function f({ userId, message }) {}', [{ destructured: ['userId', 'message'] }]],
    ['renames, defaults, quoted keys and rest', "function f({ a: alias = 2, 'b-c': d, b = 1, ...others }) {}", [{ destructured: ['a', 'b-c', 'b'] }]],
    ['nested pattern', 'function f({ a: { b }, c: [d] }) {}', [{ destructured: ['a', 'c'] }]],
    ['numeric and computed keys', 'function f({ 0: first, [key]: v, "x\\ty": w }) {}', [{ destructured: ['0', 'x\ty'] }]],
    ['pattern with default', 'function f({ a } = {}, b) {}', [{ destructured: ['a'] }, 'b']],
    ['array pattern', 'function f([x, y], z) {}', [null, 'z']],
    ['rest', 'function f(first, ...args) {}', ['first', { rest: 'args' }]],
    ['destructured rest', 'function f(...[a, b]) {}', [null]],
    ['arrow with pattern', '({ userId, message }) => userId', [{ destructured: ['userId', 'message'] }]],
    ['empty pattern', 'function f({}) {}', [{ destructured: [] }]],
  ])('%s', (_name, source, expected) => {
    expect(paramsOf(source)).toEqual(expected);
  });
});

describe('parseParams: compiled TypeScript', () => {
  // What esbuild (and so tsx) writes for a TypeScript class and functions, for node20 and es2017.
  const node20 = `class Agent {
  constructor(config, name = "agent") {
    this.config = config;
    this.name = name;
  }
  config;
  name;
  static {
    __name(this, "Agent");
  }
  calls = 0;
  async reply({ userId, message }, options = {}) {
    this.calls++;
    return \`\${userId}:\${message}\`;
  }
  static create(config) {
    return new Agent(config ?? { model: "x" });
  }
}`;
  const es2017 = `class _Agent {
  constructor(config, name = "agent") {
    __publicField(this, "config", config);
    __publicField(this, "name", name);
    __publicField(this, "calls", 0);
  }
  async reply({ userId, message }, options = {}) {
    this.calls++;
    return \`\${userId}:\${message}\`;
  }
}`;

  it('reads constructors and methods of esbuild output', () => {
    for (const source of [node20, es2017]) {
      const Agent = fromSource(source) as new (...args: unknown[]) => { reply: Function };
      expect(parseParams(Agent)).toEqual(['config', 'name']);
      expect(parseParams(Agent.prototype.reply)).toEqual([{ destructured: ['userId', 'message'] }, 'options']);
    }
    const moved = node20.replace(/  constructor\(config[^]*?\n  }\n/, '').replace('calls = 0;', 'calls = 0;\n  constructor(late) {}');
    expect(parseParams(fromSource(moved))).toEqual(['late']);
  });

  it('reads functions esbuild wraps with __name, and object rest it lowers', () => {
    expect(paramsOf('async ({ userId, ...rest }, ...extra) => userId')).toEqual([{ destructured: ['userId'] }, { rest: 'extra' }]);
    expect(paramsOf('async (_a, ...extra) => {\n  var _b = _a, { userId } = _b, rest = __objRest(_b, ["userId"]);\n  return userId;\n}')).toEqual(['_a', { rest: 'extra' }]);
    expect(paramsOf('function main(input, { retries = 3 } = {}) {\n}')).toEqual(['input', { destructured: ['retries'] }]);
  });

  it('reads functions compiled by the test runner', () => {
    const handle = async ({ userId, message }: { userId: string; message: string }, options: { temperature?: number } = {}) => `${userId}${message}${options.temperature}`;
    expect(parseParams(handle)).toEqual([{ destructured: ['userId', 'message'] }, 'options']);
  });
});

describe('parseParams: what cannot be read', () => {
  it('gives [] for native and bound functions, and never throws', () => {
    expect(parseParams(Math.max)).toEqual([]);
    expect(parseParams(function (a: unknown) {}.bind(null))).toEqual([]);
    const hostile = new Proxy(function (a: unknown) {}, {});
    expect(() => parseParams(hostile)).not.toThrow();
    expect(parseParams(hostile)).toEqual([]);
    expect(parseParams({} as Function)).toEqual([]);
  });

  it('reads through a fluxloop wrapper to the original', () => {
    const original = function greet(name: string, { loud }: { loud?: boolean } = {}) {
      return loud ? name.toUpperCase() : name;
    };
    const wrapped = wrap(original, () => undefined);
    expect(parseParams(wrapped)).toEqual(['name', { destructured: ['loud'] }]);
  });
});
