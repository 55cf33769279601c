import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, expectSameRun, project, readRecords, recordTwice, replayTarget, runCli, writeReplayConfig, type CliRun, type Experiment, type ReplayConfig, type RecordLine, type Run } from './helpers';

/**
 * Output that comes in frames. A WebSocket handler on the `ws` package gets the live socket and the
 * raw frame, a Buffer holding JSON text, and answers with several socket.send calls; a plain
 * node:http handler streams Server-Sent Events with res.write and res.end. Both are recorded with
 * their emitters as markers, replayed with the input put inside the frame (`$json`) or the parsed
 * body, and what they sent comes back as the run's frames, evaluated and shown in the report.
 */

const STACK = /\n\s+at /;

interface Marker {
  $type: string;
  class: string;
  methods: string[];
  value: Record<string, any>;
}

/** The text a recorded `{"$type":"Buffer","base64":...}` node holds; any other node fails the test. */
function bufferText(node: unknown): string {
  const buffer = node as { $type: string; base64: string };
  expect(buffer).toEqual({ $type: 'Buffer', base64: expect.any(String) });
  return Buffer.from(buffer.base64, 'base64').toString('utf8');
}

const EVALUATION = 'evaluators:\n  - type: json_valid\n  - type: output_not_empty\n';

async function cli(dir: string, args: string[], code = 0): Promise<CliRun> {
  const run = await runCli(dir, args);
  expect(run.code, run.stdout + run.stderr).toBe(code);
  expect(run.stderr).not.toMatch(STACK);
  return run;
}

/** `fluxloop evaluate experiment <folder>`: its per-trace lines by trace id, and the report's embedded data. */
async function evaluate(dir: string, exp: Experiment): Promise<{ stdout: string; perTrace: Map<string, any>; report: any }> {
  const run = await cli(dir, ['evaluate', 'experiment', path.relative(dir, exp.dir)]);
  const lines = fs.readFileSync(path.join(exp.dir, 'evaluation', 'per_trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const html = fs.readFileSync(path.join(exp.dir, 'report.html'), 'utf8');
  const embedded = /<script type="application\/json" id="fluxloop-data">([\s\S]*?)<\/script>/.exec(html);
  expect(embedded, 'the report embeds its data').not.toBeNull();
  return { stdout: run.stdout, perTrace: new Map(lines.map((l) => [l.trace_id, l])), report: JSON.parse(embedded![1]!) };
}

/** An evaluator's verdict on one run, from per_trace.jsonl. */
const verdictOf = (line: any, name: string) => line.evaluators.find((e: any) => e.name === name);

describe('a WebSocket handler on the ws package', () => {
  const FIXTURE = 'ws-app';
  const TARGET = 'app/handlers.js:handleMessage';
  const JSON_PATH = 'args.1.$json.text';
  // The messages app/main.js sends, in order, each on its socket as a JSON text frame.
  const SENT = [
    { text: 'hello there world', user: 'ann' },
    { text: 'please stream these five words', user: 'bob' },
  ];
  const INPUT = 'alpha beta gamma delta';

  /** The frames handleMessage sends for `text`: start, one delta per word, end. */
  const framesFor = (text: string) => {
    const words = text.split(/\s+/).filter(Boolean);
    return [JSON.stringify({ type: 'start' }), ...words.map((w) => JSON.stringify({ type: 'delta', text: w })), JSON.stringify({ type: 'end', words: words.length })];
  };

  /** The replay of handleMessage on its records, with the input inside the frame's JSON. */
  const REPLAY: ReplayConfig = { targets: [TARGET], target: TARGET, path: JSON_PATH, inputs: [INPUT] };

  let dir: string;
  let plain: Run;
  let recorded: Run;
  let records: RecordLine[];

  beforeAll(async () => {
    dir = project(FIXTURE, ['ws']);
    ({ plain, recorded } = await recordTwice(dir));
    records = readRecords(dir);
  });

  it('streams its frames with and without fluxloop alike', () => {
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    const frames = SENT.flatMap((m) => framesFor(m.text));
    expect(plain.stdout).toBe([...frames.map((f) => `<- ${f}`), `${frames.length} frames`, ''].join('\n'));
    expectSameRun(plain, recorded);
  });

  it('records the socket as an Emitter marker and the frame as a Buffer node holding the JSON sent', () => {
    const calls = byTarget(records, TARGET);
    expect(records).toHaveLength(calls.length);
    expect(calls.map((r) => [r.function, r.iteration, r.params])).toEqual(SENT.map((_, i) => ['handleMessage', i, ['socket', 'data']]));
    for (const [i, record] of calls.entries()) {
      expect(record.args).toHaveLength(2);
      const socket = record.args[0] as Marker;
      expect(socket).toMatchObject({ $type: 'Emitter', class: 'WebSocket' });
      expect(socket.methods).toEqual(expect.arrayContaining(['send', 'close', 'ping', 'terminate', 'on']));
      // The socket's own data: open, no subprotocol; nothing of the server or the TCP socket behind it.
      expect(socket.value).toEqual({ readyState: 1, protocol: '' });
      expect(bufferText(record.args[1])).toBe(JSON.stringify(SENT[i]));
    }
  });

  it('replays with the input inside the frame (`$json`): the handler gets a Buffer again, its sends are the frames', async () => {
    const exp = await replayTarget(dir, { ...REPLAY, name: 'replay' });
    expect(exp.summary).toMatchObject({ total_runs: 2, counts: { ok: 2, error: 0, timeout: 0 } });
    expect(exp.traces.map((t) => t.recording_line).sort()).toEqual([1, 2]);
    const frames = framesFor(INPUT);
    for (const t of exp.traces) {
      const sent = SENT[t.recording_line - 1]!;
      expect(t).toMatchObject({ status: 'ok', error: null, input: INPUT, override_param_path: JSON_PATH, override_location: JSON_PATH });
      // The arguments as invoked: the socket stand-in written as the socket it stands for, and the
      // frame a Buffer whose JSON has the input as its text and the rest as recorded.
      expect(t.args).toHaveLength(2);
      expect(t.args[0]).toMatchObject({ $type: 'Emitter', class: 'WebSocket', value: { readyState: 1, protocol: '' } });
      expect(t.args[0].methods).toContain('send');
      expect(JSON.parse(bufferText(t.args[1]))).toEqual({ ...sent, text: INPUT });
      // What went through socket.send, in order: the frames, joined as the output.
      expect(t.frames).toEqual(frames);
      expect(t.output).toBe(frames.join(''));
      expect(t.messages).toEqual(frames.map((f) => ({ to: 'WebSocket.send', kind: 'call', args: [f] })));
      expect(typeof t.first_frame_ms).toBe('number');
      expect(t.first_frame_ms).toBeGreaterThanOrEqual(0);
      expect(t.first_frame_ms).toBeLessThanOrEqual(t.duration_ms);
    }
  });

  it('passes json_valid because each frame is JSON (the joined output is not), and shows the frames in the report', async () => {
    fs.writeFileSync(path.join(dir, 'configs', 'evaluation.yaml'), EVALUATION);
    const exp = await replayTarget(dir, { ...REPLAY, name: 'evaluated' });
    const { stdout, perTrace, report } = await evaluate(dir, exp);
    expect(stdout).toMatch(/2 passed/);
    const frames = framesFor(INPUT);
    // The output alone would fail: five JSON texts end to end are not one.
    expect(() => JSON.parse(exp.traces[0].output)).toThrow();
    for (const t of exp.traces) {
      const line = perTrace.get(t.trace_id);
      expect(line).toMatchObject({ passed: true, score: 1 });
      expect(verdictOf(line, 'json_valid')).toMatchObject({ passed: true, score: 1, reason: `each of ${frames.length} frames is valid JSON` });
      expect(verdictOf(line, 'output_not_empty')).toMatchObject({ passed: true, reason: 'output is not empty' });
    }

    // The report's data: each run with its frames and the time to the first, as traces.jsonl has them.
    expect(report.runs).toHaveLength(exp.traces.length);
    for (const t of exp.traces) {
      const run = report.runs.find((r: any) => r.trace_id === t.trace_id);
      expect(run).toMatchObject({ frames, first_frame_ms: t.first_frame_ms, override_location: JSON_PATH, status: 'ok', passed: true });
      expect(typeof run.first_frame_ms).toBe('number');
    }
  });

  it('fails json_valid for a version of the handler whose last frame is plain text, naming the frame', async () => {
    // app/variants.js:handleMessageLegacy, which app/main.js never calls, replayed on handleMessage's records.
    fs.writeFileSync(path.join(dir, 'configs', 'evaluation.yaml'), EVALUATION);
    const exp = await replayTarget(dir, { ...REPLAY, target: 'app/variants.js:handleMessageLegacy', from: TARGET, replayArgs: { function: 'handleMessage' }, name: 'legacy' });
    expect(exp.summary).toMatchObject({ total_runs: 2, counts: { ok: 2, error: 0, timeout: 0 } });
    const frames = [...framesFor(INPUT).slice(0, -1), 'end of stream (4 words)'];
    for (const t of exp.traces) expect(t).toMatchObject({ status: 'ok', override_location: JSON_PATH, frames, output: frames.join('') });
    const { stdout, perTrace } = await evaluate(dir, exp);
    expect(stdout).toMatch(/0 passed\s+2 failed/);
    for (const t of exp.traces) {
      const line = perTrace.get(t.trace_id);
      expect(line.passed).toBe(false);
      expect(verdictOf(line, 'json_valid')).toMatchObject({ passed: false, score: 0 });
      expect(verdictOf(line, 'json_valid').reason).toMatch(new RegExp(`^frame ${frames.length} of ${frames.length} is not valid JSON: `));
      expect(verdictOf(line, 'output_not_empty')).toMatchObject({ passed: true });
    }
  });

  it('shows the frame before and after the input goes in with --dry-run, and writes nothing', async () => {
    writeReplayConfig(dir, { ...REPLAY, replayArgs: { select: 'first' } });
    const run = await cli(dir, ['run', 'experiment', '--dry-run', '--output', 'dry']);
    expect(run.stdout).toContain(`Override path  ${JSON_PATH}`);
    expect(run.stdout).toContain(`First run: input ${JSON.stringify(INPUT)} at ${JSON_PATH}`);
    // The recorded frame and the run's frame, as the Buffer nodes they are: only the bytes differ.
    const removed = [...run.stdout.matchAll(/^- +(.*)$/gm)].map((m) => m[1]);
    const added = [...run.stdout.matchAll(/^\+ +(.*)$/gm)].map((m) => m[1]);
    expect(removed).toHaveLength(1);
    expect(added).toHaveLength(1);
    const base64 = (line: string) => Buffer.from(/^"base64": "([^"]*)"$/.exec(line)![1]!, 'base64').toString('utf8');
    expect(base64(removed[0]!)).toBe(JSON.stringify(SENT[0]));
    expect(JSON.parse(base64(added[0]!))).toEqual({ ...SENT[0], text: INPUT });
    expect(run.stdout).toMatch(/"\$type": "Buffer"/);
    expect(run.stdout).toMatch(/"class": "WebSocket"/);
    // The arguments alone: none of the replay's own bookkeeping.
    expect(run.stdout).not.toContain('"framework"');
    expect(fs.existsSync(path.join(dir, 'dry'))).toBe(false);
  });
});

describe('a node:http handler streaming Server-Sent Events', () => {
  const FIXTURE = 'http-app';
  const TARGET = 'app/handlers.js:handleChat';
  // The messages app/main.js posts, in order; the first with a bearer token.
  const SENT = ['stream me three', 'and now two'];
  const TOKEN = 'Bearer sk-live-abcdefghijklmnop1234';
  const INPUT = 'one two three four';
  const BLANK = '   ';

  /** The events handleChat writes for `message`: one per word, then [DONE]. */
  const eventsFor = (message: string) => [...message.split(/\s+/).filter(Boolean).map((delta) => `data: ${JSON.stringify({ delta })}\n\n`), 'data: [DONE]\n\n'];

  let dir: string;
  let plain: Run;
  let recorded: Run;
  let records: RecordLine[];
  let exp: Experiment;

  beforeAll(async () => {
    dir = project(FIXTURE);
    ({ plain, recorded } = await recordTwice(dir));
    records = readRecords(dir);
    fs.writeFileSync(path.join(dir, 'configs', 'evaluation.yaml'), EVALUATION);
    exp = await replayTarget(dir, { targets: [TARGET], target: TARGET, path: 'kwargs.req.body.message', inputs: [INPUT, BLANK], name: 'replay' });
  });

  it('streams its events with and without fluxloop alike', () => {
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(SENT.map((m) => `POST /chat -> 200 text/event-stream ${JSON.stringify(eventsFor(m).join(''))}\n`).join(''));
    expectSameRun(plain, recorded);
  });

  it('records the request and response as Emitter markers, with the parsed body and the token masked', () => {
    const calls = byTarget(records, TARGET);
    expect(records).toHaveLength(calls.length);
    expect(calls.map((r) => [r.function, r.iteration, r.params])).toEqual(SENT.map((_, i) => ['handleChat', i, ['req', 'res']]));
    for (const [i, record] of calls.entries()) {
      const [req, res] = record.args as [Marker, Marker];
      expect(req).toMatchObject({ $type: 'Emitter', class: 'IncomingMessage', value: { method: 'POST', url: '/chat', body: { message: SENT[i] }, complete: true } });
      expect(req.methods).toEqual(expect.arrayContaining(['on', 'pipe', 'setEncoding']));
      expect(req.value.headers).toMatchObject({ 'content-type': 'application/json', 'content-length': String(JSON.stringify({ message: SENT[i] }).length) });
      expect(req.value.headers.authorization).toBe(i === 0 ? '***' : undefined);
      expect(res).toMatchObject({ $type: 'Emitter', class: 'ServerResponse', value: { statusCode: 200, finished: false } });
      expect(res.methods).toEqual(expect.arrayContaining(['writeHead', 'write', 'end', 'setHeader']));
    }
    expect(fs.readFileSync(path.join(dir, 'recordings', 'args_recording.jsonl'), 'utf8')).not.toContain(TOKEN.slice(7));
  });

  it('replays with the input in req.body: each event written is a frame, the output their text', () => {
    expect(exp.summary).toMatchObject({ total_runs: 4, counts: { ok: 4, error: 0, timeout: 0 } });
    const streamed = exp.traces.filter((t) => t.input === INPUT);
    expect(streamed.map((t) => t.recording_line).sort()).toEqual([1, 2]);
    const events = eventsFor(INPUT);
    for (const t of streamed) {
      expect(t).toMatchObject({ status: 'ok', error: null, override_param_path: 'kwargs.req.body.message', override_location: 'args.0.body.message' });
      // The request as invoked: the input in its body, the rest (the masked token too) as recorded.
      expect(t.args[0]).toMatchObject({ $type: 'Emitter', class: 'IncomingMessage', value: { method: 'POST', url: '/chat', body: { message: INPUT } } });
      expect(t.args[0].value.headers.authorization).toBe(t.recording_line === 1 ? '***' : undefined);
      expect(t.args[1]).toMatchObject({ $type: 'Emitter', class: 'ServerResponse' });
      expect(t.frames).toEqual(events);
      expect(t.output).toBe(events.join(''));
      expect(typeof t.first_frame_ms).toBe('number');
      expect(t.first_frame_ms).toBeLessThanOrEqual(t.duration_ms);
      // The status and type went through writeHead, each piece through write or end.
      expect(t.messages).toEqual([
        { to: 'ServerResponse.writeHead', kind: 'call', args: [200, { 'content-type': 'text/event-stream' }] },
        ...events.slice(0, -1).map((e) => ({ to: 'ServerResponse.write', kind: 'call', args: [e] })),
        { to: 'ServerResponse.end', kind: 'call', args: [events.at(-1)] },
      ]);
    }
  });

  it('replays a blank message to the 400 the handler answers: one piece, so no frames', () => {
    const refused = exp.traces.filter((t) => t.input === BLANK);
    expect(refused).toHaveLength(2);
    for (const t of refused) {
      expect(t).toMatchObject({ status: 'ok', override_location: 'args.0.body.message', output: '{"error":"message is empty"}', frames: null, first_frame_ms: null });
      expect(t.args[0].value.body).toEqual({ message: BLANK });
      expect(t.messages).toEqual([
        { to: 'ServerResponse.writeHead', kind: 'call', args: [400, { 'content-type': 'application/json' }] },
        { to: 'ServerResponse.end', kind: 'call', args: ['{"error":"message is empty"}'] },
      ]);
    }
  });

  it('passes json_valid: each SSE event is JSON, [DONE] aside; the report holds the frames', async () => {
    const { stdout, perTrace, report } = await evaluate(dir, exp);
    expect(stdout).toMatch(/4 passed\s+0 failed/);
    for (const t of exp.traces) {
      const line = perTrace.get(t.trace_id);
      const reason = t.input === INPUT ? `each of ${eventsFor(INPUT).length} frames is valid JSON` : 'output is valid JSON';
      expect(verdictOf(line, 'json_valid')).toMatchObject({ passed: true, reason });
      expect(verdictOf(line, 'output_not_empty')).toMatchObject({ passed: true });
      const run = report.runs.find((r: any) => r.trace_id === t.trace_id);
      expect(run).toMatchObject({ frames: t.frames, first_frame_ms: t.first_frame_ms });
    }
    expect(report.runs.filter((r: any) => Array.isArray(r.frames) && r.frames.length === eventsFor(INPUT).length)).toHaveLength(2);
  });
});
