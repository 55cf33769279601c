import { describe, expect, it } from 'vitest';
import { DOWNSTREAM_REPLAY_DEFAULTS, type DownstreamReplayConfig } from '../../src/config/types';
import type { ChildRecord } from '../../src/record/downstream-format';
import { DownstreamRun, type Call } from '../../src/replay/stubs';

const URL_A = 'http://api.test/search';
let seq = 0;
const at = (started: number, duration = 1) => ({ started_ms: started, duration_ms: duration });

function httpChild(method: string, url: string, body: unknown, started = seq * 10): ChildRecord {
  const u = new URL(url);
  return {
    parent: 'p-1',
    seq: seq++,
    kind: 'http',
    name: `${method} ${u.host}${u.pathname}`,
    ...at(started),
    request: { method, url, headers: {}, body },
    response: { status: 200, status_text: 'OK', headers: { 'content-type': 'application/json' }, body: { hits: [url] } },
  };
}
function llmChild(model: string, messages: unknown, started = seq * 10): ChildRecord {
  return {
    parent: 'p-1',
    seq: seq++,
    kind: 'llm',
    name: `openai chat.completions ${model}`,
    ...at(started),
    request: { method: 'POST', url: 'http://llm.test/v1/chat/completions', headers: {}, body: { model, messages } },
    response: { status: 200, status_text: 'OK', headers: {}, body: {} },
    llm: { provider: 'openai', api: 'chat.completions', model, messages, tools: null, stream: false, response: null, usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } },
  };
}
function toolChild(target: string, args: unknown[], started = seq * 10, duration = 1): ChildRecord {
  return { parent: 'p-1', seq: seq++, kind: 'tool', name: target, target, args, output: { ok: true }, async: true, ...at(started, duration) };
}

const http = (method: string, url: string, body: unknown = null): Call => {
  const u = new URL(url);
  return { kind: 'http', name: `${method} ${u.host}${u.pathname}`, method, url, body };
};
const llm = (model: string, messages: unknown): Call => ({ kind: 'llm', name: `openai chat.completions ${model}`, provider: 'openai', api: 'chat.completions', model, messages });
const tool = (target: string, args: unknown[]): Call => ({ kind: 'tool', name: target, args });

function run(recorded: ChildRecord[] | undefined, modes: Partial<DownstreamReplayConfig> = {}): DownstreamRun {
  return new DownstreamRun(recorded, { ...DOWNSTREAM_REPLAY_DEFAULTS, ...modes });
}

/** A run that makes `calls` one after the other, each ended at once; what each was answered with. */
function make(state: DownstreamRun, calls: Call[]): string[] {
  return calls.map((call) => {
    const decision = state.begin(call);
    state.end(decision.seq, {});
    return decision.answer === 'stub' ? `stub#${decision.recorded.seq}` : decision.answer;
  });
}

describe('DownstreamRun: matching', () => {
  it('answers http calls by method, URL and body, JSON by structure, in order and then out of order', () => {
    seq = 0;
    const recorded = [httpChild('POST', URL_A, { q: 'a', n: 1 }), httpChild('POST', URL_A, { q: 'b' }), httpChild('GET', 'http://api.test/item?b=2&a=1', null)];
    const state = run(recorded);
    expect(make(state, [http('POST', URL_A, { n: 1, q: 'a' }), http('GET', 'http://api.test/item?a=1&b=2'), http('POST', URL_A, { q: 'b' })])).toEqual(['stub#0', 'stub#2', 'stub#1']);
    // Each recorded call answers once.
    expect(make(state, [http('POST', URL_A, { q: 'b' })])).toEqual(['unmatched']);
    expect(state.failure?.message).toMatch(/no recorded answer for the http call POST http:\/\/api.test\/search with body \{"q":"b"\}; the closest recorded call is #\d POST/);
  });

  it('takes the recorded call at the cursor before an equal one further on', () => {
    seq = 0;
    const state = run([httpChild('GET', URL_A, null), httpChild('POST', URL_A, 1), httpChild('GET', URL_A, null)]);
    expect(make(state, [http('GET', URL_A), http('POST', URL_A, 1), http('GET', URL_A)])).toEqual(['stub#0', 'stub#1', 'stub#2']);
    expect(state.timeline().map((c) => [c.seq, c.answer, c.matched])).toEqual([
      [0, 'stub', 0],
      [1, 'stub', 1],
      [2, 'stub', 2],
    ]);
    expect(state.divergence()).toBeNull();
  });

  it('answers llm calls by model and messages under llm: stub, with the recorded usage', () => {
    seq = 0;
    const state = run([llmChild('gpt-x', [{ role: 'user', content: 'hi' }])], { llm: 'stub' });
    expect(make(state, [llm('gpt-y', [{ role: 'user', content: 'hi' }])])).toEqual(['unmatched']);
    expect(state.failure?.message).toMatch(/llm call openai chat.completions gpt-y .*closest recorded call is #0 openai chat.completions gpt-x/);
    seq = 0;
    const again = run([llmChild('gpt-x', [{ role: 'user', content: 'hi' }])], { llm: 'stub' });
    expect(make(again, [llm('gpt-x', [{ content: 'hi', role: 'user' }])])).toEqual(['stub#0']);
    expect(again.timeline()[0]).toMatchObject({ kind: 'llm', answer: 'stub', model: 'gpt-x', usage: { total_tokens: 5 } });
  });

  it('lets live llm calls through, paired with the recorded call for the timeline', () => {
    seq = 0;
    const state = run([llmChild('gpt-x', ['a']), httpChild('GET', URL_A, null)]);
    expect(make(state, [llm('gpt-x', ['other input']), http('GET', URL_A)])).toEqual(['live', 'stub#1']);
    expect(state.timeline().map((c) => c.matched)).toEqual([0, 1]);
  });

  it('answers tool calls by target and arguments', () => {
    seq = 0;
    const state = run([toolChild('app/tools.js:search', ['weather', { city: 'Oslo' }])]);
    expect(make(state, [tool('app/tools.js:search', ['weather', { city: 'Bergen' }])])).toEqual(['unmatched']);
    expect(state.failure?.message).toContain(`tool call app/tools.js:search("weather",{"city":"Bergen"}); the closest recorded call is #0 app/tools.js:search("weather",{"city":"Oslo"})`);
    expect(make(state, [tool('app/tools.js:search', ['weather', { city: 'Oslo' }])])).toEqual(['stub#0']);
  });

  it('denies http under deny, naming the request; live calls go through', () => {
    seq = 0;
    const denied = run([httpChild('GET', URL_A, null)], { http: 'deny' });
    const decision = denied.begin(http('GET', URL_A));
    expect(decision).toMatchObject({ answer: 'denied', error: { name: 'FluxloopDownstreamError', message: 'GET api.test/search was denied: replay_args.downstream.http is deny' } });
    // Denied is not a failure of the run by itself: the app sees the error and may handle it.
    expect(denied.failure).toBeUndefined();
    expect(make(run([], { http: 'live', tools: 'live' }), [http('GET', URL_A), tool('a:b', [])])).toEqual(['live', 'live']);
  });

  it('lets an unmatched call through under unmatched: live, and says so', () => {
    seq = 0;
    const state = run([httpChild('GET', URL_A, null)], { unmatched: 'live' });
    expect(make(state, [http('GET', 'http://api.test/other')])).toEqual(['live']);
    expect(state.failure).toBeUndefined();
    expect(state.warnings).toEqual([expect.stringMatching(/no recorded answer for the http call GET http:\/\/api.test\/other; the closest recorded call is #0 GET http:\/\/api.test\/search.*made live \(replay_args.downstream.unmatched: live\)/)]);
  });

  it('says when the recording has no downstream calls at all', () => {
    const state = run(undefined);
    expect(make(state, [http('GET', URL_A)])).toEqual(['unmatched']);
    expect(state.failure?.message).toMatch(/the recording has no downstream calls: it was made before fluxloop recorded them, or with recording.downstream off; .*replay_args.downstream.http: live/);
    expect(state.divergence()).toBeNull();
  });
});

describe('DownstreamRun: divergence', () => {
  const recorded = () => {
    seq = 0;
    return [llmChild('gpt-x', ['q'], 0), toolChild('app/tools.js:weather', ['Oslo'], 10, 15), { ...httpChild('GET', 'http://weather.test/?city=Oslo', null, 20), within: 1 }, llmChild('gpt-x', ['q', 'tool'], 30)];
  };

  it('is null when the run makes the recorded calls, those made inside a stubbed tool left out', () => {
    const state = run(recorded());
    make(state, [llm('gpt-x', ['new input']), tool('app/tools.js:weather', ['Oslo']), llm('gpt-x', ['new input', 'tool'])]);
    expect(state.divergence()).toBeNull();
    // A live tool makes its own calls, which the recording has too.
    const live = run(recorded(), { tools: 'live' });
    make(live, [llm('gpt-x', []), tool('app/tools.js:weather', ['Oslo']), http('GET', 'http://weather.test/?city=Oslo'), llm('gpt-x', [])]);
    expect(live.divergence()).toBeNull();
  });

  it('leaves out only what the recording says was made inside the tool, not what ran beside it', () => {
    seq = 0;
    // The tool calls a second tool, which fetches; a log request runs beside them, while the tool runs.
    const recorded = [
      toolChild('app/tools.js:weather', ['Oslo'], 0, 50),
      { ...toolChild('app/tools.js:geo', ['Oslo'], 5, 20), within: 0 },
      { ...httpChild('GET', 'http://geo.test/?q=Oslo', null, 10), within: 1 },
      httpChild('POST', 'http://log.test/', { event: 'asked' }, 12),
    ];
    const state = run(recorded);
    make(state, [tool('app/tools.js:weather', ['Oslo']), http('POST', 'http://log.test/', { event: 'asked' })]);
    expect(state.divergence()).toBeNull();
    const missing = run(recorded);
    make(missing, [tool('app/tools.js:weather', ['Oslo'])]);
    expect(missing.divergence()).toMatchObject({ kind: 'missing_call', expected: { name: 'POST log.test/' } });
  });

  it('reports another call: another tool at the same place', () => {
    const state = run(recorded());
    make(state, [llm('gpt-x', []), tool('app/tools.js:news', ['Oslo']), llm('gpt-x', [])]);
    expect(state.divergence()).toEqual({
      index: 1,
      kind: 'other_call',
      expected: { kind: 'tool', name: 'app/tools.js:weather', arguments: ['Oslo'] },
      actual: { kind: 'tool', name: 'app/tools.js:news', arguments: ['Oslo'] },
    });
  });

  it('reports other arguments, for a tool and for an http query', () => {
    const state = run(recorded(), { unmatched: 'live' });
    make(state, [llm('gpt-x', []), tool('app/tools.js:weather', ['Bergen'])]);
    expect(state.divergence()).toMatchObject({ index: 1, kind: 'other_arguments', expected: { arguments: ['Oslo'] }, actual: { arguments: ['Bergen'] } });
    const http2 = run(recorded(), { tools: 'live', unmatched: 'live' });
    make(http2, [llm('gpt-x', []), tool('app/tools.js:weather', ['Oslo']), http('GET', 'http://weather.test/?city=Rome')]);
    expect(http2.divergence()).toMatchObject({ index: 2, kind: 'other_arguments', expected: { arguments: 'city=Oslo' }, actual: { arguments: 'city=Rome' } });
  });

  it('reports an extra call and a missing call', () => {
    const extra = run(recorded(), { unmatched: 'live' });
    make(extra, [llm('gpt-x', []), tool('app/tools.js:weather', ['Oslo']), llm('gpt-x', []), http('GET', 'http://x.test/')]);
    expect(extra.divergence()).toEqual({ index: 3, kind: 'extra_call', expected: null, actual: { kind: 'http', name: 'GET x.test/', arguments: null } });
    const missing = run(recorded());
    make(missing, [llm('gpt-x', [])]);
    expect(missing.divergence()).toEqual({ index: 1, kind: 'missing_call', expected: { kind: 'tool', name: 'app/tools.js:weather', arguments: ['Oslo'] }, actual: null });
  });

  it('compares llm calls by provider, API and model alone', () => {
    const state = run(recorded());
    make(state, [llm('gpt-other', [])]);
    expect(state.divergence()).toMatchObject({ index: 0, kind: 'other_call', expected: { name: 'openai chat.completions gpt-x', arguments: null } });
  });
});
