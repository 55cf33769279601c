import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Recorder } from '../../src/record/recorder';
import { RecordWriter } from '../../src/record/writer';

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-unit-')), 'nested', 'calls.jsonl');
}

function lines(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('Recorder', () => {
  it('writes one line per call in the documented order, with a per-target iteration', () => {
    const file = tempFile();
    const recorder = new Recorder({ file });
    const site = recorder.site('app/agent.js:handle', 'handle', [{ destructured: ['userId', 'message'] }]);
    recorder.record(site, [{ userId: '1', message: 'hi' }]);
    recorder.record(site, [], { message: 'by name' });
    recorder.flush();
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(
      /^\{"_version":"1","function":"handle","target":"app\/agent\.js:handle","iteration":0,"args":\[\{"userId":"1","message":"hi"\}\],"kwargs":\{\},"params":\[\{"destructured":\["userId","message"\]\}\],"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","meta":\{"pid":\d+\}\}\n/,
    );
    expect(lines(file).map((r) => [r.iteration, r.kwargs])).toEqual([
      [0, {}],
      [1, { message: 'by name' }],
    ]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('shrinks an oversized record, and cuts it to a marker as the last resort', () => {
    const file = tempFile();
    const recorder = new Recorder({ file, maxRecordBytes: 3000, encoder: { maxStringLength: 20_000 } });
    const site = recorder.site('t', 'f');
    recorder.record(site, ['y'.repeat(2000)]);
    recorder.record(site, ['x'.repeat(10_000)]);
    recorder.record(site, [Array.from({ length: 50 }, () => 'z'.repeat(900))]);
    recorder.flush();
    const [fits, shrunk, cut] = lines(file);
    expect(fits.args).toEqual(['y'.repeat(2000)]);
    expect((shrunk.args as string[])[0]).toBe(`${'x'.repeat(1000)}…[truncated 9000 chars]`);
    expect(cut.args).toEqual([{ $type: 'Truncated', reason: 'record_size', bytes: expect.any(Number) }]);
    expect(cut.iteration).toBe(2);
  });
});

describe('RecordWriter', () => {
  it('keeps lines in memory until a flush, then appends them whole', () => {
    const file = tempFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"earlier":true}\n');
    const writer = new RecordWriter(file, { flushIntervalMs: 60_000 });
    writer.write('{"a":1}\n');
    writer.write('{"b":2}\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('{"earlier":true}\n');
    writer.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('{"earlier":true}\n{"a":1}\n{"b":2}\n');
  });

  it('flushes by itself on its timer', async () => {
    const file = tempFile();
    const writer = new RecordWriter(file, { flushIntervalMs: 10 });
    writer.write('{"a":1}\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}\n');
    writer.close();
  });
});

describe('RecordWriter: chunks', () => {
  it('keeps every line whole and in order across chunks, with text of any script', () => {
    const file = tempFile();
    const writer = new RecordWriter(file, { flushIntervalMs: 60_000, eagerFlushBytes: Infinity });
    const written: string[] = [];
    // About 4 MB in lines of varied length: several 1 MB chunks, each line going into the next
    // one when it does not fit.
    for (let i = 0; i < 4000; i++) {
      const line = `${JSON.stringify({ i, text: `é日本😀${'x'.repeat((i * 37) % 1500)}` })}\n`;
      written.push(line);
      writer.write(line);
    }
    // A line larger than a chunk gets one of its own.
    const big = `${JSON.stringify({ big: 'ß'.repeat(1_500_000) })}\n`;
    written.push(big);
    writer.write(big);
    writer.write('{"last":true}\n');
    written.push('{"last":true}\n');
    writer.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(written.join(''));
  });

  it('lays out a line in place through reserve and commit', () => {
    const file = tempFile();
    const writer = new RecordWriter(file, { flushIntervalMs: 60_000 });
    writer.write('{"a":1}\n');
    const buffer = writer.reserve(64);
    const end = writer.end + buffer.write('{"b":"ü"}\n', writer.end);
    writer.commit(end);
    writer.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":"ü"}\n');
  });

  it('flushes at once past its memory bound, when no timer can run', () => {
    const file = tempFile();
    const writer = new RecordWriter(file, { flushIntervalMs: 60_000, maxBufferedBytes: 1000 });
    for (let i = 0; i < 30; i++) writer.write(`${JSON.stringify({ i, pad: 'p'.repeat(50) })}\n`);
    // Written synchronously, in the loop: at most the last few lines are still in memory.
    expect(lines(file).length).toBeGreaterThanOrEqual(15);
    writer.close();
    expect(lines(file).map((r) => r.i)).toEqual([...Array(30).keys()]);
  });
});

describe('Recorder: record numbers', () => {
  it('writes the iteration in decimal at every number of digits', () => {
    const file = tempFile();
    const recorder = new Recorder({ file });
    const site = recorder.site('t', 'f');
    const numbers = [0, 7, 9, 10, 99, 100, 1005, 65_536, 2 ** 31 + 5, Number.MAX_SAFE_INTEGER];
    for (const n of numbers) {
      site.iteration = n;
      recorder.record(site, [n]);
    }
    recorder.flush();
    expect(lines(file).map((r) => [r.iteration, (r.args as number[])[0]])).toEqual(numbers.map((n) => [n, n]));
  });
});

describe('Recorder: records laid out straight into the buffer', () => {
  it('keeps both records whole when a getter read for one records another', () => {
    const file = tempFile();
    const recorder = new Recorder({ file });
    const outer = recorder.site('a.js:outer', 'outer');
    const inner = recorder.site('a.js:inner', 'inner');
    const value = {
      before: 'b'.repeat(40),
      get during(): string {
        recorder.record(inner, [{ nested: true }]);
        return 'read';
      },
      after: 'a'.repeat(40),
    };
    recorder.record(outer, [value]);
    recorder.record(outer, [{ plain: 1 }]);
    recorder.flush();
    // The inner call's record waits for the outer one, which was being laid out when it came.
    expect(lines(file).map((r) => [r.function, r.args])).toEqual([
      ['outer', [{ before: 'b'.repeat(40), during: 'read', after: 'a'.repeat(40) }]],
      ['inner', [{ nested: true }]],
      ['outer', [{ plain: 1 }]],
    ]);
  });

  it('lays out arguments of any size straight into the buffer, across chunks, and tags what is not plain JSON', () => {
    const file = tempFile();
    const recorder = new Recorder({ file, maxRecordBytes: 4_000_000 });
    const encode = vi.spyOn((recorder as unknown as { encoder: { encode: () => string } }).encoder, 'encode');
    const site = recorder.site('t', 'f');
    // From a few bytes to past the writer's 1 MiB chunk, in an order that leaves some lines to start near a chunk's end.
    const sizes = [10, 70_000, 900_000, 300, 1_500_000, 65_536, 5_000, 700_000];
    // Within the caps (1,000 elements, 20,000 characters), which would otherwise send them to the walk.
    const row = (r: number, size: number) => ({ r, text: `${'x'.repeat(Math.max(1, Math.floor(size / 500) - 12))} é😀"\n` });
    const values = sizes.map((size, i) => ({ i, rows: Array.from({ length: Math.min(500, Math.ceil(size / 500)) }, (_, r) => row(r, size)) }));
    for (const [i, value] of values.entries()) recorder.record(site, [value], i % 2 === 0 ? undefined : { echo: value.rows.slice(0, 3) });
    expect(encode).not.toHaveBeenCalled();
    recorder.record(site, [{ when: new Date(0), none: undefined }]);
    recorder.record(site, [], { message: 'by name', n: -0 });
    recorder.flush();
    const records = lines(file);
    expect(records.slice(0, sizes.length).map((r) => r.args)).toEqual(values.map((v) => [v]));
    expect(records.slice(0, sizes.length).map((r) => r.iteration)).toEqual(sizes.map((_, i) => i));
    expect(records[1]!.kwargs).toEqual({ echo: values[1]!.rows.slice(0, 3) });
    const [second, third] = records.slice(sizes.length);
    expect(second!.args).toEqual([{ when: { $type: 'Date', value: '1970-01-01T00:00:00.000Z' }, none: { $type: 'undefined' } }]);
    expect(third!.kwargs).toEqual({ message: 'by name', n: { $type: 'number', value: '-0' } });
  });
});

describe('Recorder: values that cannot be read', () => {
  it('records a getter that throws as Unreadable, and the rest of the call as it was', () => {
    const file = tempFile();
    const recorder = new Recorder({ file });
    const site = recorder.site('t', 'f');
    const value = {
      ok: 'fine',
      get broken(): string {
        throw new Error('not now');
      },
    };
    recorder.record(site, [value, 2]);
    recorder.flush();
    expect(lines(file)[0].args).toEqual([{ ok: 'fine', broken: { $type: 'Unreadable', reason: 'not now' } }, 2]);
  });

  it("keeps a method's instance as `this`, after the keyword arguments, by every path a record takes", () => {
    const file = tempFile();
    const recorder = new Recorder({ file, maxRecordBytes: 4000 });
    const site = recorder.site('app/bot.js:Bot.reply', 'reply', ['message']);
    class Bot {
      constructor(
        public name: string,
        public apiKey = 'sk-live-abcdefghijklmnop1234',
      ) {}
    }
    recorder.record(site, ['plain args, laid out directly'], undefined, new Bot('helper'));
    recorder.record(site, [new Date(0)], { by: 'name' }, new Bot('walked'));
    recorder.record(site, ['big instance'], undefined, new Bot('x'.repeat(3000)));
    recorder.record(site, ['no instance']);
    recorder.flush();
    const text = fs.readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toMatch(/"args":\["plain args, laid out directly"\],"kwargs":\{\},"this":\{"\$type":"Object","class":"Bot","value":\{"name":"helper","apiKey":"\*\*\*"\}\},"params"/);
    const records = lines(file);
    expect(records.map((r) => r.this)).toEqual([
      { $type: 'Object', class: 'Bot', value: { name: 'helper', apiKey: '***' } },
      { $type: 'Object', class: 'Bot', value: { name: 'walked', apiKey: '***' } },
      { $type: 'Truncated', reason: 'record_size', bytes: expect.any(Number) },
      undefined,
    ]);
    expect(records[1]!.kwargs).toEqual({ by: 'name' });
  });
});
