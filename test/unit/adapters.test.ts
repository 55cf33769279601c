import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterFor, readOutput } from '../../src/adapters';
import { decode } from '../../src/record/decode';
import { createEncoder, type Pending } from '../../src/record/encode';
import { Recorder } from '../../src/record/recorder';
import { decodeCall, finishCall, override } from '../../src/replay/binding';
import { Collectors } from '../../src/replay/collectors';
import { parseParamPath } from '../../src/config/param-path';

const encoder = createEncoder();

/** The JSON an encoding gives once its late parts are read. */
async function settled(value: unknown): Promise<any> {
  const text = encoder.encode(value, true);
  if (typeof text === 'string') return JSON.parse(text);
  await (text as Pending).done;
  return JSON.parse(text.text('not read'));
}

const jsonRequest = () =>
  new Request('http://app.test/api/chat?lang=fr', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-live-abcdefghijklmnop1234', 'x-user-id': 'u-42' },
    body: JSON.stringify({ message: 'hi', password: 'hunter2' }),
  });

describe('the Fetch API adapter', () => {
  it('records a Request with its body read from a clone, redacted, and leaves the body to the app', async () => {
    const req = jsonRequest();
    const [recorded] = await settled([req]);
    expect(recorded).toEqual({
      $type: 'Request',
      value: {
        method: 'POST',
        url: 'http://app.test/api/chat?lang=fr',
        headers: { authorization: '***', 'content-type': 'application/json', 'x-user-id': 'u-42' },
        body: { message: 'hi', password: '***' },
      },
    });
    expect(req.bodyUsed).toBe(false);
    expect(await req.json()).toEqual({ message: 'hi', password: 'hunter2' });
  });

  it('says why a body is not kept: read before the call, or an encoding that cannot wait', async () => {
    const used = jsonRequest();
    await used.text();
    expect((await settled([used]))[0].value.body).toEqual({ $type: 'Unread', reason: 'the body had already been read' });
    const now = jsonRequest();
    expect(JSON.parse(encoder.encode([now]))[0].value.body).toEqual({ $type: 'Unread', reason: 'the body is read later' });
    expect(now.bodyUsed).toBe(false);
  });

  it('records Headers, URLSearchParams, FormData, Blob and File as data, and decodes them as working objects', async () => {
    const headers = new Headers([['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-one', '1']]);
    const form = new FormData();
    form.append('note', 'n');
    form.append('tag', 'a');
    form.append('tag', 'b');
    form.append('doc', new File(['hello file'], 'a.txt', { type: 'text/plain' }));
    const values = [headers, new URLSearchParams('q=x&q=y&lang=fr'), form, new Blob(['{"a":1}'], { type: 'application/json' })];
    const recorded = await settled(values);
    expect(recorded).toEqual([
      // set-cookie is masked by its name; the list keeps the cookies apart.
      { $type: 'Headers', value: { 'set-cookie': '***', 'x-one': '1' } },
      { $type: 'URLSearchParams', value: { q: ['x', 'y'], lang: 'fr' } },
      // A small text file keeps its text.
      { $type: 'FormData', value: { note: 'n', tag: ['a', 'b'], doc: { $type: 'File', value: { name: 'a.txt', type: 'text/plain', size: 10, text: 'hello file' } } } },
      { $type: 'Blob', value: { type: 'application/json', size: 7, text: '{"a":1}' } },
    ]);
    const [h, q, f, b] = decode(recorded) as [Headers, URLSearchParams, FormData, Blob];
    expect(h).toBeInstanceOf(Headers);
    expect(h.get('x-one')).toBe('1');
    expect(q.getAll('q')).toEqual(['x', 'y']);
    expect(f.getAll('tag')).toEqual(['a', 'b']);
    const file = f.get('doc') as File;
    expect([file.name, file.type, file.size, await file.text()]).toEqual(['a.txt', 'text/plain', 10, 'hello file']);
    expect(await b.text()).toBe('{"a":1}');
  });

  it('records a multipart body as its form, a small text file with its text', async () => {
    const form = new FormData();
    form.append('note', 'quarterly');
    form.append('doc', new File(['x'.repeat(5)], 'r.csv', { type: 'text/csv' }));
    const [recorded] = await settled([new Request('http://app.test/up', { method: 'POST', body: form })]);
    expect(recorded.value.body).toEqual({ $type: 'FormData', value: { note: 'quarterly', doc: { $type: 'File', value: { name: 'r.csv', type: 'text/csv', size: 5, text: 'xxxxx' } } } });
  });

  it('replays a Request with an input put inside its JSON body, with a length of its own', async () => {
    const recorded = await settled([jsonRequest()]);
    const collectors = new Collectors();
    const call = decodeCall({ args: recorded, kwargs: {} }, collectors, new Map());
    expect(override(call, parseParamPath('kwargs.req.body.message'), 'a longer message', ['req'])).toEqual({ root: 'args', segments: [0, 'body', 'message'] });
    finishCall(call, collectors);
    const req = call.args[0] as Request;
    expect(req).toBeInstanceOf(Request);
    expect(req.method).toBe('POST');
    expect(req.headers.get('x-user-id')).toBe('u-42');
    expect(await req.json()).toEqual({ message: 'a longer message', password: '***' });
  });

  it('reads a returned Response: status, headers, the body as JSON, and a streamed body as frames', async () => {
    const json = await readOutput(Response.json({ ok: true }, { status: 201, headers: { 'x-agent': 'a' } }));
    expect(json).toEqual({ type: 'Response', value: { status: 201, statusText: '', headers: { 'content-type': 'application/json', 'x-agent': 'a' }, body: { ok: true } } });
    const chunks = ['data: {"delta":"a"}\n\n', 'data: [DONE]\n\n'];
    const stream = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const streamed = await readOutput(new Response(stream, { headers: { 'content-type': 'text/event-stream' } }));
    expect(streamed?.frames).toEqual(['data: {"delta":"a"}\n\n', 'data: [DONE]\n\n']);
    expect(streamed?.value).toMatchObject({ status: 200, body: 'data: {"delta":"a"}\n\ndata: [DONE]\n\n' });
    expect(typeof streamed?.firstFrameAt).toBe('number');
    expect(readOutput({ status: 200 })).toBeUndefined();
  });

  it('knows classes by prototype, and a class of no framework as none', () => {
    class Plain {}
    const req = jsonRequest();
    expect(adapterFor(req, Object.getPrototypeOf(req))?.type).toBe('Request');
    expect(adapterFor(new Plain(), Plain.prototype)).toBeUndefined();
  });
});

describe('a record with a body read later', () => {
  const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-unit-')), 'calls.jsonl');
  const records = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

  it('is written once the body is read, with its iteration from the call', async () => {
    const file = tempFile();
    const recorder = new Recorder({ file });
    const site = recorder.site('app/route.js:POST', 'POST', ['req']);
    const req = jsonRequest();
    recorder.record(site, [req]);
    recorder.record(site, ['plain']);
    recorder.flush();
    expect(records(file).map((r) => r.iteration)).toEqual([1]);
    await req.json();
    await new Promise((resolve) => setTimeout(resolve, 20));
    recorder.flush();
    const written = records(file);
    expect(written.map((r) => r.iteration)).toEqual([1, 0]);
    expect(written[1].args[0].value.body).toEqual({ message: 'hi', password: '***' });
  });

  it('is never lost: closing writes it with a marker where the body did not arrive', () => {
    const file = tempFile();
    const recorder = new Recorder({ file });
    const site = recorder.site('app/route.js:POST', 'POST', ['req']);
    // A body that never ends.
    const req = new Request('http://app.test/', { method: 'POST', body: new ReadableStream({ pull: () => new Promise(() => undefined) }), duplex: 'half' } as RequestInit);
    recorder.record(site, [req]);
    recorder.close();
    const [record] = records(file);
    expect(record.args[0].value.body).toEqual({ $type: 'Unread', reason: 'the process ended before it was read' });
  });
});
