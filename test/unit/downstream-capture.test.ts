import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Children, type ChildLimits } from '../../src/record/downstream/child';
import { tapFetch } from '../../src/record/downstream/fetch';
import { tapHttp } from '../../src/record/downstream/http';
import { toolObserver } from '../../src/record/downstream/tool';
import { NO_ID, Recorder } from '../../src/record/recorder';
import { currentRecordedCall, RecordedCall, runInRecordedCall } from '../../src/trace/recording';

const recordedCall = (id: string) => new RecordedCall(id.slice(0, id.lastIndexOf('-')), Number(id.slice(id.lastIndexOf('-') + 1)), Date.now());

const LIMITS: ChildLimits = { maxBodyBytes: 1_000_000, maxArrayLength: 1000 };
const ALL = { http: true, llm: true, targets: [] };

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-unit-')), 'calls.jsonl');
}

function lines(file: string): Array<Record<string, any>> {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('record ids', () => {
  it('puts "id" right after "iteration", in each layout: bytes laid out directly, encoded text, a record too large for the direct way', () => {
    const file = tempFile();
    const recorder = new Recorder({ file, ids: true });
    const a = recorder.site('app/a.js:a', 'a');
    const b = recorder.site('app/b.js:b', 'b');
    const ids = [
      recorder.record(a, ['plain', 1]),
      recorder.record(b, [new Map([['k', 1]])]),
      recorder.record(a, ['x'.repeat(70_000)]),
      recorder.record(a, [], { by: 'name' }),
    ];
    recorder.flush();
    expect(ids).toEqual([0, 1, 2, 3]);
    const text = fs.readFileSync(file, 'utf8').trim().split('\n');
    const prefix = /"id":"([0-9a-f]{8})-0"/.exec(text[0]!)![1];
    expect(text.map((l) => /"iteration":\d+,"id":"[0-9a-f]{8}-\d+","(args|kwargs)"/.test(l))).toEqual([true, true, true, true]);
    expect(lines(file).map((r) => [r.target, r.iteration, r.id])).toEqual([
      ['app/a.js:a', 0, `${prefix}-0`],
      ['app/b.js:b', 0, `${prefix}-1`],
      ['app/a.js:a', 1, `${prefix}-2`],
      ['app/a.js:a', 2, `${prefix}-3`],
    ]);
    expect(recorder.idPrefix).toBe(prefix);
  });

  it('writes no id unless asked', () => {
    const file = tempFile();
    const recorder = new Recorder({ file });
    expect(recorder.record(recorder.site('t', 'f'), [1])).toBe(NO_ID);
    recorder.flush();
    expect(Object.keys(lines(file)[0]!)).not.toContain('id');
  });
});

describe('the recorded-call context', () => {
  it('holds the innermost recorded call, across await, and hands back what the call returns as it is', async () => {
    const outer = recordedCall('p-0');
    const inner = recordedCall('p-1');
    const promise = Promise.resolve(7);
    expect(currentRecordedCall()).toBeUndefined();
    expect(runInRecordedCall(outer, () => promise)).toBe(promise);
    const seen = await runInRecordedCall(outer, async () => {
      await null;
      const nested = await runInRecordedCall(inner, async () => (await null, currentRecordedCall()));
      return [nested, currentRecordedCall()];
    });
    expect(seen).toEqual([inner, outer]);
  });
});

const exchange = (url: string, body: unknown) => ({
  request: { method: 'POST', url, headers: { authorization: 'Bearer sk-abcdefghijklmnopqrstuvwxyz', 'content-type': 'application/json' }, body },
  response: { status: 200, status_text: 'OK', headers: { 'content-type': 'application/json' }, body: { choices: [{ message: { content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 } } },
});

describe('child lines', () => {

  it('writes an LLM call, an HTTP call and a tool call as children of their parent, redacted', () => {
    const file = tempFile();
    const recorder = new Recorder({ file, ids: true });
    const children = new Children(recorder, ALL, LIMITS);
    const call = recordedCall('abc-0');
    children.exchange(children.begin(call), exchange('https://api.openai.com/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'q' }] }));
    children.exchange(children.begin(call), exchange('https://tools.example.com/v1/search?q=1', { api_key: 'k-1234567890', query: 'q' }));
    children.tool(children.begin(call), 'app/tools.js:search', children.encoded(['q', { password: 'pw' }]), { output: Promise.resolve(1), async: true });
    children.tool(children.begin(call), 'app/tools.js:search', children.encoded([]), { error: Object.assign(new Error('no'), { code: 'E_NO' }), async: false });
    recorder.flush();
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain('sk-abcdefghijklmnopqrstuvwxyz');
    const [llm, web, tool, failed] = lines(file);
    expect(Object.keys(llm!).slice(0, 8)).toEqual(['_version', 'parent', 'seq', 'kind', 'name', 'started_ms', 'duration_ms', 'request']);
    expect(Object.keys(llm!).slice(-2)).toEqual(['timestamp', 'meta']);
    expect(llm).toMatchObject({ parent: 'abc-0', seq: 0, kind: 'llm', name: 'openai chat.completions gpt-4o', request: { headers: { authorization: '***' } } });
    expect(llm!.llm).toMatchObject({ model: 'gpt-4o', response: { text: 'hi' }, usage: { input_tokens: 2, output_tokens: 1, total_tokens: 3 } });
    expect(web).toMatchObject({ seq: 1, kind: 'http', name: 'POST tools.example.com/v1/search', request: { body: { api_key: '***', query: 'q' } } });
    expect(web!.llm).toBeUndefined();
    expect(tool).toMatchObject({ seq: 2, kind: 'tool', name: 'app/tools.js:search', target: 'app/tools.js:search', args: ['q', { password: '***' }], async: true });
    expect(failed).toMatchObject({ seq: 3, kind: 'tool', error: { name: 'Error', message: 'no', code: 'E_NO' }, async: false });
    expect(failed!.output).toBeUndefined();
  });

  it('keeps only LLM calls when http is off, and nothing of HTTP when both are', () => {
    const file = tempFile();
    const recorder = new Recorder({ file, ids: true });
    const llmOnly = new Children(recorder, { http: false, llm: true, targets: [] }, LIMITS);
    const call = recordedCall('abc-1');
    expect(llmOnly.wants('https://x.test/search', { q: 1 })).toBe(false);
    // Known from the URL alone, before a body is written: a request to another path takes no place among the children.
    expect([llmOnly.mayWant('https://x.test/search'), llmOnly.mayWant('https://x.test/v1/messages?beta=true')]).toEqual([false, true]);
    expect(llmOnly.wants('https://x.test/v1/chat/completions', { model: 'm', messages: [] })).toBe(true);
    llmOnly.exchange(llmOnly.begin(call), exchange('https://x.test/search', { q: 1 }));
    llmOnly.exchange(llmOnly.begin(call), exchange('https://x.test/v1/chat/completions', { model: 'm', messages: [] }));
    const httpOnly = new Children(recorder, { http: true, llm: false, targets: [] }, LIMITS);
    httpOnly.exchange(httpOnly.begin(call), exchange('https://x.test/v1/chat/completions', { model: 'm', messages: [] }));
    recorder.flush();
    expect(lines(file).map((l) => [l.kind, l.name])).toEqual([
      ['llm', 'openai chat.completions m'],
      ['http', 'POST x.test/v1/chat/completions'],
    ]);
  });

  it('cuts the bodies of a call larger than a record may be', () => {
    const file = tempFile();
    const recorder = new Recorder({ file, ids: true, maxRecordBytes: 5000 });
    const children = new Children(recorder, ALL, LIMITS);
    children.exchange(children.begin(recordedCall('abc-2')), exchange('https://x.test/upload', { data: 'z'.repeat(10_000) }));
    recorder.flush();
    const [line] = lines(file);
    expect(line!.request.body).toMatchObject({ $type: 'Truncated' });
    expect(line!.response).toMatchObject({ status: 200, truncated: true });
  });
});

describe('a tool observer', () => {
  const file = tempFile();
  const recorder = new Recorder({ file, ids: true });
  const children = new Children(recorder, ALL, LIMITS);
  const observe = toolObserver(children, 'app/t.js:tool');

  it('does nothing outside a recorded call', () => {
    expect(observe([1])).toBeUndefined();
  });

  it('hands back the very result, promise or error, sync staying sync, and records each call', async () => {
    const call = recordedCall('t-0');
    const promise = Promise.resolve('later');
    const boom = new Error('boom');
    const results = runInRecordedCall(call, () => {
      const sync = observe(['a'])!(() => 'now');
      const async = observe(['b'])!(() => promise);
      let thrown: unknown;
      try {
        observe(['c'])!(() => {
          throw boom;
        });
      } catch (error) {
        thrown = error;
      }
      return { sync, async, thrown };
    });
    expect(results.sync).toBe('now');
    expect(results.async).toBe(promise);
    expect(results.thrown).toBe(boom);
    await promise;
    await new Promise((resolve) => setImmediate(resolve));
    recorder.flush();
    const byArg = Object.fromEntries(lines(file).map((l) => [l.args[0], l]));
    expect(byArg.a).toMatchObject({ seq: 0, output: 'now', async: false });
    expect(byArg.b).toMatchObject({ seq: 1, output: 'later', async: true });
    expect(byArg.c).toMatchObject({ seq: 2, error: { message: 'boom' }, async: false });
  });
});

describe('calls inside a tool', () => {
  it('are numbered with the recorded call, and name the tool they were made in, across await', async () => {
    const file = tempFile();
    const recorder = new Recorder({ file, ids: true });
    const children = new Children(recorder, ALL, LIMITS);
    const observe = toolObserver(children, 'app/t.js:search');
    const fetchLike = () => {
      const start = children.begin(currentRecordedCall()!);
      children.exchange(start, exchange('https://api.test/q', { q: 1 }));
    };
    await runInRecordedCall(recordedCall('w-0'), async () => {
      fetchLike();
      await observe(['x'])!(async () => {
        await new Promise((resolve) => setImmediate(resolve));
        fetchLike();
      });
      fetchLike();
    });
    recorder.flush();
    const byKind = lines(file).map((l) => [l.seq, l.kind, l.within]);
    expect(byKind.sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [0, 'http', undefined],
      [1, 'tool', undefined],
      [2, 'http', 1],
      [3, 'http', undefined],
    ]);
  });
});

describe('the http tap', () => {
  const file = tempFile();
  const recorder = new Recorder({ file, ids: true });
  const children = new Children(recorder, ALL, LIMITS);
  tapHttp(children);
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(201, { 'content-type': 'text/plain' }).end('made'));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('records a request under a recorded call, its body and the response it read; none outside one', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/items`;
    const send = (body: string) =>
      new Promise<string>((resolve, reject) => {
        const req = http.request(url, { method: 'PUT' }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(body);
      });
    expect(await send('outside')).toBe('made');
    expect(await runInRecordedCall(recordedCall('h-0'), () => send('inside'))).toBe('made');
    recorder.flush();
    const [line, ...rest] = lines(file);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ parent: 'h-0', seq: 0, kind: 'http', request: { method: 'PUT', url, body: 'inside' }, response: { status: 201, body: 'made' } });
  });

  it('records a failed request with its error, which reaches the app as it would', async () => {
    const error = await runInRecordedCall(
      recordedCall('h-1'),
      () =>
        new Promise<Error>((resolve) => {
          const req = http.request('http://127.0.0.1:1/x');
          req.on('error', resolve);
          req.end();
        }),
    );
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    recorder.flush();
    const line = lines(file).find((l) => l.parent === 'h-1');
    expect(line).toMatchObject({ kind: 'http', error: { code: 'ECONNREFUSED' } });
    expect(line!.response).toBeUndefined();
  });
});

describe('the fetch tap', () => {
  it('reads the body of a Request and of a Blob from a copy: the server gets it whole, and so does the record', async () => {
    const file = tempFile();
    const recorder = new Recorder({ file, ids: true });
    const children = new Children(recorder, ALL, LIMITS);
    tapFetch(children);
    const server = http.createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`;
      const sent = await runInRecordedCall(recordedCall('f-0'), async () => {
        const a = await fetch(new Request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ q: 'request' }) }));
        const b = await fetch(url, { method: 'POST', body: new Blob(['{"q":"blob"}'], { type: 'application/json' }) });
        return [await a.json(), await b.json()];
      });
      expect(sent).toEqual([{ echo: '{"q":"request"}' }, { echo: '{"q":"blob"}' }]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      recorder.flush();
      const byseq = lines(file).sort((x, y) => x.seq - y.seq);
      expect(byseq.map((l) => [l.seq, l.request.body, l.response.body])).toEqual([
        [0, { q: 'request' }, { echo: '{"q":"request"}' }],
        [1, { q: 'blob' }, { echo: '{"q":"blob"}' }],
      ]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

