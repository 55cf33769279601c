import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectSameRun, project, readExperiment, readRecords, recordingPath, recordTwice, runCli, type Experiment, type RecordLine } from './helpers';

// The fixture records one call of each function: a tree 10,000 deep, a 700 KB Buffer, and an
// emitter with a `then` method, as some query builders have.
const TARGETS = ['app/agent.js:deep', 'app/agent.js:bytes', 'app/agent.js:listen'];
const BYTES = 700 * 1024;
const DEPTH = 10_000;
const STACK = /\n\s+at /;

let dir: string;
let records: RecordLine[];

/** Writes configs/simulation.yaml (JSON is YAML) to replay `target` with input "hi" at kwargs.message. */
function writeConfig(target: string, replayArgs: Record<string, unknown> = {}): void {
  const config = {
    recording: { targets: TARGETS },
    // A hang is a failure here; it need not wait the default minute to show.
    runner: { target, timeout_ms: 10_000 },
    replay_args: { enabled: true, override_param_path: 'kwargs.message', ...replayArgs },
    base_inputs: ['hi'],
  };
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), JSON.stringify(config, null, 2) + '\n');
}

/** Replays `target` into experiments folder `name`: the command must exit 0, with no stack trace. */
async function replay(target: string, name: string, replayArgs: Record<string, unknown> = {}): Promise<Experiment> {
  writeConfig(target, replayArgs);
  const run = await runCli(dir, ['run', 'experiment', '--output', name]);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.stderr).not.toMatch(STACK);
  return readExperiment(dir, name);
}

/** How many `next` links the chain has, walked without recursion. */
function linksOf(tree: unknown): number {
  let links = 0;
  for (let node = tree as { next?: unknown }; typeof node.next === 'object' && node.next !== null; node = node.next as { next?: unknown }) links++;
  return links;
}

function recordOf(target: string): RecordLine {
  const found = records.filter((r) => r.target === target);
  expect(found).toHaveLength(1);
  return found[0]!;
}

beforeAll(async () => {
  dir = project('robust-agent');
  const { plain, recorded } = await recordTwice(dir);
  expectSameRun(plain, recorded);
  // Awaited, the app's Feed settles with 'feed' through its own `then`.
  expect(JSON.parse(plain.stdout)).toEqual([`hello:${DEPTH}`, `hello:${BYTES}:7:9`, 'hello:string:news']);
  records = readRecords(dir);
  expect(records.map((r) => r.target).sort()).toEqual([...TARGETS].sort());
});

describe('replaying hostile recordings', () => {
  it('replays the recorded deep tree', async () => {
    // As deep as the recorder kept it: the recorder may stop short of 10,000 with a marker at the bottom.
    const links = linksOf(recordOf('app/agent.js:deep').args[1]);
    expect(links).toBeGreaterThan(100);
    const { traces } = await replay('app/agent.js:deep', 'deep-recorded');
    expect(traces.map((t) => [t.status, t.output])).toEqual([['ok', `hi:${links}`]]);
  });

  it('replays a record nested 10,000 deep', async () => {
    // Written as the recorder writes a record, but to the full depth; as text, since
    // JSON.stringify itself overflows the stack at this depth.
    const deep = recordOf('app/agent.js:deep');
    const line = JSON.stringify({ ...deep, args: ['hello', '@TREE@'] }).replace('"@TREE@"', '{"next":'.repeat(DEPTH) + '{"leaf":true}' + '}'.repeat(DEPTH));
    fs.appendFileSync(recordingPath(dir), line + '\n');
    const { traces, summary } = await replay('app/agent.js:deep', 'deep-written', { select: 'last' });
    expect(summary.total_runs).toBe(1);
    expect(traces.map((t) => [t.status, t.output, t.error])).toEqual([['ok', `hi:${DEPTH}`, null]]);
  });

  it('replays a 700 KB Buffer, and does not count its decoding in duration_ms', async () => {
    const { traces, observations } = await replay('app/agent.js:bytes', 'bytes');
    expect(traces.map((t) => [t.status, t.output])).toEqual([['ok', `hi:${BYTES}:7:9`]]);
    // The run's own observation begins after the arguments are decoded and ends when the output
    // is read: the run's duration is that call, give or take the hop back to the runner, not the
    // decoding before it (which once took half a second here). The margin is for the hop on a
    // loaded machine (a collection of the 700 KB there), and an order of magnitude under the decoding.
    const root = observations.find((o) => o.trace_id === traces[0].trace_id && o.parent_id === null);
    expect(root.name).toBe('app/agent.js:bytes');
    expect(traces[0].duration_ms).toBeLessThanOrEqual(root.duration_ms + 50);
  });

  it('replays an emitter with a `then` method: awaiting its stand-in settles with the stand-in', async () => {
    const record = recordOf('app/agent.js:listen');
    expect(record.args[1]).toMatchObject({ $type: 'Emitter', class: 'Feed', value: { topic: 'news' } });
    expect((record.args[1] as { methods: string[] }).methods).toContain('then');
    const { traces } = await replay('app/agent.js:listen', 'listen');
    expect(traces.map((t) => [t.status, t.output])).toEqual([['ok', 'hi:itself:news']]);
  });
});

describe('run experiment --evaluate', () => {
  it('stops on a broken evaluation config before any run', async () => {
    writeConfig('app/agent.js:bytes');
    const evaluation = path.join(dir, 'configs', 'evaluation.yaml');
    fs.writeFileSync(evaluation, 'evaluators:\n  - type: success\n  - type: contains\n');
    try {
      const run = await runCli(dir, ['run', 'experiment', '--evaluate', '--output', 'evaluated']);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toContain(`${path.join('configs', 'evaluation.yaml')}:3`);
      expect(run.stderr).toContain('evaluators[1]');
      expect(run.stderr).toContain('contains needs "value"');
      expect(run.stderr).not.toMatch(STACK);
      expect(fs.existsSync(path.join(dir, 'evaluated'))).toBe(false);
    } finally {
      fs.rmSync(evaluation);
    }
  });
});
