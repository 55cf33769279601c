import { describe, expect, it } from 'vitest';
import { parseEvaluationConfig } from '../../src/config/evaluation';
import { ConfigError } from '../../src/config/errors';
import type { EvaluatorConfig } from '../../src/config/types';
import { compare, pairRuns } from '../../src/experiment/evaluation/compare';
import { createJudge, parseJudgement } from '../../src/experiment/evaluation/judge';
import { RULES, similarity } from '../../src/experiment/evaluation/rules';
import { defaultEvaluatorsOnly, gateVerdict, parseRate, passRateGate } from '../../src/experiment/evaluation/verdict';
import { evaluatorResult, scoreRun } from '../../src/experiment/evaluation/score';
import type { TraceEvaluation } from '../../src/experiment/evaluation/types';
import type { RunResult } from '../../src/replay/execute';

function run(fields: Partial<RunResult> = {}): RunResult {
  return {
    trace_id: 't1',
    iteration: 0,
    recording_index: 0,
    recording_line: 1,
    target: 'app/agent.js:reply',
    input: 'hi',
    input_index: 0,
    metadata: {},
    override_param_path: 'kwargs.message',
    override_location: 'args.1',
    args: [{}, 'hi'],
    output: 'Hello there',
    frames: null,
    first_frame_ms: null,
    status: 'ok',
    error: null,
    duration_ms: 12,
    attempts: 1,
    messages: null,
    observation_count: 0,
    ...fields,
  };
}

const config = (fields: Partial<EvaluatorConfig> & Pick<EvaluatorConfig, 'type'>): EvaluatorConfig => ({ name: fields.type, weight: 1, threshold: 1, ...fields });
const rule = (c: EvaluatorConfig, r: RunResult, baseline?: RunResult) => RULES[c.type as Exclude<EvaluatorConfig['type'], 'llm_judge'>](r, c, baseline);

describe('rules', () => {
  it('output_not_empty reads through tags: an instance with no data, a Response with an empty body, no frames', () => {
    const c = config({ type: 'output_not_empty' });
    const response = (body: unknown) => ({ $type: 'Response', value: { status: 200, statusText: '', headers: {}, body } });
    expect(rule(c, run({ output: { $type: 'Object', class: 'Response', value: {} } })).score).toBe(0);
    expect(rule(c, run({ output: { $type: 'undefined' } })).score).toBe(0);
    expect(rule(c, run({ output: response('') })).score).toBe(0);
    expect(rule(c, run({ output: response({}) })).score).toBe(0);
    expect(rule(c, run({ output: 'joined', frames: [] })).score).toBe(0);
    expect(rule(c, run({ output: response({ reply: 'hi' }) })).score).toBe(1);
    expect(rule(c, run({ output: { $type: 'Object', class: 'Reply', value: { text: 'hi' } } })).score).toBe(1);
    expect(rule(c, run({ output: { $type: 'Date', value: '2026-01-01T00:00:00.000Z' } })).score).toBe(1);
  });

  it('json_valid checks each frame, Server-Sent Events by their data, and a Response by its body', () => {
    const c = config({ type: 'json_valid' });
    const frames = ['{"type":"start"}', '{"type":"delta","text":"hi"}', '{"type":"end"}'];
    expect(rule(c, run({ output: frames.join(''), frames }))).toEqual({ score: 1, reason: 'each of 3 frames is valid JSON' });
    expect(rule(c, run({ output: frames.join('') })).score).toBe(0);
    expect(rule(c, run({ output: 'x', frames: ['{"a":1}', 'oops'] })).reason).toMatch(/^frame 2 of 2 is not valid JSON: /);
    const sse = ['data: {"delta":"a"}\n\n', 'data: {"delta":"b"}\n\n', 'data: [DONE]\n\n'];
    expect(rule(c, run({ output: sse.join(''), frames: sse })).score).toBe(1);
    expect(rule(c, run({ output: 'data: {"delta":"a"}\n\ndata: nope\n\n' })).score).toBe(0);
    expect(rule(c, run({ output: { $type: 'Response', value: { status: 200, body: '{"ok":true}' } } })).score).toBe(1);
    expect(rule(c, run({ output: { $type: 'Response', value: { status: 200, body: 'plain text' } } })).score).toBe(0);
    expect(rule(c, run({ output: { $type: 'Response', value: { status: 200, body: { ok: true } } } })).score).toBe(1);
  });

  it('contains reads a Response by its body', () => {
    const r = run({ output: { $type: 'Response', value: { status: 201, headers: { 'x-agent': 'a' }, body: 'You said: hi' } } });
    expect(rule(config({ type: 'contains', value: 'You said: hi' }), r).score).toBe(1);
    expect(rule(config({ type: 'contains', value: 'x-agent' }), r).score).toBe(0);
  });

  it('output_not_empty fails on nothing, blank text and empty collections', () => {
    const c = config({ type: 'output_not_empty' });
    expect(rule(c, run()).score).toBe(1);
    expect(rule(c, run({ output: 0 })).score).toBe(1);
    for (const output of [null, undefined, '  \n', [], {}]) expect(rule(c, run({ output })).score).toBe(0);
  });

  it('contains and not_contains look at text and at JSON of other values, with case as asked', () => {
    expect(rule(config({ type: 'contains', value: 'hello' }), run()).score).toBe(0);
    expect(rule(config({ type: 'contains', value: 'hello', case_sensitive: false }), run())).toEqual({ score: 1, reason: 'output contains "hello"' });
    expect(rule(config({ type: 'contains', value: '"ok":true' }), run({ output: { ok: true } })).score).toBe(1);
    expect(rule(config({ type: 'not_contains', value: 'ERROR' }), run({ output: 'ERROR: down' }))).toEqual({ score: 0, reason: 'output contains "ERROR"' });
  });

  it('matches_regex, json_valid, latency_under and success', () => {
    expect(rule(config({ type: 'matches_regex', pattern: '^hello', flags: 'i' }), run()).score).toBe(1);
    expect(rule(config({ type: 'matches_regex', pattern: '^bye' }), run()).reason).toBe('output does not match /^bye/');
    expect(rule(config({ type: 'json_valid' }), run({ output: '{"a":1}' })).score).toBe(1);
    expect(rule(config({ type: 'json_valid' }), run({ output: { a: 1 } })).score).toBe(1);
    expect(rule(config({ type: 'json_valid' }), run({ output: '{a:1}' })).reason).toMatch(/^output is not valid JSON: /);
    expect(rule(config({ type: 'latency_under', max_ms: 12 }), run()).reason).toBe('took 12 ms, not under 12 ms');
    expect(rule(config({ type: 'latency_under', max_ms: 5 }), run({ duration_ms: 41.644 })).reason).toBe('took 41.6 ms, not under 5 ms');
    expect(rule(config({ type: 'latency_under', max_ms: 13 }), run()).score).toBe(1);
    expect(rule(config({ type: 'success' }), run({ status: 'timeout' })).reason).toBe('timed out');
    expect(rule(config({ type: 'success' }), run({ status: 'error', error: { name: 'TypeError', message: 'x is undefined' } })).reason).toBe('ended in error: TypeError: x is undefined');
  });

  it('similarity compares with the baseline run, and has nothing to say without one', () => {
    const c = config({ type: 'similarity', threshold: 0.8 });
    expect(rule(c, run())).toEqual({ score: null, reason: 'no baseline run to compare with' });
    expect(rule(c, run(), run()).score).toBe(1);
    const far = rule(c, run({ output: 'Goodbye' }), run());
    expect(far.score).toBeLessThan(0.3);
    expect(far.reason).toMatch(/% like the baseline's output, under 80%$/);
  });

  it('similarity ignores case and spacing, and counts repeated bigrams once each', () => {
    expect(similarity('Hello  World', 'hello world')).toBe(1);
    expect(similarity('night', 'nacht')).toBeCloseTo(0.25);
    expect(similarity('aaaa', 'aa')).toBeCloseTo(0.5);
    expect(similarity('', 'a')).toBe(0);
    expect(similarity('The order ships tomorrow.', 'Your order ships tomorrow!')).toBeGreaterThan(0.7);
  });
});

describe('the judge', () => {
  it.each([
    ['{"score": 0.8, "reason": "good"}', { score: 0.8, reason: 'good' }],
    ['```json\n{"score": "7", "reason": "fine"}\n```', { score: 0.7, reason: 'fine' }],
    ['Here you go: {"score": 85, "reason": "mostly"} Thanks', { score: 0.85, reason: 'mostly' }],
    ['Score: 8/10. Polite and on topic.', { score: 0.8, reason: 'Polite and on topic.' }],
    ['score = 0.25 - it ignores the question', { score: 0.25, reason: 'it ignores the question' }],
    ['4 out of 5: clear', { score: 0.8, reason: 'clear' }],
    ['1', { score: 1, reason: 'no reason given' }],
  ])('reads %j', (text, expected) => {
    expect(parseJudgement(text)).toEqual(expected);
  });

  it.each(['I cannot grade this.', '{"score": "high"}', 'Score: 12/10', '{"score": -1}', ''])('finds no score in %j', (text) => {
    expect(parseJudgement(text)).toBeUndefined();
  });

  it('asks once for the same rubric, input and output, and turns a failed request into a skip', async () => {
    const asked: unknown[] = [];
    const judge = createJudge(
      {
        complete: async (request) => {
          asked.push(request);
          if (asked.length > 1) {
            const { LlmError } = await import('../../src/experiment/llm-client');
            throw new LlmError('HTTP 500 after 1 attempt: down', 'http', 1, 500);
          }
          return { content: '{"score": 1, "reason": "yes"}', attempts: 1 };
        },
      },
      'model-a',
      0,
    );
    const c = config({ type: 'llm_judge', rubric: 'Polite?', threshold: 0.7 });
    const [a, b] = await Promise.all([judge(c, run({ trace_id: 'a' })), judge(c, run({ trace_id: 'b' }))]);
    expect(a).toEqual({ score: 1, reason: 'yes' });
    expect(b).toBe(a);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ temperature: 0, model: 'model-a' });
    expect(await judge({ ...c, model: 'model-b' }, run())).toEqual({ score: null, reason: 'the judge could not be reached: HTTP 500 after 1 attempt: down' });
  });
});

describe('scoring', () => {
  const result = (name: string, score: number | null, weight = 1, threshold = 1) =>
    evaluatorResult({ type: 'contains', name, weight, threshold }, { score, reason: `${name} says so` });

  it('passes an evaluator at its threshold and skips one without a score', () => {
    expect(result('judge', 0.7, 1, 0.7)).toMatchObject({ passed: true, skipped: false });
    expect(result('judge', 0.69, 1, 0.7)).toMatchObject({ passed: false, skipped: false });
    expect(result('judge', null)).toMatchObject({ passed: false, skipped: true, score: null });
  });

  it('weighs the evaluators that passed, against the threshold', () => {
    const results = [result('a', 1), result('b', 0, 2), result('c', null)];
    expect(scoreRun(results, 1)).toEqual({ score: 0.333, passed: false, reasons: ['b: b says so', 'c: skipped, c says so'] });
    expect(scoreRun(results, 0.3).passed).toBe(true);
    expect(scoreRun([result('a', 1), result('b', 1), result('c', 0)], 2 / 3).passed).toBe(true);
    expect(scoreRun([result('a', 1), result('b', 1), result('c', 0)], 0.667).passed).toBe(true);
    expect(scoreRun([result('a', 1), result('b', 1), result('c', 0)], 0.668).passed).toBe(false);
  });

  it('fails a run that no evaluator could judge, and passes one of weight-0 evaluators only', () => {
    expect(scoreRun([result('a', null)], 0)).toMatchObject({ score: 0, passed: false });
    expect(scoreRun([result('a', 0, 0)], 1)).toMatchObject({ score: 1, passed: true });
  });
});

describe('comparison', () => {
  const trace = (trace_id: string, input: string, passed: boolean, fields: Partial<TraceEvaluation> = {}): TraceEvaluation => ({
    trace_id,
    input,
    iteration: 0,
    recording_index: 0,
    recording_line: 3,
    status: 'ok',
    duration_ms: 10,
    metadata: {},
    score: passed ? 1 : 0,
    passed,
    reasons: passed ? [] : [`${input} failed`],
    evaluators: [],
    ...fields,
  });

  it('pairs by recording index, input and iteration, a repeated input in order', () => {
    const baseline = [trace('b1', 'x', true), trace('b2', 'x', true), trace('b3', 'y', true, { iteration: 1 }), trace('b4', 'z', true)];
    // c6 has b4's line, in another file the recording was rotated to: another recording.
    const current = [
      trace('c1', 'x', true),
      trace('c2', 'y', true, { iteration: 1 }),
      trace('c3', 'x', true),
      trace('c4', 'x', true),
      trace('c5', 'z', true, { recording_index: 9 }),
      trace('c6', 'z', true, { recording_index: 4, recording_file: 'recordings/args_recording.2026-01-01T00-00-00.000Z.jsonl' }),
    ];
    const { pairs, missing } = pairRuns(current, baseline);
    expect(pairs.map((p) => p?.trace_id)).toEqual(['b1', 'b3', 'b2', undefined, undefined, undefined]);
    expect(missing.map((m) => m.trace_id)).toEqual(['b4']);
  });

  it('lists regressions, fixes, new and missing runs, and the changes in rates and latency', () => {
    const baseline = [trace('b1', 'a', true), trace('b2', 'b', false), trace('b3', 'c', true), trace('b4', 'gone', true, { duration_ms: 30 })];
    const current = [trace('c1', 'a', false, { duration_ms: 50, status: 'error' }), trace('c2', 'b', true), trace('c3', 'c', true), trace('c4', 'new', false)];
    const c = compare('experiments/base', current, baseline);
    expect(c.regressions).toEqual([{ trace_id: 'c1', baseline_trace_id: 'b1', input: 'a', iteration: 0, recording_index: 0, recording_line: 3, reasons: ['a failed'], score: 0, baseline_score: 1 }]);
    expect(c.fixes).toEqual([{ trace_id: 'c2', baseline_trace_id: 'b2', input: 'b', iteration: 0, recording_index: 0, recording_line: 3, reasons: ['b failed'], score: 1, baseline_score: 0 }]);
    expect(c.new_runs.map((r) => [r.trace_id, r.baseline_trace_id])).toEqual([['c4', null]]);
    expect(c.missing_runs.map((r) => [r.trace_id, r.score, r.baseline_score])).toEqual([['b4', null, 1]]);
    expect(c.counts).toEqual({ regressions: 1, fixes: 1, new_runs: 1, missing_runs: 1, still_passing: 1, still_failing: 0 });
    expect(c.pass_rate).toEqual({ baseline: 0.75, current: 0.5, delta: -0.25 });
    expect(c.success_rate).toEqual({ baseline: 1, current: 0.75, delta: -0.25 });
    expect(c.latency_ms).toEqual({ p50: { baseline: 10, current: 10, delta: 0 }, p95: { baseline: 30, current: 50, delta: 20 } });
  });
});

const parse = (text: string) => parseEvaluationConfig(text, 'configs/evaluation.yaml');

describe('evaluation config', () => {
  const errorOf = (text: string): ConfigError => {
    try {
      parse(text);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('no error');
  };

  it('fills in defaults: success and output_not_empty, all must pass, the judge at temperature 0', () => {
    const c = parse('');
    expect(c.pass_threshold).toBe(1);
    expect(c.pass_rate_threshold).toBeNull();
    expect(c.evaluators.map((e) => e.type)).toEqual(['success', 'output_not_empty']);
    expect(c.llm).toMatchObject({ model: 'gpt-4o-mini', temperature: 0 });
  });

  it('reads the section bare or under evaluation:, numbering repeated types', () => {
    const yaml = 'pass_threshold: 0.5\nevaluators:\n  - type: contains\n    value: a\n  - type: contains\n    value: b\n    weight: 2\n  - type: llm_judge\n    rubric: Polite?\n    model: big\nllm:\n  base_url: http://127.0.0.1:9/v1\n';
    const bare = parse(yaml);
    expect(bare.evaluators).toEqual([
      { type: 'contains', name: 'contains', weight: 1, threshold: 1, value: 'a' },
      { type: 'contains', name: 'contains_2', weight: 2, threshold: 1, value: 'b' },
      { type: 'llm_judge', name: 'llm_judge', weight: 1, threshold: 0.7, rubric: 'Polite?', model: 'big' },
    ]);
    expect(bare.llm.base_url).toBe('http://127.0.0.1:9/v1');
    const wrapped = parse(`evaluation:\n${yaml.replace(/^/gm, '  ')}`);
    expect(wrapped.evaluators).toEqual(bare.evaluators);
    expect(parse('evaluators: [success, json_valid]').evaluators.map((e) => e.name)).toEqual(['success', 'json_valid']);
  });

  it('reads pass_rate_threshold, bare or under evaluation:', () => {
    expect(parse('pass_rate_threshold: 0.8\n').pass_rate_threshold).toBe(0.8);
    expect(parse('evaluation:\n  pass_rate_threshold: 1\n').pass_rate_threshold).toBe(1);
    expect(parse('pass_rate_threshold: 0\n').pass_rate_threshold).toBe(0);
    expect(parse('pass_rate_threshold:\n').pass_rate_threshold).toBeNull();
  });

  it.each([
    ['evaluators:\n  - type: contains\n    name: x\n    value: a\n  - type: success\n    name: x\n', 5, 'evaluators[1].name', 'duplicate evaluator name "x"'],
    ['evaluators:\n  - value: a\n', 2, 'evaluators[0]', 'has no "type"'],
    ['evaluators:\n  - type: llm_judge\n', 2, 'evaluators[0]', 'llm_judge needs "rubric"'],
    ['evaluators:\n  - type: similarity\n    threshold: 1.5\n', 3, 'evaluators[0].threshold', 'must be a number from 0 to 1'],
    ['evaluators:\n  - type: latency_under\n    max_ms: fast\n', 3, 'evaluators[0].max_ms', 'must be a number'],
    ['evaluators:\n  - type: matches_regex\n    pattern: a\n    flags: q\n', 4, 'evaluators[0].flags', 'is not a valid regular expression'],
    ['evaluators:\n  - type: success\n    value: x\n', 3, 'evaluators[0] (success).value', 'unknown key "value"'],
    ['evaluators: success\n', 1, 'evaluators', 'must be a list of evaluators'],
    ['llm:\n  system_prompt: hi\n', 2, 'llm.system_prompt', 'unknown key "system_prompt" under llm'],
    ['evaluation:\n  evaluators: [success]\nname: x\n', 3, 'name', 'unknown key "name" at the top level'],
    ['evaluators: []\n', 1, 'evaluators', 'must list at least one evaluator'],
    ['evaluators:\n  - sucess\n', 2, 'evaluators[0]', 'unknown evaluator type "sucess"; did you mean "success"?'],
    ['evaluators:\n  - contains\n', 2, 'evaluators[0]', 'contains needs "value"'],
    ['thresold: 1\n', 1, 'thresold', 'unknown key "thresold" at the top level'],
    ['evaluators: [success]\npass_rate_threshold: 80\n', 2, 'pass_rate_threshold', 'must be a number from 0 to 1, found 80; for 80% write 0.8'],
    ['pass_rate_threshold: "90%"\n', 1, 'pass_rate_threshold', 'must be a number from 0 to 1, found "90%"; for 90% write 0.9'],
    ['pass_rate_threshold: -0.1\n', 1, 'pass_rate_threshold', 'must be a number from 0 to 1, found -0.1'],
    ['pass_rate_threshold: high\n', 1, 'pass_rate_threshold', 'must be a number from 0 to 1'],
    ['evaluation:\n  evaluators: [success]\n  pass_rate_threshold: 1.5\n', 3, 'evaluation.pass_rate_threshold', 'must be a number from 0 to 1, found 1.5'],
    ['pass_rate_treshold: 0.8\n', 1, 'pass_rate_treshold', 'did you mean "pass_rate_threshold"?'],
  ])('points at the mistake in %j', (yaml, line, field, message) => {
    const error = errorOf(yaml);
    expect(error.location).toMatchObject({ file: 'configs/evaluation.yaml', line, field });
    expect(error.message).toContain(message);
  });

  describe('conversation evaluators in the config', () => {
    it('reads max_turns_under, terminated_by and llm_judge scope', () => {
      const c = parse(
        'evaluators:\n  - type: max_turns_under\n    max_turns: 5\n  - type: terminated_by\n    reasons: [user_satisfied]\n  - type: llm_judge\n    rubric: Solved?\n    scope: conversation\n',
      );
      expect(c.evaluators).toEqual([
        { type: 'max_turns_under', name: 'max_turns_under', weight: 1, threshold: 1, max_turns: 5 },
        { type: 'terminated_by', name: 'terminated_by', weight: 1, threshold: 1, reasons: ['user_satisfied'] },
        { type: 'llm_judge', name: 'llm_judge', weight: 1, threshold: 0.7, rubric: 'Solved?', scope: 'conversation' },
      ]);
    });

    it.each([
      ['evaluators:\n  - type: max_turns_under\n', 2, 'evaluators[0]', 'max_turns_under needs "max_turns"'],
      ['evaluators:\n  - type: max_turns_under\n    max_turns: 1\n', 3, 'evaluators[0].max_turns', 'must be an integer from 2 to 1000, found 1'],
      ['evaluators:\n  - type: terminated_by\n', 2, 'evaluators[0]', 'terminated_by needs "reasons"'],
      ['evaluators:\n  - type: terminated_by\n    reasons: []\n', 3, 'evaluators[0].reasons', 'must list at least one termination reason'],
      ['evaluators:\n  - type: terminated_by\n    reasons: user_satisfied\n', 3, 'evaluators[0].reasons', 'must be a list of strings'],
      ['evaluators:\n  - type: terminated_by\n    reasons: ["ok", ""]\n', 3, 'evaluators[0].reasons[1]', 'must not be empty'],
      ['evaluators:\n  - type: llm_judge\n    rubric: x\n    scope: chat\n', 4, 'evaluators[0].scope', 'must be one of turn, conversation, found "chat"'],
      ['evaluators:\n  - type: contains\n    value: x\n    scope: conversation\n', 4, 'evaluators[0] (contains).scope', 'unknown key "scope"'],
    ])('points at the mistake in %j', (yaml, line, field, message) => {
      const error = errorOf(yaml);
      expect(error.location).toMatchObject({ file: 'configs/evaluation.yaml', line, field });
      expect(error.message).toContain(message);
    });
  });
});

describe('the pass-rate gate', () => {
  it('reads --min-pass-rate as a share or a percentage, and refuses anything else', () => {
    expect(parseRate('0.8')).toBe(0.8);
    expect(parseRate('.75')).toBe(0.75);
    expect(parseRate('1')).toBe(1);
    expect(parseRate('0')).toBe(0);
    expect(parseRate('80%')).toBe(0.8);
    expect(parseRate('100%')).toBe(1);
    expect(parseRate('12.5%')).toBe(0.125);
    expect(() => parseRate('80')).toThrow('must be a share from 0 to 1 or a percentage, found 80; for 80% write 0.8 or 80%');
    expect(() => parseRate('150%')).toThrow('must be at most 100%, found 150%');
    expect(() => parseRate('-0.5')).toThrow('must be a share from 0 to 1 (0.8) or a percentage (80%), found "-0.5"');
    expect(() => parseRate('high')).toThrow('found "high"');
    expect(() => parseRate('')).toThrow('found ""');
    expect(() => parseRate('0.8.1')).toThrow();
  });

  const source = { source: 'configs/evaluation.yaml' };

  it('takes the flag over the config, and sets no gate without either', () => {
    expect(passRateGate(0.6, { ...source, pass_rate_threshold: null })).toBeNull();
    expect(passRateGate(0.6, { ...source, pass_rate_threshold: 0.8 })).toEqual({ min_pass_rate: 0.8, source: 'configs/evaluation.yaml (pass_rate_threshold)', passed: false });
    expect(passRateGate(0.6, { ...source, pass_rate_threshold: 0.8 }, 0.5)).toEqual({ min_pass_rate: 0.5, source: '--min-pass-rate', passed: true });
    expect(passRateGate(0.6, { ...source, pass_rate_threshold: null }, 0.6)!.passed).toBe(true);
    // As shown, to a tenth of a percent: 2 of 3 runs are 66.7%, which reaches a minimum of 66.7%.
    expect(passRateGate(2 / 3, { ...source, pass_rate_threshold: 0.667 })!.passed).toBe(true);
    expect(passRateGate(0.665, { ...source, pass_rate_threshold: 0.667 })!.passed).toBe(false);
    expect(passRateGate(0, { ...source, pass_rate_threshold: 0 })!.passed).toBe(true);
  });

  it('says the verdict plainly', () => {
    const gate = { min_pass_rate: 0.8, source: '--min-pass-rate', passed: false };
    expect(gateVerdict({ gate, pass_rate: 0.4, passed: 2, total: 5 })).toBe('FAILED: pass rate 40% (2 of 5 runs) is below the minimum 80%');
    expect(gateVerdict({ gate: { ...gate, min_pass_rate: 0.4, passed: true }, pass_rate: 0.4, passed: 2, total: 5 })).toBe('PASSED: pass rate 40% (2 of 5 runs) reaches the minimum 40%');
    expect(gateVerdict({ gate: null, pass_rate: 0.4, passed: 2, total: 5 })).toBeNull();
  });

  it('knows when only the default evaluators run', () => {
    expect(defaultEvaluatorsOnly(parse(''))).toBe(true);
    expect(defaultEvaluatorsOnly(parse('evaluators: [success]'))).toBe(true);
    expect(defaultEvaluatorsOnly(parse('evaluators:\n  - output_not_empty\n  - type: success\n    weight: 2\n'))).toBe(true);
    expect(defaultEvaluatorsOnly(parse('evaluators: [success, json_valid]'))).toBe(false);
  });
});
