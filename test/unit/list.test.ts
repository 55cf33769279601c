import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSimulationConfig } from '../../src/config/simulation.js';
import { formatDateTime } from '../../src/experiment/format.js';
import { listInputs } from '../../src/experiment/inputs.js';
import { experimentFolders, listExperiments } from '../../src/experiment/list.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-list-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Files under a fresh folder; the traces.jsonl of each experiment dated `at` seconds after 2025-01-01. */
function folder(files: Record<string, string>, dates: Record<string, number> = {}): string {
  const base = fs.mkdtempSync(path.join(tmp, 'b-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(base, name)), { recursive: true });
    fs.writeFileSync(path.join(base, name), text);
  }
  for (const [name, at] of Object.entries(dates)) {
    const when = new Date(Date.UTC(2025, 0, 1) + at * 1000);
    fs.utimesSync(path.join(base, name), when, when);
  }
  return base;
}

const SUMMARY = JSON.stringify({ name: 'support', ended: 'interrupted', started_at: '2025-01-02T09:00:00.000Z', finished_at: '2025-01-02T09:01:00.000Z', total_runs: 3, planned_runs: 6, success_rate: 2 / 3 });

describe('the experiments of a project', () => {
  it('are the folders with a traces.jsonl, written last first; a folder without summary.json has nulls', () => {
    const base = folder(
      {
        'old/traces.jsonl': '',
        'old/summary.json': SUMMARY,
        'old/evaluation/summary.json': JSON.stringify({ pass_rate: 0.5 }),
        'old/report.html': '<html>',
        'running/traces.jsonl': '',
        'broken/traces.jsonl': '',
        'broken/summary.json': '{"name": "cut',
        'notes/readme.md': 'not an experiment',
      },
      { 'old/traces.jsonl': 10, 'running/traces.jsonl': 30, 'broken/traces.jsonl': 20 },
    );
    expect(experimentFolders(base)).toEqual(['running', 'broken', 'old'].map((n) => path.join(base, n)));
    expect(experimentFolders(path.join(base, 'missing'))).toEqual([]);
    const [running, broken, old] = listExperiments(base);
    const nulls = { experiment: null, started_at: null, finished_at: null, ended: null, total_runs: null, planned_runs: null, success_rate: null, pass_rate: null, report: null };
    expect(running).toEqual({ dir: path.join(base, 'running'), name: 'running', ...nulls, files: [path.join(base, 'running', 'traces.jsonl')] });
    expect(broken).toMatchObject({ name: 'broken', ...nulls });
    const dir = path.join(base, 'old');
    expect(old).toEqual({
      dir,
      name: 'old',
      experiment: 'support',
      started_at: '2025-01-02T09:00:00.000Z',
      finished_at: '2025-01-02T09:01:00.000Z',
      ended: 'interrupted',
      total_runs: 3,
      planned_runs: 6,
      success_rate: 2 / 3,
      pass_rate: 0.5,
      report: path.join(dir, 'report.html'),
      files: ['evaluation/summary.json', 'report.html', 'summary.json', 'traces.jsonl'].map((f) => path.join(dir, f)),
    });
    expect(listExperiments(base, 2).map((e) => e.name)).toEqual(['running', 'broken']);
  });

  it('show their start in local time, to the minute', () => {
    const local = new Date(2025, 0, 2, 9, 5, 59);
    expect(formatDateTime(local.toISOString())).toBe('2025-01-02 09:05');
    expect(formatDateTime('not a date')).toBe('–');
  });
});

describe('listInputs', () => {
  it("gives each input of the config's inputs_file its index and line, metadata null when it has none", () => {
    const root = folder({
      'data/inputs.yaml': '# made by hand\ninputs:\n  - input: "Can I get a refund?"\n    metadata:\n      strategy: typo\n  - plain one\n  - &same {input: again}\n  - *same\nstats: {}\n',
    });
    const config = parseSimulationConfig('inputs_file: data/inputs.yaml\n');
    expect(listInputs(root, config)).toEqual({
      file: path.join(root, 'data', 'inputs.yaml'),
      exists: true,
      inputs: [
        { index: 0, line: 3, input: 'Can I get a refund?', metadata: { strategy: 'typo' } },
        { index: 1, line: 6, input: 'plain one', metadata: null },
        { index: 2, line: 7, input: 'again', metadata: null },
        { index: 3, line: 8, input: 'again', metadata: null },
      ],
    });
  });

  it('says the file does not exist, and refuses a broken one at its line', () => {
    const root = folder({ 'inputs/generated.yaml': 'inputs:\n  - input: 42\n' });
    expect(listInputs(root, parseSimulationConfig('inputs_file: inputs/none.yaml\n'))).toEqual({ file: path.join(root, 'inputs', 'none.yaml'), exists: false, inputs: [] });
    expect(() => listInputs(root, parseSimulationConfig(''))).toThrow(/^inputs\/generated\.yaml:2:12 \(inputs\[0\]\.input\): must be a string, found 42 \(number\)$/);
  });
});
