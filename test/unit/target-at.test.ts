import module from 'node:module';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { targetAt } from '../../src/instrument/transform/target-at.js';

const ESM = `export async function handle(msg) {
  return helper(msg);
}

function helper(x) { return [1].map((y) => y + x); }

export class Agent {
  constructor(a) { this.a = a; }
  async reply(m) {
    return m;
  }
  get mood() { return 1; }
  set mood(x) {}
  static reply() {}
}

export const tools = {
  search(q) { return q; },
  lookup: async (id) => id,
};

export default function () {
  setTimeout(function later() {}, 1);
}
`;

const CJS = `const app = require('express')();
app.post('/chat', async (req, res) => {
  res.send('x');
});
exports.tool = function (a) { return a; };
module.exports.other = (b) => b;
function search() {}
const shelf = { search() {} };
`;

const at = (source: string, file: string, line: number, column?: number) => targetAt(source, file, { line, column }).target;

describe('targetAt', () => {
  it('names a function as the transform finds it: export, class member, object member, default', () => {
    expect(at(ESM, 'app/agent.js', 1)).toBe('app/agent.js:handle');
    // Inside the body, with or without a column.
    expect(at(ESM, 'app/agent.js', 2)).toBe('app/agent.js:handle');
    expect(at(ESM, 'app/agent.js', 2, 10)).toBe('app/agent.js:handle');
    // On `export`, before the function: the function that begins on the line.
    expect(at(ESM, 'app/agent.js', 1, 1)).toBe('app/agent.js:handle');
    expect(at(ESM, 'app/agent.js', 5)).toBe('app/agent.js:helper');
    expect(at(ESM, 'app/agent.js', 8)).toBe('app/agent.js:Agent');
    expect(at(ESM, 'app/agent.js', 10, 5)).toBe('app/agent.js:9');
    expect(at(ESM, 'app/agent.js', 18)).toBe('app/agent.js:tools.search');
    expect(at(ESM, 'app/agent.js', 19, 20)).toBe('app/agent.js:tools.lookup');
    expect(at(ESM, 'app/agent.js', 22)).toBe('app/agent.js:default');
  });

  it('falls back to the line a function begins on when no name finds exactly it, with the column when it shares its line', () => {
    // Agent.reply names the instance and the static method alike; a getter and its setter share a name.
    expect(targetAt(ESM, 'app/agent.js', { line: 9 })).toEqual({ target: 'app/agent.js:9', by: 'line' });
    expect(at(ESM, 'app/agent.js', 12)).toBe('app/agent.js:12');
    // The arrow inside helper: a second function on line 5.
    expect(at(ESM, 'app/agent.js', 5, 40)).toBe('app/agent.js:5:37');
    // Nested in the default export, a named function is still reached only by its line.
    expect(at(ESM, 'app/agent.js', 23, 20)).toBe('app/agent.js:23');
  });

  it('reads CommonJS: exports by their names, an inline callback by its line, a name taken by another function refused', () => {
    expect(at(CJS, 'app/server.cjs', 2, 30)).toBe('app/server.cjs:2');
    expect(at(CJS, 'app/server.cjs', 3)).toBe('app/server.cjs:2');
    expect(at(CJS, 'app/server.cjs', 5)).toBe('app/server.cjs:tool');
    expect(at(CJS, 'app/server.cjs', 6)).toBe('app/server.cjs:other');
    // `search` is the top-level function, not the object's method: shelf.search is.
    expect(at(CJS, 'app/server.cjs', 8)).toBe('app/server.cjs:shelf.search');
    expect(at(CJS, 'app/server.js', 7)).toBe('app/server.js:search');
  });

  it('refuses a position with no function, or past the end, naming file and line', () => {
    const error = (line: number, column?: number, source = ESM): ConfigError => {
      try {
        targetAt(source, 'app/agent.js', { line, column });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    expect(error(4).message).toBe('app/agent.js:4: no function begins on line 4 or contains it');
    expect(error(17).message).toBe('app/agent.js:17: no function begins on line 17 or contains it');
    expect(error(16, 1).message).toBe('app/agent.js:16:1: no function contains line 16, column 1, or begins on that line');
    expect(error(99).message).toBe('app/agent.js:99: line 99 is past the end of the file (25 lines)');
    expect(error(2, 40).message).toBe('app/agent.js:2:40: column 40 is past the end of line 2 (21 characters)');
    expect(error(1, undefined, 'export function (').message).toMatch(/^app\/agent\.js:1:\d+: cannot be parsed: /);
  });

  const strips = typeof (module as { stripTypeScriptTypes?: unknown }).stripTypeScriptTypes === 'function';
  const TS = 'interface Msg { text: string }\nexport class Bot {\n  async reply(m: Msg): Promise<string> {\n    return m.text;\n  }\n}\n';

  it.runIf(strips)('reads TypeScript with its types stripped, at the same positions', () => {
    expect(targetAt(TS, 'app/bot.ts', { line: 4, column: 5 })).toEqual({ target: 'app/bot.ts:Bot.reply', by: 'name' });
    // What stripping cannot erase gives the line given, with a note.
    const enumerated = targetAt('enum E { A }\nexport function f() {}\n', 'app/e.ts', { line: 2 });
    expect(enumerated).toMatchObject({ target: 'app/e.ts:2', by: 'line', note: expect.stringContaining('the types of app/e.ts cannot be stripped') });
  });

  it.skipIf(strips)('takes the line given for TypeScript where Node cannot strip types, and says so', () => {
    expect(targetAt(TS, 'app/bot.ts', { line: 4, column: 5 })).toEqual({
      target: 'app/bot.ts:4',
      by: 'line',
      note: expect.stringMatching(/^Node v\d+\.\d+\.\d+ cannot read TypeScript \(module\.stripTypeScriptTypes comes with Node 22\.13\): added the line you gave, app\/bot\.ts:4, unchecked/),
    });
  });
});
