import { describe, expect, it } from 'vitest';
import { createEncoder } from '../../src/record/encode';
import { decode } from '../../src/record/decode';
import { instanceFor } from '../../src/replay/instance';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRevived, reviver } from '../../src/replay/revive';

const encoder = createEncoder();
const roundTrip = (value: unknown, options: Parameters<typeof decode>[1] = {}) => decode(JSON.parse(encoder.encode(value)), options);

const BRAND = Symbol.for('test.brand');
const PRIVATE = Symbol('not registered');

class Message {
  [BRAND] = true;
  [PRIVATE] = 'left out';
  written: string[] = [];
  constructor(public content: string) {}
  get text(): string {
    return this.content.toUpperCase();
  }
  // A setter of the class must not run when a recorded field of that name is put back.
  set note(value: string) {
    this.written.push(value);
  }
}

class RateLimited extends Error {
  retryAfter = 30;
}

describe('recorded class instances', () => {
  it("keep their own fields under registered symbols, a library's brand, and no other symbol", () => {
    const encoded = JSON.parse(encoder.encode(new Message('hi')));
    expect(encoded).toEqual({ $type: 'Object', class: 'Message', value: { written: [], content: 'hi' }, symbols: { 'test.brand': true } });
  });

  it('come back as instances of their class when it is found: its prototype, the recorded fields, no constructor run', () => {
    const message = Object.assign(new Message('hi'), {});
    Object.defineProperty(message, 'note', { value: 'own', enumerable: true, writable: true, configurable: true });
    const back = roundTrip([message, message], { revive: (name) => (name === 'Message' ? Message.prototype : undefined) }) as Message[];
    expect(back[0]).toBeInstanceOf(Message);
    expect(back[0]!.text).toBe('HI');
    expect(back[0]![BRAND]).toBe(true);
    expect(Object.getOwnPropertyDescriptor(back[0], 'note')).toMatchObject({ value: 'own', enumerable: true });
    expect(back[0]!.written).toEqual([]);
    // One recorded object, one revived object.
    expect(back[1]).toBe(back[0]);
  });

  it('come back as plain data, with their brand, when their class is not found, and the caller is told', () => {
    const missed: string[] = [];
    const back = roundTrip(new Message('hi'), { revive: () => undefined, unrevived: (name) => missed.push(name) }) as Record<string | symbol, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(back).toMatchObject({ content: 'hi' });
    expect(back[BRAND]).toBe(true);
    expect(missed).toEqual(['Message']);
  });

  it("revive an error of the app's own class", () => {
    const error = roundTrip(new RateLimited('slow down'), { revive: (name) => (name === 'RateLimited' ? RateLimited.prototype : undefined) }) as RateLimited;
    expect(error).toBeInstanceOf(RateLimited);
    expect(error).toMatchObject({ message: 'slow down', retryAfter: 30 });
  });
});

describe('reviver', () => {
  it("finds classes in the configured ones first, then the target module's exports, by export and by class name", () => {
    class Local {}
    const Configured = class Message {};
    const revive = reviver(new Map([['Message', Configured.prototype]]), { Message, Renamed: Local, helper: () => 1, value: 3 });
    expect(revive('Message')).toBe(Configured.prototype);
    expect(revive('Renamed')).toBe(Local.prototype);
    expect(revive('Local')).toBe(Local.prototype);
    expect(revive('helper')).toBeUndefined();
    expect(reviver(new Map(), class Bot {})('Bot')).toBeDefined();
  });
});

describe('instanceFor', () => {
  class Bot {
    constructor(
      public name: string,
      public options: { style: string },
    ) {}
    reply(): string {
      return `${this.name} (${this.options.style})`;
    }
  }

  it("makes the app's instance from the recorded `this`, its constructor not run", () => {
    const recorded = JSON.parse(encoder.encode(new Bot('helper', { style: 'short' })));
    const { self, warning } = instanceFor(Bot, recorded, {});
    expect(self).toBeInstanceOf(Bot);
    expect((self as Bot).reply()).toBe('helper (short)');
    expect(warning).toBeUndefined();
    // Recorded as a subclass this run cannot find: its fields, on the target's class.
    const sub = instanceFor(Bot, { $type: 'Object', class: 'LoudBot', value: { name: 'loud', options: { style: 'caps' } } }, {});
    expect((sub.self as Bot).reply()).toBe('loud (caps)');
  });

  it('falls back to new Class() with a warning, and says why when that throws too', () => {
    class Tolerant {
      made = true;
    }
    expect(instanceFor(Tolerant, undefined, {})).toMatchObject({ self: { made: true }, warning: expect.stringContaining('called on new Tolerant() made with no arguments') });
    expect(instanceFor(Tolerant, { $type: 'Truncated', reason: 'record_size' }, {}).warning).toContain('the recorded instance was too large to keep');
    class Strict {
      constructor(options?: object) {
        if (options === undefined) throw new Error('options are required');
      }
    }
    expect(() => instanceFor(Strict, undefined, {}, 'the run has no recording')).toThrow(
      'cannot make an instance of Strict: the run has no recording, and new Strict() threw: options are required; set runner.factory',
    );
  });
});

describe('loadRevived', () => {
  it('loads the classes of replay_args.revive from the project, and says which entry is wrong', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-revive-'));
    fs.mkdirSync(path.join(root, 'lib'));
    fs.writeFileSync(path.join(root, 'lib', 'models.cjs'), 'class Memory {}\nmodule.exports = { Memory, limit: 3 };\n');
    const classes = await loadRevived(root, { Memory: 'lib/models.cjs:Memory' }, false);
    expect(classes.get('Memory')).toBe(require(path.join(root, 'lib', 'models.cjs')).Memory.prototype);
    await expect(loadRevived(root, { Limit: 'lib/models.cjs:limit' }, false)).rejects.toThrow('configs/simulation.yaml (replay_args.revive.Limit): lib/models.cjs:limit is a number, not a function');
    await expect(loadRevived(root, { Gone: 'no-such-package/x:Gone' }, true)).rejects.toThrow(/\(replay_args.revive.Gone\): no-such-package\/x:Gone: cannot load no-such-package\/x from the project: /);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
