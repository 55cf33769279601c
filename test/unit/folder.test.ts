import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors';
import { ExperimentFolder, type PlanFile } from '../../src/experiment/folder';
import type { PlanIdentity } from '../../src/experiment/identity';
import { RunSet } from '../../src/experiment/run-set';
import { parseShard, shardSize, shareOf } from '../../src/experiment/share';
import { CallsTally } from '../../src/experiment/tally';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const identity: PlanIdentity = { hash: 'aaaa', fluxloop_version: '1.0.0', project: 'p', parts: { project: 'p', inputs: 'i', recordings: 'r', options: 'o' } };
const line = (traceId: string, inputIndex: number, status = 'ok') =>
  JSON.stringify({ trace_id: traceId, iteration: 0, recording_index: null, input_index: inputIndex, input: `m${inputIndex}`, target: 't', status, error: status === 'ok' ? null : { type: 'Error', message: 'no' }, warnings: [], duration_ms: 5, attempts: 1 });

/** A folder as a process killed mid-write leaves it: half a trace line, half an errors.json, an observation of a run never written. */
function killedFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-folder-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify({ ...identity, shard: null, started_at: '2026-01-01T00:00:00.000Z' } satisfies PlanFile));
  fs.writeFileSync(path.join(dir, 'traces.jsonl'), `${line('t1', 0)}\n${line('t2', 1, 'error')}\n${line('t3', 2).slice(0, 40)}`);
  fs.writeFileSync(path.join(dir, 'observations.jsonl'), `${JSON.stringify({ trace_id: 't1', name: 'a' })}\n${JSON.stringify({ trace_id: 't3', name: 'b' })}\n`);
  fs.writeFileSync(path.join(dir, 'errors.json'), `[\n  {\n    "stray": "uncaughtException",\n    "trace_id": null\n  },\n  {\n    "trace_id": "t2",\n    "sta`);
  return dir;
}

describe('ExperimentFolder.reopen', () => {
  it('keeps the whole runs of a killed process, drops what it half wrote, and counts them again', async () => {
    const dir = killedFolder();
    const folder = await ExperimentFolder.reopen(dir, identity, undefined, new CallsTally({}), 3);
    expect([...folder.done.keys()]).toEqual(['0:-:0', '0:-:1']);
    expect(folder.totals.counts).toEqual({ ok: 1, error: 1, timeout: 0 });
    expect(folder.earlierStrays).toBe(1);
    expect(folder.resumes).toBe(1);
    folder.write({ result: JSON.parse(line('t4', 2)), line: line('t4', 2), observations: `${JSON.stringify({ trace_id: 't4', name: 'c' })}\n` });
    folder.close();
    expect(fs.readFileSync(path.join(dir, 'traces.jsonl'), 'utf8')).toBe(`${line('t1', 0)}\n${line('t2', 1, 'error')}\n${line('t4', 2)}\n`);
    expect(fs.readFileSync(path.join(dir, 'observations.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).trace_id)).toEqual(['t1', 't4']);
    const errors = JSON.parse(fs.readFileSync(path.join(dir, 'errors.json'), 'utf8'));
    expect(errors).toEqual([{ stray: 'uncaughtException', trace_id: null }, expect.objectContaining({ trace_id: 't2', status: 'error' })]);
  });

  it('keeps the observations of every run written, in whatever order, and drops only those of runs never written', async () => {
    const dir = killedFolder();
    const observation = (traceId: string, name: string) => JSON.stringify({ trace_id: traceId, name });
    // Not as a process writes them: t2's before t1's, a run never written between, and a line of no run.
    fs.writeFileSync(path.join(dir, 'observations.jsonl'), [observation('t2', 'a'), observation('gone', 'b'), JSON.stringify({ name: 'c' }), observation('t1', 'd'), observation('gone', 'e')].join('\n') + '\n');
    const folder = await ExperimentFolder.reopen(dir, identity, undefined, new CallsTally({}), 3);
    folder.close();
    const names = fs.readFileSync(path.join(dir, 'observations.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).name);
    expect(names).toEqual(['a', 'c', 'd']);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('leaves the observations as they were when a line of traces.jsonl cannot be read', async () => {
    const dir = killedFolder();
    const before = fs.readFileSync(path.join(dir, 'observations.jsonl'), 'utf8');
    fs.writeFileSync(path.join(dir, 'traces.jsonl'), `${line('t1', 0)}\nnot json\n${line('t2', 1)}\n`);
    await expect(ExperimentFolder.reopen(dir, identity, undefined, new CallsTally({}), 3)).rejects.toThrow(/not a run's JSON line/);
    expect(fs.readFileSync(path.join(dir, 'observations.jsonl'), 'utf8')).toBe(before);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reads an errors.json that a process killed before any error left empty', async () => {
    const dir = killedFolder();
    fs.writeFileSync(path.join(dir, 'errors.json'), '');
    const folder = await ExperimentFolder.reopen(dir, identity, undefined, new CallsTally({}), 3);
    folder.close();
    expect(folder.earlierStrays).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'errors.json'), 'utf8'))).toEqual([expect.objectContaining({ trace_id: 't2' })]);
  });

  it('refuses a folder of another plan or another shard, naming what differs', async () => {
    const dir = killedFolder();
    const other = { ...identity, hash: 'bbbb', parts: { ...identity.parts, inputs: 'j' } };
    await expect(ExperimentFolder.reopen(dir, other, undefined, new CallsTally({}), 3)).rejects.toThrow(/holds another plan \(aaaa, this one is bbbb\): the inputs differ/);
    await expect(ExperimentFolder.reopen(dir, identity, { index: 1, count: 2 }, new CallsTally({}), 3)).rejects.toThrow(/holds the whole plan, not shard 1\/2/);
    await expect(ExperimentFolder.reopen(path.join(dir, 'nope'), identity, undefined, new CallsTally({}), 3)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('shares of a plan', () => {
  async function* plans(n: number) {
    for (let i = 0; i < n; i++) yield { traceId: `t${i}`, iteration: 0, inputIndex: i, input: { input: `m${i}`, metadata: {} } };
  }
  const collect = async (shard: { index: number; count: number } | undefined, done?: RunSet) => {
    const out: number[] = [];
    for await (const p of shareOf(plans(10), shard, done)) out.push(p.inputIndex);
    return out;
  };

  it('gives every run to exactly one shard, and shardSize counts each share', async () => {
    const shares = [await collect({ index: 1, count: 3 }), await collect({ index: 2, count: 3 }), await collect({ index: 3, count: 3 })];
    expect(shares).toEqual([[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]);
    expect([1, 2, 3].map((index) => shardSize(10, { index, count: 3 }))).toEqual([4, 3, 3]);
    expect(shardSize(2, { index: 3, count: 3 })).toBe(0);
    const done = new RunSet(10);
    for (const input of [1, 5]) done.add({ iteration: 0, recording_index: null, input_index: input });
    expect(await collect(undefined, done)).toEqual([0, 2, 3, 4, 6, 7, 8, 9]);
  });

  it('keeps the runs of a plan a bit each, and any other run by its key', () => {
    const done = new RunSet(3);
    const run = (iteration: number, recording: number | null, input: number) => ({ iteration, recording_index: recording, input_index: input });
    for (const r of [run(0, 2, 1), run(1, null, 0), run(0, 0, 2), run(0, 2, 1), run(0, 7, 5), run(0, 1_999_999, 2)]) done.add(r);
    expect(done.size).toBe(5);
    expect([run(0, 2, 1), run(1, null, 0), run(0, 0, 2), run(0, 7, 5), run(0, 1_999_999, 2)].every((r) => done.has(r))).toBe(true);
    expect([run(0, 2, 0), run(1, null, 1), run(2, 2, 1), run(0, null, 0), run(0, 7, 4), run(0, 1_999_999, 1)].some((r) => done.has(r))).toBe(false);
    expect([...done.keys()]).toEqual(['0:0:2', '0:2:1', '0:1999999:2', '1:-:0', '0:7:5']);
  });

  it('reads i/n, and says what is wrong with anything else', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard('0/3')).toMatch(/1 ≤ i ≤ n/);
    expect(parseShard('4/3')).toMatch(/1 ≤ i ≤ n/);
    expect(parseShard('two')).toMatch(/must be i\/n/);
  });
});
