import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatReply, lastContent, startFakeLlm, type FakeLlm, type FakeRequest } from '../fake-llm';
import { byTarget, expectSameRun, project, readRecords, recordTwice, recordingPath, replayTarget, type Experiment, type RecordLine, type Run } from './helpers';

/**
 * An agent on the real `openai` SDK, pointed at a fake OpenAI-compatible server. Two targets: the
 * agent's entry (`answer`), and the SDK's custom fetch (`loggingFetch`), whose arguments are what
 * goes on the wire: a URL string and a RequestInit with a `Headers` and the JSON text of the body.
 *
 * The fake server is started once for the file and kept up: the recorded URLs name its port, and
 * the replays of `loggingFetch` send to them.
 */

const FIXTURE = 'openai-app';
const ANSWER = 'app/llm.js:answer';
const FETCH = 'app/llm.js:loggingFetch';
const TARGETS = [ANSWER, FETCH];
const KEY = 'sk-test-abcdefghijklmnopqrstuv';
const INPUT = 'hello from the test';
const QUESTIONS = ['What is the capital of France?', 'How many legs does a spider have?'];
// The path into the JSON text of the fetch's body: messages[1] is the user's.
const BODY_PATH = 'args.1.body.$json.messages.1.content';


let llm: FakeLlm;
let env: Record<string, string>;
let dir: string;
let plain: Run;
let recorded: Run;
let records: RecordLine[];
/** The requests the fake server got from the plain and the recorded runs of the app. */
let appRequests: FakeRequest[];

/** Replays `target` on its own records into its own folder `name`: the experiment, and the requests the fake server got meanwhile. */
async function replay(name: string, target: string, overridePath: string, inputs: string[]): Promise<{ exp: Experiment; sent: FakeRequest[] }> {
  const before = llm.requests.length;
  const exp = await replayTarget(dir, { targets: TARGETS, target, path: overridePath, inputs, name, env });
  return { exp, sent: llm.requests.slice(before) };
}

beforeAll(async () => {
  llm = await startFakeLlm((req) => chatReply(`echo: ${lastContent(req)}`));
  env = { OPENAI_BASE_URL: llm.url, OPENAI_API_KEY: KEY };
  dir = project(FIXTURE, ['openai']);
  ({ plain, recorded } = await recordTwice(dir, 'app/main.js', env));
  records = readRecords(dir);
  appRequests = llm.requests.slice();
});

afterAll(async () => {
  await llm?.close();
});

describe('an agent on the openai SDK, recorded', () => {
  it('answers its two questions through the fake server without fluxloop', () => {
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(QUESTIONS.map((question) => ({ question, answer: `echo: ${question}` })));
  });

  it('answers as it does without fluxloop, and warns about nothing', () => {
    expectSameRun(plain, recorded);
    // Each run sent its two questions, with the key, the per-request header on the second.
    expect(appRequests.map((r) => [lastContent(r), r.headers.authorization, r.headers['x-session-id']])).toEqual(
      [...QUESTIONS, ...QUESTIONS].map((q, i) => [q, `Bearer ${KEY}`, i % 2 === 1 ? 'session-7' : undefined]),
    );
  });

  it('records each call of the two targets once', () => {
    expect(records.map((r) => [r.target, r.iteration])).toEqual([
      [ANSWER, 0],
      [FETCH, 0],
      [ANSWER, 1],
      [FETCH, 1],
    ]);
  });

  it('records the agent entry with its question and the plain options', () => {
    const answers = byTarget(records, ANSWER);
    expect(answers.map((r) => r.function)).toEqual(['answer', 'answer']);
    expect(answers[0]!.params).toEqual(['question', 'options']);
    expect(answers.map((r) => r.args)).toEqual([[QUESTIONS[0]], [QUESTIONS[1], { headers: { 'x-session-id': 'session-7' } }]]);
  });

  it("records the SDK's fetch: the URL string, a Headers node with authorization masked, the body's JSON text", () => {
    const fetches = byTarget(records, FETCH);
    expect(fetches.map((r) => r.function)).toEqual(['loggingFetch', 'loggingFetch']);
    fetches.forEach((record, i) => {
      expect(record.params).toEqual(['url', 'init']);
      expect(record.args).toHaveLength(2);
      const [url, init] = record.args as [unknown, Record<string, any>];
      expect(url).toBe(`${llm.url}/chat/completions`);
      expect(init.method).toBe('POST');
      expect(init.headers.$type).toBe('Headers');
      expect(init.headers.value).toMatchObject({ authorization: '***', 'content-type': 'application/json', accept: 'application/json' });
      if (i === 1) expect(init.headers.value['x-session-id']).toBe('session-7');
      else expect(init.headers.value).not.toHaveProperty('x-session-id');
      // The body as the SDK hands it to fetch: JSON text, not an object.
      expect(typeof init.body).toBe('string');
      expect(JSON.parse(init.body)).toEqual({
        model: 'gpt-test',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: QUESTIONS[i] },
        ],
      });
    });
  });

  it('keeps the API key out of the recording file', () => {
    const raw = fs.readFileSync(recordingPath(dir), 'utf8');
    expect(raw).not.toContain(KEY);
    expect(raw).not.toContain('abcdefghijklmnopqrstuv');
  });
});

describe('an agent on the openai SDK, replayed against the fake server', () => {
  it('replays the agent entry with each input as the question: the server gets it, the answer echoes it', async () => {
    const { exp, sent } = await replay('answer', ANSWER, 'kwargs.question', [INPUT]);
    expect(exp.summary).toMatchObject({ total_runs: 2, counts: { ok: 2, error: 0, timeout: 0 } });
    expect(exp.errors).toEqual([]);
    for (const t of exp.traces) {
      expect(t).toMatchObject({ status: 'ok', error: null, override_param_path: 'kwargs.question', override_location: 'args.0', input: INPUT });
      expect(t.args[0]).toBe(INPUT);
      expect(t.output).toEqual({ question: INPUT, answer: `echo: ${INPUT}` });
      expect(t.output.answer).toContain(INPUT);
    }
    // The second recording's options reach the SDK as recorded.
    // Its line in the file, where the lines of the recorded calls' downstream calls are counted too.
    const lines = fs.readFileSync(recordingPath(dir), 'utf8').split('\n');
    const secondLine = lines.map((l, i) => (l.includes(`"target":"${ANSWER}"`) && !l.includes('"parent":') ? i + 1 : 0)).filter(Boolean)[1];
    const second = exp.traces.find((t) => t.recording_line === secondLine);
    expect(second.args).toEqual([INPUT, { headers: { 'x-session-id': 'session-7' } }]);
    expect(sent).toHaveLength(2);
    expect(sent.map(lastContent)).toEqual([INPUT, INPUT]);
    expect(sent.map((r) => r.headers['x-session-id']).sort()).toEqual(['session-7', undefined]);
    // The key comes from the environment the test gave the replay.
    for (const r of sent) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("replays the SDK's fetch with the input inside the body's JSON text: the server gets it, the Response is read", async () => {
    const { exp, sent } = await replay('fetch', FETCH, BODY_PATH, [INPUT]);
    const failures = exp.traces.filter((t) => t.status !== 'ok').map((t) => t.error?.message);
    expect(failures).toEqual([]);
    expect(exp.summary).toMatchObject({ total_runs: 2, counts: { ok: 2, error: 0, timeout: 0 } });
    for (const t of exp.traces) {
      expect(t).toMatchObject({ status: 'ok', override_param_path: BODY_PATH, override_location: BODY_PATH, input: INPUT });
      // The arguments as invoked: the body is JSON text still, with the input in it.
      expect(t.args[0]).toBe(`${llm.url}/chat/completions`);
      expect(t.args[1].headers.$type).toBe('Headers');
      expect(JSON.parse(t.args[1].body)).toEqual({
        model: 'gpt-test',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: INPUT },
        ],
      });
      expect(t.output.$type).toBe('Response');
      expect(t.output.value).toMatchObject({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: { object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${INPUT}` }, finish_reason: 'stop' }] },
      });
    }
    // What went on the wire: the replaced content, the rest of the recorded body, the rebuilt headers.
    expect(sent).toHaveLength(2);
    for (const r of sent) {
      expect(r.body).toEqual({
        model: 'gpt-test',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: INPUT },
        ],
      });
      expect(r.headers['content-type']).toBe('application/json');
    }
    expect(sent.map((r) => r.headers['x-session-id']).sort()).toEqual(['session-7', undefined]);
  });
});
