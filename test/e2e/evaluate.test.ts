import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chatReply, startFakeLlm, type FakeLlm } from '../fake-llm';
import { project, recordedOnce, runCli, type CliRun } from './helpers';

const STACK = /\n\s+at /;
const KEY = 'sk-judge-93c1f0a7d2';

async function cli(dir: string, args: string[], code = 0, env: Record<string, string> = {}): Promise<CliRun> {
  const run = await runCli(dir, args, env);
  expect(run.code, run.stdout + run.stderr).toBe(code);
  expect(run.stderr).not.toMatch(STACK);
  return run;
}

const recording = recordedOnce('eval-app', (app) => expect(app.code, app.stderr).toBe(0));

/** A new project with a copy of the recordings that `node --import fluxloop/register` made, ready to replay. */
async function recorded(): Promise<string> {
  const source = await recording();
  const dir = project('eval-app');
  fs.cpSync(path.join(source, 'recordings'), path.join(dir, 'recordings'), { recursive: true });
  return dir;
}

/** Runs an experiment with the agent at `version` and returns its folder, relative to the project. */
async function experiment(dir: string, version: '1' | '2', extra: string[] = []): Promise<string> {
  const run = await cli(dir, ['run', 'experiment', '--json', ...extra], 0, { AGENT_VERSION: version });
  return path.relative(dir, JSON.parse(run.stdout).experiment_dir);
}

const writeEvaluation = (dir: string, yaml: string) => fs.writeFileSync(path.join(dir, 'configs', 'evaluation.yaml'), yaml);
const json = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const perTrace = (dir: string, folder: string) =>
  fs.readFileSync(path.join(dir, folder, 'evaluation', 'per_trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

const RULES = `pass_threshold: 1.0
evaluators:
  - type: success
  - type: output_not_empty
  - type: not_contains
    value: "ERROR"
    weight: 2
  - type: matches_regex
    pattern: "^hello"
    flags: i
  - type: latency_under
    max_ms: 5000
`;

describe('fluxloop evaluate experiment', () => {
  it('scores each run with the default evaluators and writes per_trace.jsonl, summary.json and report.html', async () => {
    const dir = await recorded();
    const folder = await experiment(dir, '1');
    const run = await cli(dir, ['evaluate', 'experiment', folder]);
    // Two recordings × three inputs; "Please throw" fails in both.
    expect(run.stdout).toContain('Evaluation of ' + path.basename(folder) + ': 6 runs');
    expect(run.stdout).toMatch(/4 passed\s+2 failed/);
    const traces = perTrace(dir, folder);
    expect(traces).toHaveLength(6);
    const thrown = traces.filter((t) => t.input === 'Please throw');
    expect(thrown.map((t) => [t.passed, t.status])).toEqual([[false, 'error'], [false, 'error']]);
    expect(thrown[0].reasons).toEqual(['success: ended in error: Error: the agent fell over', 'output_not_empty: output is empty (null)']);
    expect(thrown[0]).toMatchObject({ iteration: 0, score: 0, recording_line: expect.any(Number), evaluators: [{ name: 'success', passed: false }, { name: 'output_not_empty', passed: false }] });
    const summary = json(path.join(dir, folder, 'evaluation', 'summary.json'));
    expect(summary).toMatchObject({ total: 6, passed: 4, failed: 2, pass_threshold: 1, gate: null, evaluation_config: '(defaults)', default_evaluators_only: true, counts: { ok: 4, error: 2, timeout: 0 }, comparison: null });
    expect(summary.pass_rate).toBeCloseTo(4 / 6);
    expect(summary.evaluators).toEqual([
      { name: 'success', type: 'success', weight: 1, passed: 4, failed: 2, skipped: 0, mean_score: 0.667 },
      { name: 'output_not_empty', type: 'output_not_empty', weight: 1, passed: 4, failed: 2, skipped: 0, mean_score: 0.667 },
    ]);
    const html = fs.readFileSync(path.join(dir, folder, 'report.html'), 'utf8');
    expect(html).toContain('the agent fell over');
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
  });

  it('finds the run that regressed against a baseline and exits 1 with --fail-on-regression', async () => {
    const dir = await recorded();
    writeEvaluation(dir, RULES);
    const baseline = await experiment(dir, '1');
    const current = await experiment(dir, '2');
    const run = await cli(dir, ['evaluate', 'experiment', current, '--baseline', baseline, '--fail-on-regression', '--junit', 'reports/junit.xml', '--markdown', 'reports/summary.md'], 1);
    expect(run.stdout).toContain(`Compared with ${baseline}`);
    expect(run.stdout).toMatch(/2 regressions\s+0 fixes\s+0 new\s+0 missing/);
    // One line a regression, which recording (index and line) telling apart the runs of one input.
    const rows = run.stdout.split('\n').filter((line) => line.includes('"Can I get a refund?"'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/^ {2}#\d+:\d+\s+0\s+"Can I get a refund\?"\s+not_contains: output contains "ERROR"; matches_regex: output does not match \/\^hello\/i$/);
    expect(new Set(rows.map((row) => row.trim().split(/\s+/)[0])).size).toBe(2);

    const { comparison } = json(path.join(dir, current, 'evaluation', 'summary.json'));
    expect(comparison.counts).toEqual({ regressions: 2, fixes: 0, new_runs: 0, missing_runs: 0, still_passing: 2, still_failing: 2 });
    expect(comparison.regressions.map((r: any) => r.input)).toEqual(['Can I get a refund?', 'Can I get a refund?']);
    // The weighted share that passed: success 1 + output_not_empty 1 + latency 1 of 6.
    expect(comparison.regressions[0]).toMatchObject({ score: 0.5, baseline_score: 1, baseline_trace_id: expect.any(String) });
    expect(comparison.pass_rate.delta).toBeCloseTo(-2 / 6);
    expect(comparison.success_rate).toEqual({ baseline: 4 / 6, current: 4 / 6, delta: 0 });
    expect(Object.keys(comparison.latency_ms)).toEqual(['p50', 'p95']);
    // The baseline's folder is read, not written.
    expect(fs.existsSync(path.join(dir, baseline, 'evaluation'))).toBe(false);

    const xml = new XMLParser({ ignoreAttributes: false }).parse(fs.readFileSync(path.join(dir, 'reports', 'junit.xml'), 'utf8'));
    expect(xml.testsuites['@_tests']).toBe('6');
    expect(xml.testsuites['@_failures']).toBe('4');
    const markdown = fs.readFileSync(path.join(dir, 'reports', 'summary.md'), 'utf8');
    expect(markdown).toContain('2 regressions');
    expect(markdown).toContain('Can I get a refund?');
  });

  it('exits 0 when nothing regressed, and reports a fix', async () => {
    const dir = await recorded();
    writeEvaluation(dir, RULES);
    const baseline = await experiment(dir, '2');
    const current = await experiment(dir, '1');
    const run = await cli(dir, ['evaluate', 'experiment', current, '--baseline', baseline, '--fail-on-regression']);
    expect(run.stdout).toMatch(/0 regressions\s+2 fixes/);
  });

  it('pairs runs by recording, input and iteration, and lists new and missing runs', async () => {
    const dir = await recorded();
    const baseline = await experiment(dir, '1', ['--limit', '4']);
    const current = await experiment(dir, '1', ['--iterations', '2', '--limit', '8']);
    await cli(dir, ['evaluate', 'experiment', current, '--baseline', baseline, '--no-report']);
    const { comparison } = json(path.join(dir, current, 'evaluation', 'summary.json'));
    expect(comparison.counts.new_runs).toBe(4);
    expect(comparison.counts.missing_runs).toBe(0);
    expect(comparison.counts.still_passing + comparison.counts.still_failing).toBe(4);
    expect(comparison.new_runs.every((r: any) => r.baseline_trace_id === null)).toBe(true);
    expect(fs.existsSync(path.join(dir, current, 'report.html'))).toBe(false);
    // The other way round, the runs of the second iteration are missing.
    await cli(dir, ['evaluate', 'experiment', baseline, '--baseline', current, '--no-report']);
    expect(json(path.join(dir, baseline, 'evaluation', 'summary.json')).comparison.counts.missing_runs).toBe(4);
  });

  it('evaluates the latest experiment when no folder is named, and straight after `run experiment --evaluate`', async () => {
    const dir = await recorded();
    const run = await cli(dir, ['run', 'experiment', '--evaluate']);
    expect(run.stdout).toMatch(/Experiment support: 6 runs/);
    expect(run.stdout).toMatch(/Evaluation of support_\d{8}_\d{6}: 6 runs/);
    const [folder] = fs.readdirSync(path.join(dir, 'experiments'));
    expect(fs.existsSync(path.join(dir, 'experiments', folder!, 'evaluation', 'summary.json'))).toBe(true);
    const again = await cli(dir, ['evaluate', 'experiment', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ experiment: folder, total: 6, passed: 4 });
  });

  it('reads the evaluation section of simulation.yaml, and refuses both files at once', async () => {
    const dir = await recorded();
    fs.appendFileSync(path.join(dir, 'configs', 'simulation.yaml'), 'evaluation:\n  evaluators:\n    - type: contains\n      value: "open at"\n');
    const folder = await experiment(dir, '1');
    const run = await cli(dir, ['evaluate', 'experiment', folder]);
    expect(run.stdout).toMatch(/2 passed\s+4 failed/);
    writeEvaluation(dir, RULES);
    const both = await cli(dir, ['evaluate', 'experiment', folder], 2);
    expect(both.stderr).toContain('evaluation is configured twice, in configs/evaluation.yaml and under "evaluation:" in configs/simulation.yaml');
  });

  it('points at the line and field of a config mistake, with exit code 2', async () => {
    const dir = await recorded();
    const folder = await experiment(dir, '1');
    const cases: Array<[string, RegExp]> = [
      ['evaluators:\n  - type: not_contain\n    value: x\n', /configs\/evaluation\.yaml:2:11 \(evaluators\[0\]\.type\): unknown evaluator type "not_contain"; did you mean "not_contains"\?/],
      ['evaluators:\n  - type: contains\n', /configs\/evaluation\.yaml:2:5 \(evaluators\[0\]\): contains needs "value"/],
      ['evaluators:\n  - type: matches_regex\n    pattern: "(unclosed"\n', /configs\/evaluation\.yaml:3:14 \(evaluators\[0\]\.pattern\): is not a valid regular expression/],
      ['pass_threshold: 2\n', /configs\/evaluation\.yaml:1:17 \(pass_threshold\): must be a number from 0 to 1, found 2/],
      ['evaluators: [success]\npass_rate_threshold: 80\n', /configs\/evaluation\.yaml:2:22 \(pass_rate_threshold\): must be a number from 0 to 1, found 80; for 80% write 0\.8/],
      ['evaluators:\n  - type: success\n    wieght: 2\n', /evaluation\.yaml:3:5 \(evaluators\[0\] \(success\)\.wieght\): unknown key "wieght".*did you mean "weight"\?/],
      ['llm:\n  api_key: sk-123\n', /evaluation\.yaml:2:3 \(llm\.api_key\): an API key does not belong in the config file/],
    ];
    for (const [yaml, message] of cases) {
      writeEvaluation(dir, yaml);
      const run = await cli(dir, ['evaluate', 'experiment', folder], 2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toContain('sk-123');
    }
    fs.rmSync(path.join(dir, 'configs', 'evaluation.yaml'));
    expect((await cli(dir, ['evaluate', 'experiment', 'experiments/nope'], 2)).stderr).toContain('experiments/nope does not exist');
    expect((await cli(dir, ['evaluate', 'experiment', folder, '--fail-on-regression'], 2)).stderr).toContain('--fail-on-regression needs --baseline');
  });

  it('reads a cut last line of traces.jsonl as a warning, not a failure', async () => {
    const dir = await recorded();
    const folder = await experiment(dir, '1');
    fs.appendFileSync(path.join(dir, folder, 'traces.jsonl'), '{"trace_id": "cut');
    const run = await cli(dir, ['evaluate', 'experiment', folder]);
    expect(run.stderr).toMatch(/traces\.jsonl:7: not JSON, skipped \(a cut last line/);
    expect(run.stdout).toContain('6 runs');
  });
});

describe('the pass-rate gate', () => {
  // One recorded project: 6 runs an experiment, 4 of which pass the default evaluators (66.7%).
  let dir: string;
  let folder: string;
  const gate = (f: string) => json(path.join(dir, f, 'evaluation', 'summary.json')).gate;
  beforeAll(async () => {
    dir = await recorded();
    folder = await experiment(dir, '1');
  });

  it('fails `run experiment --evaluate` below --min-pass-rate with exit 1, and passes it above', async () => {
    const below = await cli(dir, ['run', 'experiment', '--evaluate', '--min-pass-rate', '0.8'], 1);
    expect(below.stdout).toContain('FAILED: pass rate 66.7% (4 of 6 runs) is below the minimum 80%');
    const [first] = fs.readdirSync(path.join(dir, 'experiments')).filter((f) => f !== path.basename(folder));
    expect(gate(path.join('experiments', first!))).toEqual({ min_pass_rate: 0.8, source: '--min-pass-rate', passed: false });

    const above = await cli(dir, ['run', 'experiment', '--evaluate', '--min-pass-rate', '60%']);
    expect(above.stdout).toContain('PASSED: pass rate 66.7% (4 of 6 runs) reaches the minimum 60%');
    expect(above.stdout).not.toContain('FAILED');
  });

  it('holds `evaluate experiment` to pass_rate_threshold, the flag winning, with the verdict in summary.json, Markdown and JUnit', async () => {
    writeEvaluation(dir, 'pass_rate_threshold: 0.9\nevaluators:\n  - type: success\n  - type: contains\n    value: "thanks"\n');
    const below = await cli(dir, ['evaluate', 'experiment', folder, '--markdown', 'reports/summary.md', '--junit', 'reports/junit.xml'], 1);
    expect(below.stdout).toContain('FAILED: pass rate 66.7% (4 of 6 runs) is below the minimum 90%');
    expect(gate(folder)).toEqual({ min_pass_rate: 0.9, source: 'configs/evaluation.yaml (pass_rate_threshold)', passed: false });
    expect(fs.readFileSync(path.join(dir, 'reports', 'summary.md'), 'utf8')).toContain('**FAILED: pass rate 66.7% (4 of 6 runs) is below the minimum 90%**');
    const xml = new XMLParser({ ignoreAttributes: false }).parse(fs.readFileSync(path.join(dir, 'reports', 'junit.xml'), 'utf8'));
    expect(xml.testsuites['@_failures']).toBe('3');
    expect(xml.testsuites.testsuite[1].testcase.failure['@_message']).toBe('FAILED: pass rate 66.7% (4 of 6 runs) is below the minimum 90%');
    expect(fs.readFileSync(path.join(dir, folder, 'report.html'), 'utf8')).toContain('FAILED: pass rate 66.7% (4 of 6 runs) is below the minimum 90%');

    const above = await cli(dir, ['evaluate', 'experiment', folder, '--min-pass-rate', '0.5', '--json']);
    expect(JSON.parse(above.stdout).gate).toEqual({ min_pass_rate: 0.5, source: '--min-pass-rate', passed: true });
    // Real evaluators ran: no note about the default ones.
    expect((await cli(dir, ['evaluate', 'experiment', folder, '--min-pass-rate', '50%'])).stdout).not.toContain('default evaluators');
    fs.rmSync(path.join(dir, 'configs', 'evaluation.yaml'));
  });

  it('says, on the console, in the Markdown and in the report, when only the default evaluators ran', async () => {
    writeEvaluation(dir, 'evaluators: [success, output_not_empty]\n');
    const run = await cli(dir, ['evaluate', 'experiment', folder, '--markdown', 'reports/defaults.md']);
    const note = 'Only the default evaluators ran (success, output_not_empty): they check only that each run ended without an error and with some output, not that the output is right.';
    expect(run.stdout).toContain(note);
    expect(run.stdout).toContain('Add evaluators that check what it says to configs/evaluation.yaml: contains, not_contains, matches_regex');
    // No gate: the exit code does not hang on the pass rate, and the console says so.
    expect(run.stdout).toContain('No minimum pass rate set');
    expect(fs.readFileSync(path.join(dir, 'reports', 'defaults.md'), 'utf8')).toContain('Only the default evaluators ran');
    expect(fs.readFileSync(path.join(dir, folder, 'report.html'), 'utf8')).toContain(note);
    fs.rmSync(path.join(dir, 'configs', 'evaluation.yaml'));
  });

  it('refuses a rate it cannot read, and a gate without an evaluation, with exit 2', async () => {
    expect((await cli(dir, ['evaluate', 'experiment', folder, '--min-pass-rate', '80'], 2)).stderr).toContain('for 80% write 0.8 or 80%');
    expect((await cli(dir, ['evaluate', 'experiment', folder, '--min-pass-rate', 'most'], 2)).stderr).toContain('a share from 0 to 1 (0.8) or a percentage (80%)');
    expect((await cli(dir, ['run', 'experiment', '--min-pass-rate', '0.8'], 2)).stderr).toContain('--min-pass-rate needs --evaluate');
  });
});

describe('llm_judge', () => {
  let llm: FakeLlm | undefined;
  afterEach(async () => {
    await llm?.close();
    llm = undefined;
  });

  it('asks the judge with the rubric, reads JSON and plain replies, and skips what it cannot read', async () => {
    llm = await startFakeLlm(({ body }) => {
      const prompt: string = body.messages[1].content;
      if (prompt.includes('fell over')) return chatReply('I cannot grade this.');
      if (prompt.includes('open')) return chatReply('```json\n{"score": 0.9, "reason": "polite and answers"}\n```');
      return chatReply('Score: 4/10. It dodges the refund question.');
    });
    const dir = await recorded();
    fs.writeFileSync(path.join(dir, '.env'), `JUDGE_KEY=${KEY}\n`);
    writeEvaluation(
      dir,
      `evaluators:\n  - type: llm_judge\n    rubric: "Does the reply answer the question politely?"\nllm:\n  base_url: ${llm.url}\n  model: judge-1\n  api_key_env: JUDGE_KEY\n  max_retries: 0\n`,
    );
    const folder = await experiment(dir, '1');
    const run = await cli(dir, ['evaluate', 'experiment', folder]);
    // Six runs, but three distinct (input, output) pairs: the judge is asked once for each.
    expect(llm.requests).toHaveLength(3);
    const request = llm.requests[0]!;
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.body).toMatchObject({ model: 'judge-1', temperature: 0 });
    expect(request.body.messages[1].content).toContain('Rubric:\nDoes the reply answer the question politely?');

    const traces = perTrace(dir, folder);
    const byInput = (input: string) => traces.find((t) => t.input === input).evaluators[0];
    expect(byInput('When do you open?')).toMatchObject({ score: 0.9, passed: true, reason: 'polite and answers' });
    expect(byInput('Can I get a refund?')).toMatchObject({ score: 0.4, passed: false, reason: 'It dodges the refund question.' });
    expect(byInput('Please throw')).toMatchObject({ score: null, skipped: true });
    expect(run.stderr).toContain('llm_judge could not judge 2 of 6 runs');
    expect(run.stdout).toMatch(/2 passed\s+4 failed/);
    for (const text of [run.stdout, run.stderr, fs.readFileSync(path.join(dir, folder, 'report.html'), 'utf8')]) expect(text).not.toContain(KEY);
  });

  it('skips the judge when it cannot be reached, with one warning', async () => {
    llm = await startFakeLlm(() => ({ status: 503, body: 'overloaded' }));
    const dir = await recorded();
    writeEvaluation(dir, `evaluators:\n  - type: success\n  - type: llm_judge\n    rubric: "Polite?"\nllm:\n  base_url: ${llm.url}\n  max_retries: 0\n`);
    const folder = await experiment(dir, '1');
    const run = await cli(dir, ['evaluate', 'experiment', folder]);
    expect(run.stderr).toMatch(/llm_judge could not judge 6 of 6 runs, left out of their scores; the first: the judge could not be reached: HTTP 503/);
    // Scored on success alone.
    expect(run.stdout).toMatch(/4 passed\s+2 failed/);
  });
});
