import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors';
import { recordingMatch } from '../../src/replay/match';
import { parseRecordLine, readRecordings, RecordingFileError, selectRecordings, type ReplayRecord, type SelectOptions } from '../../src/replay/reader';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-reader-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function write(text: string | Buffer): string {
  const file = path.join(dir, `rec-${n++}.jsonl`);
  fs.writeFileSync(file, text);
  return file;
}

interface Skip {
  line: number;
  reason: string;
  message: string;
}

async function read(file: string, options: SelectOptions = {}): Promise<{ records: ReplayRecord[]; skips: Skip[] }> {
  const skips: Skip[] = [];
  const records: ReplayRecord[] = [];
  for await (const r of selectRecordings(file, { displayPath: 'recordings/test.jsonl', onSkip: (s) => skips.push(s), ...options })) records.push(r);
  return { records, skips };
}

async function errorOf(file: string, displayPath?: string): Promise<RecordingFileError> {
  try {
    await readRecordings(file, { displayPath }).next();
  } catch (err) {
    return err as RecordingFileError;
  }
  throw new Error('expected an error');
}

const NODE = '{"_version":"1","function":"handleMessage","target":"app/agent.js:handleMessage","iteration":0,"args":["u1",{"text":"refund please"}],"kwargs":{},"params":["userId","message"],"timestamp":"2026-03-01T10:00:00.000Z","meta":{"pid":123}}';
const PYTHON = '{"_version":"1","iteration":2,"target":"support.agent:Agent.run","kwargs":{"user_id":"u1","message":"hello"},"timestamp":"2026-03-01T10:00:01.000000"}';
const MINIMAL = '{"function":"handle_request","args":[],"kwargs":{"query":"opening times?"},"timestamp":"2026-03-01T10:00:02Z"}';

/** A recorder record for `fn` with one argument `i`. */
const rec = (fn: string, i: number) => JSON.stringify({ _version: '1', function: fn, target: `app/agent.js:${fn}`, iteration: i, args: [i], kwargs: {}, params: ['n'], timestamp: '2026-03-01T10:00:00.000Z', meta: { pid: 1 } });

describe('readRecordings: shapes', () => {
  it('reads our own records', async () => {
    const { records, skips } = await read(write(`${NODE}\n`));
    expect(skips).toEqual([]);
    expect(records).toEqual([
      {
        index: 0,
        line: 1,
        file: 'recordings/test.jsonl',
        function: 'handleMessage',
        target: 'app/agent.js:handleMessage',
        args: ['u1', { text: 'refund please' }],
        kwargs: {},
        params: ['userId', 'message'],
        iteration: 0,
        timestamp: '2026-03-01T10:00:00.000Z',
        shape: 'node',
      },
    ]);
  });

  it('reads FluxLoop Python records, naming the function after the target', async () => {
    const { records } = await read(write(`${PYTHON}\n`));
    expect(records).toEqual([
      {
        index: 0,
        line: 1,
        file: 'recordings/test.jsonl',
        function: 'run',
        target: 'support.agent:Agent.run',
        args: [],
        kwargs: { user_id: 'u1', message: 'hello' },
        iteration: 2,
        timestamp: '2026-03-01T10:00:01.000000',
        shape: 'python',
      },
    ]);
  });

  it('reads minimal records', async () => {
    const { records } = await read(write(`${MINIMAL}\n`));
    expect(records).toEqual([
      { index: 0, line: 1, file: 'recordings/test.jsonl', function: 'handle_request', args: [], kwargs: { query: 'opening times?' }, timestamp: '2026-03-01T10:00:02Z', shape: 'minimal' },
    ]);
  });

  it('derives the function name from the target', () => {
    const name = (target: string) => (parseRecordLine(JSON.stringify({ target, kwargs: {} }), 1, 0) as ReplayRecord).function;
    expect(name('pkg.module:handler')).toBe('handler');
    expect(name('pkg.module:Agent.run')).toBe('run');
    expect(name('app/tools.js:tools.search')).toBe('search');
    expect(name('handler')).toBe('handler');
    expect(name('pkg.module:')).toBe('anonymous');
    // An empty `function` does not count as a name.
    expect(parseRecordLine('{"function":"","target":"a:b","args":[]}', 1, 0)).toMatchObject({ function: 'b', shape: 'minimal' });
  });

  it('keeps params only when they are an array, and ignores fields of the wrong type', () => {
    const r = parseRecordLine('{"function":"f","args":[1],"params":"x","iteration":"0","timestamp":5,"target":7}', 3, 4) as ReplayRecord;
    // A `params` field, even an unusable one, marks a record of our recorder.
    expect(r).toEqual({ index: 4, line: 3, function: 'f', args: [1], kwargs: {}, shape: 'node' });
  });
});

describe('readRecordings: lines', () => {
  it('skips blank lines silently and counts them', async () => {
    const { records, skips } = await read(write(`\n${NODE}\n\n   \n${MINIMAL}\n\n`));
    expect(skips).toEqual([]);
    expect(records.map((r) => [r.index, r.line, r.function])).toEqual([
      [0, 2, 'handleMessage'],
      [1, 5, 'handle_request'],
    ]);
  });

  it('skips malformed lines with their line numbers and reasons, and reads on', async () => {
    const lines = [
      NODE,
      '{"function":"f","args":[1,',
      '[1,2]',
      '"text"',
      '{"args":[],"kwargs":{}}',
      '{"function":"f","args":{"0":1}}',
      '{"function":"f","args":[],"kwargs":[]}',
      '{"function":"f","kwargs":null}',
      '{"function":"f"}',
      PYTHON,
      '{"function":"f","args":[],"timestamp":"2026',
    ];
    const { records, skips } = await read(write(lines.join('\n')));
    expect(records.map((r) => [r.index, r.line, r.shape])).toEqual([
      [0, 1, 'node'],
      [1, 10, 'python'],
    ]);
    expect(skips.map((s) => [s.line, s.reason])).toEqual([
      [2, 'not valid JSON'],
      [3, 'not a JSON object'],
      [4, 'not a JSON object'],
      [5, 'no "function" or "target" name'],
      [6, '"args" is not an array'],
      [7, '"kwargs" is not an object'],
      [8, '"kwargs" is not an object'],
      [9, 'no "args" or "kwargs"'],
      [11, 'not valid JSON (a partial line? the app may have been killed while writing)'],
    ]);
    expect(skips[0]!.message).toBe('recordings/test.jsonl:2: not valid JSON');
  });

  it('parses a last line without a newline', async () => {
    const { records, skips } = await read(write(`${NODE}\n${MINIMAL}`));
    expect(skips).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([1, 2]);
  });

  it('strips a byte order mark and reads CRLF line ends', async () => {
    const { records, skips } = await read(write(`\ufeff${NODE}\r\n\r\n${MINIMAL}\r\n`));
    expect(skips).toEqual([]);
    expect(records.map((r) => [r.line, r.function])).toEqual([
      [1, 'handleMessage'],
      [3, 'handle_request'],
    ]);
  });

  it('yields nothing for an empty file', async () => {
    expect(await read(write(''))).toEqual({ records: [], skips: [] });
  });

  it('reads lines longer than a read chunk, with characters split across chunks', async () => {
    const big = 'é😀'.repeat(200_000);
    const { records, skips } = await read(write(`${MINIMAL}\n${JSON.stringify({ function: 'big', args: [big] })}\n${NODE}\n`));
    expect(skips).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(records[1]!.args[0]).toBe(big);
  });

  it('skips a line too long to hold, without holding it', async () => {
    const file = path.join(dir, 'long.jsonl');
    const fd = fs.openSync(file, 'w');
    const block = Buffer.alloc(1 << 20, 'x');
    for (let i = 0; i < 65; i++) fs.writeSync(fd, block);
    fs.writeSync(fd, `\n${NODE}\n`);
    fs.closeSync(fd);
    const { records, skips } = await read(file);
    expect(skips.map((s) => [s.line, s.reason])).toEqual([[1, 'longer than 64 million characters']]);
    expect(records.map((r) => [r.index, r.line])).toEqual([[0, 2]]);
  });

  it('warns on stderr by default', async () => {
    const file = write(`oops\n${NODE}\n`);
    const writes: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((chunk: string) => writes.push(chunk)) as typeof process.stderr.write;
    try {
      for await (const _ of readRecordings(file, { displayPath: 'recordings/warn.jsonl' }));
    } finally {
      process.stderr.write = original;
    }
    expect(writes).toEqual(['fluxloop: recordings/warn.jsonl:1: not valid JSON\n']);
  });
});

describe('readRecordings: files that cannot be read', () => {
  it('reports a missing file with what to do, from the first next()', async () => {
    const err = await errorOf(path.join(dir, 'missing.jsonl'), 'recordings/missing.jsonl');
    expect(err).toBeInstanceOf(RecordingFileError);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.location).toEqual({ file: 'recordings/missing.jsonl' });
    expect(err.message).toMatch(/^recordings\/missing\.jsonl: recording file not found; record some calls first: fluxloop record enable/);
  });

  it('names the file itself when no display path is given', async () => {
    const file = path.join(dir, 'missing.jsonl');
    expect((await errorOf(file)).message.startsWith(`${file}: `)).toBe(true);
  });

  it('reports a folder', async () => {
    const err = await errorOf(dir, 'recordings');
    expect(err).toBeInstanceOf(RecordingFileError);
    expect(err.message).toMatch(/^recordings: is a folder/);
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)('reports a file it may not read', async () => {
    const file = write(`${NODE}\n`);
    fs.chmodSync(file, 0o000);
    const err = await errorOf(file, 'recordings/locked.jsonl');
    expect(err).toBeInstanceOf(RecordingFileError);
    expect(err.message).toBe('recordings/locked.jsonl: recording file cannot be read (permission denied)');
  });
});

describe('selectRecordings', () => {
  const file = write([rec('a', 0), rec('b', 0), 'junk', rec('a', 1), rec('c', 0), rec('a', 2), ''].join('\n'));
  const picked = async (options: SelectOptions) => (await read(file, options)).records.map((r) => [r.function, r.index, r.line]);

  it('selects all, first, last and N', async () => {
    expect(await picked({})).toEqual([
      ['a', 0, 1],
      ['b', 1, 2],
      ['a', 2, 4],
      ['c', 3, 5],
      ['a', 4, 6],
    ]);
    expect(await picked({ select: 'all' })).toHaveLength(5);
    expect(await picked({ select: 'first' })).toEqual([['a', 0, 1]]);
    expect(await picked({ select: 'last' })).toEqual([['a', 4, 6]]);
    expect(await picked({ select: 2 })).toEqual([
      ['a', 0, 1],
      ['b', 1, 2],
    ]);
    expect(await picked({ select: 50 })).toHaveLength(5);
  });

  it('filters by replay_args.function, a function name or a target, keeping the file numbering', async () => {
    const only = (fn: string) => recordingMatch(dir, fn, undefined)!.test;
    expect(await picked({ match: only('a') })).toEqual([
      ['a', 0, 1],
      ['a', 2, 4],
      ['a', 4, 6],
    ]);
    expect(await picked({ match: only('app/agent.js:a'), select: 'last' })).toEqual([['a', 4, 6]]);
    expect(await picked({ match: only('a'), select: 2 })).toEqual([
      ['a', 0, 1],
      ['a', 2, 4],
    ]);
    expect(await picked({ match: only('c'), select: 'first' })).toEqual([['c', 3, 5]]);
    expect(await picked({ match: only('nothing') })).toEqual([]);
    expect(await picked({ match: only('nothing'), select: 'last' })).toEqual([]);
  });

  it('stops reading once it has what was asked for', async () => {
    const broken = write([rec('a', 0), rec('a', 1), 'junk', 'more junk', ''].join('\n'));
    expect(await read(broken, { select: 'first' })).toMatchObject({ records: [{ line: 1 }], skips: [] });
    expect(await read(broken, { select: 2 })).toMatchObject({ records: [{ line: 1 }, { line: 2 }], skips: [] });
    expect((await read(broken, { select: 3 })).skips.map((s) => s.line)).toEqual([3, 4]);
  });

  it('rejects a count that is not a positive integer', async () => {
    await expect(read(file, { select: 0 })).rejects.toThrow(RangeError);
    await expect(read(file, { select: 1.5 })).rejects.toThrow(RangeError);
  });

  it('throws the file error for a missing file', async () => {
    await expect(read(path.join(dir, 'missing.jsonl'), { select: 'last' })).rejects.toBeInstanceOf(RecordingFileError);
  });
});

describe('selectRecordings over a rotated recording', () => {
  /** A recording rotated twice (`recording.max_file_mb`): oldest first, then the file itself. */
  function rotated(current: string | undefined): string {
    const folder = fs.mkdtempSync(path.join(dir, 'rotated-'));
    const file = path.join(folder, 'calls.jsonl');
    // Written out of order: the names, not the order they were made in, say which is oldest.
    fs.writeFileSync(path.join(folder, 'calls.2026-01-02T00-00-00.000Z.jsonl'), [rec('a', 2), 'junk', rec('b', 0), ''].join('\n'));
    fs.writeFileSync(path.join(folder, 'calls.2026-01-01T00-00-00.000Z.jsonl'), [rec('a', 0), rec('a', 1), ''].join('\n'));
    fs.writeFileSync(path.join(folder, 'other.2025-01-01T00-00-00.000Z.jsonl'), `${rec('z', 0)}\n`);
    if (current !== undefined) fs.writeFileSync(file, current);
    return file;
  }
  const shown = { displayPath: 'recordings/calls.jsonl' };
  const where = (records: ReplayRecord[]) => records.map((r) => [r.function, r.index, r.file, r.line]);

  it('reads the rotated files oldest first, then the file, with one index across them and each file and line', async () => {
    const { records, skips } = await read(rotated(`${rec('a', 3)}\n`), shown);
    expect(where(records)).toEqual([
      ['a', 0, 'recordings/calls.2026-01-01T00-00-00.000Z.jsonl', 1],
      ['a', 1, 'recordings/calls.2026-01-01T00-00-00.000Z.jsonl', 2],
      ['a', 2, 'recordings/calls.2026-01-02T00-00-00.000Z.jsonl', 1],
      ['b', 3, 'recordings/calls.2026-01-02T00-00-00.000Z.jsonl', 3],
      ['a', 4, 'recordings/calls.jsonl', 1],
    ]);
    expect(skips).toEqual([{ line: 2, reason: 'not valid JSON', message: 'recordings/calls.2026-01-02T00-00-00.000Z.jsonl:2: not valid JSON' }]);
  });

  it('selects across the files, and reads them when the file itself is not there', async () => {
    const file = rotated(`${rec('a', 3)}\n`);
    expect(where((await read(file, { ...shown, select: 'last' })).records)).toEqual([['a', 4, 'recordings/calls.jsonl', 1]]);
    expect(where((await read(file, { ...shown, select: 3 })).records).map((r) => r[1])).toEqual([0, 1, 2]);
    const only = recordingMatch(dir, 'b', undefined)!.test;
    expect(where((await read(file, { ...shown, match: only })).records)).toEqual([['b', 3, 'recordings/calls.2026-01-02T00-00-00.000Z.jsonl', 3]]);
    expect((await read(rotated(undefined))).records.map((r) => r.index)).toEqual([0, 1, 2, 3]);
  });
});

describe('selectRecordings: downstream calls', () => {
  /** A record with an id, as the recorder writes it when it records downstream calls. */
  const parent = (fn: string, id: string) => JSON.stringify({ _version: '1', function: fn, target: `app/agent.js:${fn}`, iteration: 0, id, args: [id], kwargs: {}, params: ['n'], timestamp: 't', meta: { pid: 1 } });
  const child = (of: string, seq: number, name = `GET example.com/${seq}`) =>
    JSON.stringify({ _version: '1', parent: of, seq, kind: 'http', name, started_ms: seq, duration_ms: 1, request: { method: 'GET', url: `http://example.com/${seq}`, headers: {}, body: null }, timestamp: 't', meta: { pid: 1 } });
  const calls = (r: ReplayRecord) => r.downstream?.map((c) => [c.parent, c.seq]);

  it('attaches the calls to their record, ordered by seq, interleaved with other records, not counted as records nor warned about', async () => {
    const file = write([parent('a', 'p-1'), parent('b', 'p-2'), child('p-1', 1), child('p-2', 0), child('p-1', 0), rec('c', 0), child('p-1', 2), ''].join('\n'));
    const { records, skips } = await read(file);
    expect(skips).toEqual([]);
    expect(records.map((r) => [r.function, r.index, r.id])).toEqual([
      ['a', 0, 'p-1'],
      ['b', 1, 'p-2'],
      ['c', 2, undefined],
    ]);
    expect(calls(records[0]!)).toEqual([
      ['p-1', 0],
      ['p-1', 1],
      ['p-1', 2],
    ]);
    expect(records[0]!.downstream![0]).not.toHaveProperty('meta');
    expect(calls(records[1]!)).toEqual([['p-2', 0]]);
    // A record without an id was made before downstream calls were recorded.
    expect(records[2]!.downstream).toBeUndefined();
    const plain: ReplayRecord[] = [];
    for await (const r of readRecordings(file)) plain.push(r);
    expect(plain.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(parseRecordLine(child('p-1', 0), 1, 0)).toBe('a downstream call, not a record');
  });

  it('keeps only the calls of the selected records, and reads on past a first record for its calls', async () => {
    const file = write([parent('a', 'p-1'), parent('b', 'p-2'), child('p-2', 0), child('p-1', 0), parent('a', 'p-3'), child('p-3', 0), ''].join('\n'));
    const only = recordingMatch(dir, 'a', undefined)!.test;
    const all = (await read(file, { match: only })).records;
    expect(all.map((r) => [r.id, calls(r)])).toEqual([
      ['p-1', [['p-1', 0]]],
      ['p-3', [['p-3', 0]]],
    ]);
    expect((await read(file, { select: 'first' })).records.map((r) => [r.id, calls(r)])).toEqual([['p-1', [['p-1', 0]]]]);
    expect((await read(file, { select: 'last' })).records.map((r) => [r.id, calls(r)])).toEqual([['p-3', [['p-3', 0]]]]);
    expect((await read(file, { select: 'last', match: recordingMatch(dir, 'b', undefined)!.test })).records.map((r) => calls(r))).toEqual([[['p-2', 0]]]);
  });

  it('finds the calls of a record in the file the recording was rotated to after it', async () => {
    const folder = fs.mkdtempSync(path.join(dir, 'rotated-calls-'));
    const file = path.join(folder, 'calls.jsonl');
    fs.writeFileSync(path.join(folder, 'calls.2026-01-01T00-00-00.000Z.jsonl'), [parent('a', 'p-1'), child('p-1', 0), ''].join('\n'));
    fs.writeFileSync(file, [child('p-1', 1), parent('a', 'p-2'), ''].join('\n'));
    const { records } = await read(file);
    expect(records.map((r) => [r.index, calls(r)])).toEqual([
      [0, [['p-1', 0], ['p-1', 1]]],
      [1, []],
    ]);
  });
});
