import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseParamPath } from '../../src/config/param-path.js';
import type { Param } from '../../src/instrument/params.js';
import { existingPaths, existingText, locate, setAt, type CallArgs } from '../../src/replay/paths.js';

describe('parseParamPath', () => {
  it.each([
    ['args.0', 'args', [0]],
    ['args.-1.text', 'args', [-1, 'text']],
    ['kwargs.message', 'kwargs', ['message']],
    ['data.content', 'kwargs', ['data', 'content']],
    ['message.parts.0', 'kwargs', ['message', 'parts', 0]],
  ])('%s', (text, root, segments) => {
    expect(parseParamPath(text)).toEqual({ text, root, segments });
  });

  it.each([
    ['', 'it is empty'],
    ['args', 'argument index'],
    ['args.x', 'argument index'],
    ['kwargs', 'parameter name'],
    ['kwargs.0', 'parameter name'],
    ['a..b', 'empty'],
    ['0.a', 'args.N'],
    ['a b', 'blanks'],
  ])('rejects %j', (text, why) => {
    const at = { file: 'configs/simulation.yaml', line: 4, column: 24, field: 'replay_args.override_param_path' };
    expect(() => parseParamPath(text, at)).toThrow(ConfigError);
    try {
      parseParamPath(text, at);
    } catch (error) {
      expect((error as ConfigError).message).toMatch(/^configs\/simulation\.yaml:4:24 \(replay_args\.override_param_path\): invalid override_param_path/);
      expect((error as ConfigError).message).toContain(why);
    }
  });
});

const where = (path: string, call: CallArgs, params: Param[] = []) => {
  const at = locate(parseParamPath(path), call, params);
  return at && [at.root, ...at.segments].join('.');
};

describe('locate', () => {
  const positional: CallArgs = { args: ['u-1', 'hello', { tags: ['a', 'b'] }], kwargs: {} };

  it('finds positions, nested keys and negative indexes', () => {
    expect(where('args.1', positional)).toBe('args.1');
    expect(where('args.-1.tags.-1', positional)).toBe('args.2.tags.1');
    expect(where('args.3', positional)).toBeUndefined();
    expect(where('args.2.missing', positional)).toBeUndefined();
    expect(where('args.0.length', positional)).toBeUndefined();
  });

  it('resolves kwargs.NAME through recorded kwargs, then the named parameter, then a destructured one', () => {
    expect(where('kwargs.message', positional, ['userId', 'message'])).toBe('args.1');
    expect(where('message', positional, ['userId', 'message'])).toBe('args.1');
    const destructured: CallArgs = { args: [{ userId: 'u', message: 'hi', meta: { lang: 'en' } }], kwargs: {} };
    const params: Param[] = [{ destructured: ['userId', 'message', 'meta'] }];
    expect(where('kwargs.message', destructured, params)).toBe('args.0.message');
    expect(where('meta.lang', destructured, params)).toBe('args.0.meta.lang');
    const named: CallArgs = { args: ['x'], kwargs: { message: 'recorded' } };
    expect(where('kwargs.message', named, ['message'])).toBe('kwargs.message');
    expect(where('kwargs.other', named, ['message'])).toBeUndefined();
  });

  it('accepts a declared parameter that the call left out', () => {
    expect(where('kwargs.context', { args: ['q'], kwargs: {} }, ['question', 'context'])).toBe('args.1');
    expect(where('kwargs.lang', { args: [{ message: 'm' }], kwargs: {} }, [{ destructured: ['message', 'lang'] }])).toBe('args.0.lang');
  });

  it('looks into Maps', () => {
    const call: CallArgs = { args: [new Map<unknown, unknown>([['message', 'hi'], [1, 'one']])], kwargs: {} };
    expect(where('args.0.message', call)).toBe('args.0.message');
    expect(where('args.0.1', call)).toBe('args.0.1');
    const at = locate(parseParamPath('args.0.message'), call, [])!;
    setAt(call, at, 'new');
    expect((call.args[0] as Map<string, string>).get('message')).toBe('new');
  });
});

describe('setAt', () => {
  it('sets the value in place, padding a missing argument', () => {
    const call: CallArgs = { args: ['q'], kwargs: {} };
    const at = locate(parseParamPath('kwargs.context'), call, ['question', 'context'])!;
    setAt(call, at, { locale: 'en' });
    expect(call.args).toEqual(['q', { locale: 'en' }]);
  });
});

describe('existingPaths', () => {
  it('lists the named parameters and the paths of the call, a few levels down', () => {
    const call: CallArgs = { args: ['u-1', { text: 'hi', deep: { a: { b: 1 } } }], kwargs: {} };
    const paths = existingPaths(call, ['userId', 'payload']);
    expect(paths.slice(0, 2)).toEqual(['kwargs.userId', 'kwargs.payload']);
    expect(paths).toEqual(expect.arrayContaining(['args.0', 'args.1', 'args.1.text', 'args.1.deep', 'args.1.deep.a']));
    expect(paths).not.toContain('args.1.deep.a.b');
    expect(existingPaths({ args: [], kwargs: { message: 'm' } }, [])).toEqual(['kwargs.message']);
  });

  it('lists every kwargs name that locate finds: each parameter, and each key of a destructured one', () => {
    const call: CallArgs = { args: [{ userId: 'u1', message: 'hi' }, { send: 'x' }], kwargs: {} };
    const params: Param[] = [{ destructured: ['userId', 'message', 'channel'] }, { destructured: ['send'] }];
    const paths = existingPaths(call, params);
    expect(paths.slice(0, 4)).toEqual(['kwargs.userId', 'kwargs.message', 'kwargs.channel', 'kwargs.send']);
    // Each listed path does resolve.
    for (const path of paths) expect(locate(parseParamPath(path), call, params), path).toBeDefined();
    // A parameter the call did not get still takes a value: kwargs.message sets args[1].
    expect(existingPaths({ args: ['u1'], kwargs: {} }, ['userId', 'message'])).toEqual(['kwargs.userId', 'kwargs.message', 'args.0']);
    expect(locate(parseParamPath('kwargs.message'), { args: ['u1'], kwargs: {} }, ['userId', 'message'])).toEqual({ root: 'args', segments: [1] });
  });

  it('never cuts the names, and ends with … when the walk stopped at the limit', () => {
    const wide = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const params = Array.from({ length: 14 }, (_, i) => `p${i}`);
    const paths = existingPaths({ args: [wide], kwargs: {} }, params);
    expect(paths.slice(0, 14)).toEqual(params.map((p) => `kwargs.${p}`));
    expect(existingText({ args: [wide], kwargs: {} }, params)).toMatch(/, …$/);
    expect(existingText({ args: ['a'], kwargs: {} }, ['text'])).toBe('kwargs.text, args.0');
  });
});

describe('$json steps', () => {
  const call = () => ({ args: ['{"text":"hi","n":1}', Buffer.from('{"text":"hi"}'), 'plain text'], kwargs: {} });

  it('step into JSON text in a string or a Buffer, and write back text of the same kind', () => {
    const c = call();
    const at = locate(parseParamPath('args.0.$json.text'), c, [])!;
    expect(at).toEqual({ root: 'args', segments: [0, '$json', 'text'] });
    setAt(c, at, 'changed');
    expect(c.args[0]).toBe('{"text":"changed","n":1}');
    setAt(c, locate(parseParamPath('args.1.$json.text'), c, [])!, 'bytes');
    expect(Buffer.isBuffer(c.args[1])).toBe(true);
    expect((c.args[1] as Buffer).toString()).toBe('{"text":"bytes"}');
  });

  it('point nowhere in text that is not JSON, or past what the JSON has', () => {
    expect(locate(parseParamPath('args.2.$json.text'), call(), [])).toBeUndefined();
    expect(locate(parseParamPath('args.0.$json.missing'), call(), [])).toBeUndefined();
  });

  it('are listed among the paths that exist', () => {
    expect(existingPaths(call(), [])).toEqual(expect.arrayContaining(['args.0.$json', 'args.0.$json.text', 'args.1.$json.text']));
    expect(existingPaths(call(), []).some((p) => p.startsWith('args.1.0'))).toBe(false);
  });
});
