import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, expectSameRun, project, readRecords, recordTwice, recordingPath, replayTarget, runCli, writeReplayConfig, type Experiment, type RecordLine, type Run } from './helpers';

/**
 * Next.js-style route handlers: a Fetch API Request in, a Response out, served by a small node:http
 * server that turns each request into a real Request as Next does. The app sends itself four
 * requests (JSON with a query string and credentials, a blank message, an SSE stream, a multipart
 * upload); each handler's Request is recorded as data, and replayed as a real Request again.
 */

const FIXTURE = 'fetch-app';
const CHAT = 'app/api/chat/route.js:POST';
const STREAM = 'app/api/stream/route.js:POST';
const UPLOAD = 'app/api/upload/route.js:POST';
const TARGETS = [CHAT, STREAM, UPLOAD];
const INPUT = 'hello from the test';
// The bearer token app/main.js sends to /api/chat.
const TOKEN = 'sk-live-abcdefghijklmnop1234';

/** The events /api/stream answers `message` with: one per word, then [DONE]. */
const sseEvents = (message: string) => [...message.split(/\s+/).filter(Boolean).map((delta) => `data: ${JSON.stringify({ delta })}\n\n`), 'data: [DONE]\n\n'];

let dir: string;
let plain: Run;
let recorded: Run;
let records: RecordLine[];

/** `fluxloop run experiment` of `target` on its own records into its own output folder `name`, read back. */
const replay = (name: string, target: string, overridePath: string, inputs: string[]): Promise<Experiment> =>
  replayTarget(dir, { targets: TARGETS, target, path: overridePath, inputs, name });

/** The Request a record's one argument holds: its `$type` checked, its value returned. */
function requestOf(record: RecordLine): Record<string, any> {
  expect(record.params).toEqual(['req']);
  expect(record.args).toHaveLength(1);
  const req = record.args[0] as { $type: string; value: Record<string, any> };
  expect(req.$type).toBe('Request');
  return req.value;
}

beforeAll(async () => {
  dir = project(FIXTURE);
  ({ plain, recorded } = await recordTwice(dir));
  records = readRecords(dir);
});

describe('Next.js-style route handlers recorded', () => {
  it('serves its four requests without fluxloop', () => {
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    const lines = plain.stdout.trim().split('\n');
    expect(lines).toEqual([
      'POST /api/chat?lang=fr -> 201 fetch-app application/json {"user":"u-42","reply":"You said: Bonjour, ça va ?","lang":"fr"}',
      'POST /api/chat -> 400 - application/json {"error":"empty message"}',
      `POST /api/stream -> 200 - text/event-stream ${JSON.stringify(sseEvents('tell me a short story').join(''))}`,
      'POST /api/upload -> 200 - application/json {"note":"quarterly report","file":{"name":"a.txt","type":"text/plain","size":10}}',
    ]);
  });

  it('answers as it does without fluxloop: every handler still reads its body', () => {
    expectSameRun(plain, recorded);
  });

  it('records each handler call once, and nothing else', () => {
    expect(records.map((r) => [r.target, r.function, r.iteration])).toEqual([
      [CHAT, 'POST', 0],
      [CHAT, 'POST', 1],
      [STREAM, 'POST', 0],
      [UPLOAD, 'POST', 0],
    ]);
  });

  it("records the chat Request: method, url with its query, headers with authorization masked, the JSON body", () => {
    const [first, blank] = byTarget(records, CHAT).map(requestOf);
    expect(first!.method).toBe('POST');
    expect(first!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/chat\?lang=fr$/);
    expect(first!.headers).toMatchObject({ authorization: '***', 'x-user-id': 'u-42', 'content-type': 'application/json' });
    // Header names as the Fetch API gives them: lowercase.
    for (const name of Object.keys(first!.headers)) expect(name).toBe(name.toLowerCase());
    expect(first!.body).toEqual({ message: 'Bonjour, ça va ?' });

    expect(blank!.method).toBe('POST');
    expect(blank!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/chat$/);
    expect(blank!.headers).toMatchObject({ 'x-user-id': 'u-42', 'content-type': 'application/json' });
    expect(blank!.headers).not.toHaveProperty('authorization');
    expect(blank!.body).toEqual({ message: '   ' });

    // The token is nowhere in the file, not even in part.
    const raw = fs.readFileSync(recordingPath(dir), 'utf8');
    expect(raw).not.toContain(TOKEN);
    expect(raw).not.toContain('abcdefghijklmnop');
  });

  it('records the stream Request with its JSON body', () => {
    const [req] = byTarget(records, STREAM).map(requestOf);
    expect(req).toMatchObject({ method: 'POST', headers: { 'content-type': 'application/json' }, body: { message: 'tell me a short story' } });
    expect(req!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/stream$/);
  });

  it('records the upload Request with its multipart body as a FormData of a field and a File', () => {
    const [req] = byTarget(records, UPLOAD).map(requestOf);
    expect(req!.method).toBe('POST');
    expect(req!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/upload$/);
    expect(req!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=\S+$/);
    const form = req!.body as { $type: string; value: Record<string, any> };
    expect(form.$type).toBe('FormData');
    expect(Object.keys(form.value).sort()).toEqual(['doc', 'note']);
    expect(form.value.note).toBe('quarterly report');
    expect(form.value.doc).toMatchObject({ $type: 'File', value: { name: 'a.txt', type: 'text/plain', size: 10 } });
    // A File's text is optional in the record; when it is kept it is the file's content.
    if ('text' in form.value.doc.value) expect(form.value.doc.value.text).toBe('hello file');
  });
});

describe('Next.js-style route handlers replayed', () => {
  it('replays the chat handler with each input in the JSON body: a real Request in, its Response read', async () => {
    const exp = await replay('chat', CHAT, 'kwargs.req.body.message', [INPUT, '   ']);
    expect(exp.summary).toMatchObject({ total_runs: 4, counts: { ok: 4, error: 0, timeout: 0 } });
    expect(exp.errors).toEqual([]);
    const lang: Record<number, string | null> = { 1: 'fr', 2: null };
    for (const t of exp.traces) {
      expect(t).toMatchObject({ status: 'ok', error: null, override_param_path: 'kwargs.req.body.message', override_location: 'args.0.body.message', frames: null, first_frame_ms: null });
      // The Request as invoked: the input in its body, the rest as recorded.
      expect(t.args).toHaveLength(1);
      expect(t.args[0].$type).toBe('Request');
      expect(t.args[0].value.body).toEqual({ message: t.input });
      expect(t.args[0].value.headers['x-user-id']).toBe('u-42');
      expect(t.args[0].value.url.endsWith(t.recording_line === 1 ? '/api/chat?lang=fr' : '/api/chat')).toBe(true);
      // The run's observation shows the same: the body as it went in, and the Response as it was read.
      const [observation] = exp.observations.filter((o) => o.trace_id === t.trace_id);
      expect(observation.input).toEqual(t.args);
      expect(observation.output).toEqual(t.output);
      if (t.input === INPUT) {
        expect(t.output).toEqual({
          $type: 'Response',
          value: {
            status: 201,
            statusText: '',
            headers: { 'content-type': 'application/json', 'x-agent': 'fetch-app' },
            body: { user: 'u-42', reply: `You said: ${INPUT}`, lang: lang[t.recording_line] },
          },
        });
      } else {
        // A blank message: the handler answers 400, and the run is still ok.
        expect(t.output).toEqual({ $type: 'Response', value: { status: 400, statusText: '', headers: { 'content-type': 'application/json' }, body: { error: 'empty message' } } });
      }
    }
    expect(exp.traces.map((t) => [t.recording_line, t.input]).sort()).toEqual([
      [1, '   '],
      [1, INPUT],
      [2, '   '],
      [2, INPUT],
    ]);
  });

  it('replays the blank-message recording to its 400 when the input goes elsewhere (a header)', async () => {
    const exp = await replay('chat-header', CHAT, 'kwargs.req.headers.x-user-id', ['u-test']);
    expect(exp.summary).toMatchObject({ total_runs: 2, counts: { ok: 2, error: 0, timeout: 0 } });
    const byLine = Object.fromEntries(exp.traces.map((t) => [t.recording_line, t]));
    for (const t of exp.traces) {
      expect(t).toMatchObject({ status: 'ok', override_location: 'args.0.headers.x-user-id' });
      expect(t.args[0].value.headers['x-user-id']).toBe('u-test');
    }
    expect(byLine[1].output).toEqual({
      $type: 'Response',
      value: { status: 201, statusText: '', headers: { 'content-type': 'application/json', 'x-agent': 'fetch-app' }, body: { user: 'u-test', reply: 'You said: Bonjour, ça va ?', lang: 'fr' } },
    });
    expect(byLine[2].args[0].value.body).toEqual({ message: '   ' });
    expect(byLine[2].output).toEqual({ $type: 'Response', value: { status: 400, statusText: '', headers: { 'content-type': 'application/json' }, body: { error: 'empty message' } } });
  });

  it('replays the stream handler: one frame per SSE event of the streamed body, the output its joined text', async () => {
    const exp = await replay('stream', STREAM, 'kwargs.req.body.message', [INPUT]);
    expect(exp.summary).toMatchObject({ total_runs: 1, counts: { ok: 1, error: 0, timeout: 0 } });
    const [t] = exp.traces;
    expect(t).toMatchObject({ status: 'ok', override_location: 'args.0.body.message', input: INPUT });
    expect(t.args[0].value.body).toEqual({ message: INPUT });
    const events = sseEvents(INPUT);
    expect(events).toHaveLength(5);
    expect(t.frames).toEqual(events);
    expect(typeof t.first_frame_ms).toBe('number');
    expect(t.first_frame_ms).toBeGreaterThanOrEqual(0);
    expect(t.first_frame_ms).toBeLessThanOrEqual(t.duration_ms);
    expect(t.output).toEqual({
      $type: 'Response',
      value: { status: 200, statusText: '', headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, body: events.join('') },
    });
  });

  it('replays the upload handler with the input in a form field: the form rebuilt with its File', async () => {
    const exp = await replay('upload', UPLOAD, 'kwargs.req.body.note', [INPUT]);
    expect(exp.summary).toMatchObject({ total_runs: 1, counts: { ok: 1, error: 0, timeout: 0 } });
    const [t] = exp.traces;
    expect(t).toMatchObject({ status: 'ok', override_location: 'args.0.body.note', frames: null });
    const form = t.args[0].value.body;
    expect(form).toMatchObject({ $type: 'FormData', value: { note: INPUT, doc: { $type: 'File', value: { name: 'a.txt', type: 'text/plain', size: 10 } } } });
    // A new form has a new boundary, which the rebuilt Request's content type names.
    expect(t.args[0].value.headers['content-type']).toMatch(/^multipart\/form-data; boundary=\S+$/);
    expect(t.output).toEqual({
      $type: 'Response',
      value: { status: 200, statusText: '', headers: { 'content-type': 'application/json' }, body: { note: INPUT, file: { name: 'a.txt', type: 'text/plain', size: 10 } } },
    });
  });

  it('shows with --dry-run where the input goes: the recorded message before, the input after', async () => {
    writeReplayConfig(dir, { targets: TARGETS, target: CHAT, path: 'kwargs.req.body.message', inputs: [INPUT] });
    const run = await runCli(dir, ['run', 'experiment', '--dry-run', '--output', 'dry']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`First run: input ${JSON.stringify(INPUT)} at args.0.body.message`);
    const removed = run.stdout.split('\n').filter((l) => l.startsWith('- '));
    const added = run.stdout.split('\n').filter((l) => l.startsWith('+ '));
    expect(removed).toHaveLength(1);
    expect(added).toHaveLength(1);
    expect(removed[0]).toMatch(/^- +"message": "Bonjour, ça va \?"$/);
    expect(added[0]).toMatch(/^\+ +"message": "hello from the test"$/);
    // The lines around show the recorded Request as data, its authorization masked.
    expect(run.stdout).toMatch(/"url": "http:\/\/127\.0\.0\.1:\d+\/api\/chat\?lang=fr"/);
    expect(run.stdout).toContain('"authorization": "***"');
    expect(fs.existsSync(path.join(dir, 'dry'))).toBe(false);

    const json = await runCli(dir, ['run', 'experiment', '--dry-run', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const { first } = JSON.parse(json.stdout);
    expect(first).toMatchObject({ input: INPUT, location: 'args.0.body.message' });
    expect(first.before.args[0].body).toEqual({ message: 'Bonjour, ça va ?' });
    expect(first.after.args[0].body).toEqual({ message: INPUT });
  });
});
