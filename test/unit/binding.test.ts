import { describe, expect, it } from 'vitest';
import { parseParamPath } from '../../src/config/param-path.js';
import { createEncoder } from '../../src/record/encode.js';
import { bindArguments, decodeCall, inputArguments, missMessage, override, type Provider } from '../../src/replay/binding.js';
import { Collectors } from '../../src/replay/collectors.js';

const encoder = createEncoder();
const encoded = (v: unknown) => JSON.parse(encoder.encode(v));

describe('decodeCall', () => {
  it('gives each run its own copy, with Dates, Maps and BigInts back', () => {
    const recorded = { args: encoded([{ at: new Date('2026-01-02T03:04:05Z'), tags: new Map([['a', 1n]]) }]), kwargs: {} };
    const before = JSON.stringify(recorded);
    const one = decodeCall(recorded, new Collectors(), new Map());
    const two = decodeCall(recorded, new Collectors(), new Map());
    const first = one.args[0] as { at: Date; tags: Map<string, bigint> };
    expect(first.at).toBeInstanceOf(Date);
    expect(first.tags.get('a')).toBe(1n);
    expect(one.args[0]).not.toBe(two.args[0]);
    override(one, parseParamPath('args.0.at'), 'changed', []);
    expect((two.args[0] as { at: unknown }).at).toBeInstanceOf(Date);
    expect(JSON.stringify(recorded)).toBe(before);
  });

  it('turns callable markers into collectors whose calls are kept and awaitable', async () => {
    const collectors = new Collectors();
    const call = decodeCall({ args: encoded(['hi', function send() {}, { onError() {} }]), kwargs: {} }, collectors, new Map());
    const send = call.args[1] as (...a: unknown[]) => Promise<unknown>;
    expect(send.name).toBe('send');
    expect(send('one')).toBeInstanceOf(Promise);
    await send('two', 2);
    (call.args[2] as { onError: (e: string) => void }).onError('boom');
    expect(collectors.messages).toEqual([
      { to: 'args.1', kind: 'send', args: ['one'] },
      { to: 'args.1', kind: 'send', args: ['two', 2] },
      { to: 'args.2.onError', kind: 'error', args: ['boom'] },
    ]);
    expect(collectors.output()).toMatchObject({ value: ['one', ['two', 2]], frames: ['one', ['two', 2]] });
  });

  it('puts providers in place: built-in collectors and the user\'s functions, called through', () => {
    const collectors = new Collectors();
    const providers = new Map<ReturnType<typeof parseParamPath>, Provider>([
      [parseParamPath('args.1'), 'error'],
      [parseParamPath('args.2'), (x: number) => x * 2],
    ]);
    const call = decodeCall({ args: ['q', 'x', 'y'], kwargs: {} }, collectors, providers);
    (call.args[1] as Function)('bad');
    expect((call.args[2] as Function)(21)).toBe(42);
    expect(collectors.messages.map((m) => [m.to, m.kind, m.args])).toEqual([
      ['args.1', 'error', ['bad']],
      ['args.2', 'send', [21]],
    ]);
  });

  it('makes emitters stand-ins: recorded data, real events, chaining collector methods', async () => {
    const { EventEmitter } = await import('node:events');
    class Response extends EventEmitter {
      statusCode = 200;
      status(code: number) {
        this.statusCode = code;
        return this;
      }
      json(body: unknown) {
        return body;
      }
    }
    const collectors = new Collectors();
    const call = decodeCall({ args: encoded([new Response()]), kwargs: {} }, collectors, new Map());
    const res = call.args[0] as Response;
    expect(res.statusCode).toBe(200);
    expect(res.status(201).json({ ok: true })).toBe(res);
    let heard = false;
    res.on('finish', () => (heard = true));
    res.emit('finish');
    expect(heard).toBe(true);
    expect(collectors.messages).toEqual([
      { to: 'Response.status', kind: 'call', args: [201] },
      { to: 'Response.json', kind: 'call', args: [{ ok: true }] },
    ]);
    expect(collectors.output()).toEqual({ value: { ok: true } });
  });
});

describe('Collectors.output', () => {
  it('joins text that went out in pieces, and keeps each piece as a frame with the time of the first', () => {
    const collectors = new Collectors();
    const res = collectors.emitter({ class: 'ServerResponse', methods: ['write', 'end', 'writeHead'], value: {} }) as Record<string, Function>;
    const before = performance.now();
    res.writeHead!(200);
    res.write!('{"a":');
    res.end!(Buffer.from('1}'));
    const output = collectors.output()!;
    expect(output).toMatchObject({ value: '{"a":1}', frames: ['{"a":', '1}'] });
    expect(output.firstFrameAt).toBeGreaterThanOrEqual(before);
    expect(collectors.isStandIn(res)).toBe(true);
    expect(new Collectors().output()).toBeUndefined();
  });

  it('keeps a single send as the output, with no frames', () => {
    const collectors = new Collectors();
    collectors.send('only');
    expect(collectors.output()).toEqual({ value: 'only' });
  });
});

describe('bindArguments', () => {
  it('keeps positional calls as they are', () => {
    expect(bindArguments({ args: [1, 2], kwargs: {} }, ['a', 'b'])).toEqual([1, 2]);
  });

  it('binds a call recorded by name to the parameters by name', () => {
    expect(bindArguments({ args: [], kwargs: { message: 'hi', userId: 'u' } }, ['userId', 'message'])).toEqual(['u', 'hi']);
    expect(bindArguments({ args: [], kwargs: { message: 'hi' } }, ['userId', 'message'])).toEqual([undefined, 'hi']);
    expect(bindArguments({ args: ['u'], kwargs: { message: 'hi' } }, ['userId', 'message'])).toEqual(['u', 'hi']);
  });

  it('gives a destructured parameter, or a function of unknown parameters, the named values as one object', () => {
    expect(bindArguments({ args: [], kwargs: { message: 'hi', userId: 'u' } }, [{ destructured: ['message', 'userId'] }])).toEqual([{ message: 'hi', userId: 'u' }]);
    expect(bindArguments({ args: [], kwargs: { message: 'hi' } }, [])).toEqual([{ message: 'hi' }]);
    expect(bindArguments({ args: [], kwargs: { message: 'hi' } }, ['text'])).toEqual([{ message: 'hi' }]);
  });
});

describe('inputArguments', () => {
  it('follows FluxLoop: the first parameter named input, message, query, text or content, else the first', () => {
    expect(inputArguments('hi', ['userId', 'message'])).toEqual([undefined, 'hi']);
    expect(inputArguments('hi', ['query'])).toEqual(['hi']);
    expect(inputArguments('hi', [{ destructured: ['userId', 'text'] }])).toEqual([{ text: 'hi' }]);
    expect(inputArguments('hi', ['prompt', 'options'])).toEqual(['hi']);
    expect(inputArguments('hi', [])).toEqual(['hi']);
  });
});

describe('missMessage', () => {
  it('lists the recorded data of a stand-in, not the machinery of its emitter', async () => {
    const { EventEmitter } = await import('node:events');
    class Socket extends EventEmitter {
      readyState = 'open';
    }
    const call = decodeCall({ args: encoded([new Socket(), { text: 'hi' }]), kwargs: {} }, new Collectors(), new Map());
    const message = missMessage(parseParamPath('kwargs.message'), call, ['socket', 'payload']);
    expect(message).toContain('paths that exist: kwargs.socket, kwargs.payload, args.0, args.1, args.0.readyState, args.1.text');
    expect(message).not.toContain('_events');
  });
});
