import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/errors';
import type { RunStatus } from '../replay/execute';
import { conversationSummary } from './conversation';
import { isConversation, type ConversationResult } from './conversation-result';
import type { FinishedRun, FinishedSummary } from './finished';
import { planDifference, type PlanIdentity } from './identity';
import { KeptObservations } from './kept-observations';
import { createExperimentDir, errorEntry, fileLines, JsonArray, JsonLines, writeJson } from './output';
import { RunSet } from './run-set';
import type { Shard } from './share';
import { Durations } from './stats';
import type { CallsTally } from './tally';

/** `plan.json`: what an experiment folder is a plan of, written before its first run. */
export interface PlanFile extends PlanIdentity {
  /** The share of the plan this folder holds (`--shard`); null for the whole plan. */
  shard: Shard | null;
  /** When its first runs started: resumes go on from it. */
  started_at: string;
}

/** What summary.json counts of the runs in a folder. */
export class Totals {
  readonly counts: Record<RunStatus, number> = { ok: 0, error: 0, timeout: 0 };
  warned = 0;
  readonly durations = new Durations();
  /** A multi-turn experiment's turns, and how its conversations ended. */
  turns = 0;
  readonly endings: Record<string, number> = {};

  add(result: FinishedSummary): void {
    this.counts[result.status]++;
    if (result.warnings.length > 0) this.warned++;
    this.durations.push(result.duration_ms);
    if (isConversation(result)) {
      this.turns += result.turn_count;
      this.endings[result.termination_reason] = (this.endings[result.termination_reason] ?? 0) + 1;
    }
  }
}

/** A traces.jsonl line read back, as the experiment counted it when the run finished. */
export function summaryOfLine(line: string): FinishedSummary {
  const value = JSON.parse(line) as FinishedSummary & { kind?: string };
  return value.kind === 'conversation' ? conversationSummary(value as unknown as ConversationResult) : value;
}

/** Reads a JSON file of a folder; undefined when it is missing or unreadable. */
export function readJsonFile<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * The stray errors an errors.json holds. One left open by a process that was killed has no
 * closing bracket, and perhaps half an entry: what is whole is kept.
 */
function straysOf(file: string): unknown[] {
  const isStray = (e: unknown) => typeof e === 'object' && e !== null && 'stray' in e;
  const whole = readJsonFile<unknown[]>(file);
  if (Array.isArray(whole)) return whole.filter(isStray);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // Each entry ends with a closing brace at its indent: the text up to the last is whole.
  const end = text.lastIndexOf('\n  }');
  try {
    return end < 0 ? [] : (JSON.parse(`${text.slice(0, end + 4)}\n]`) as unknown[]).filter(isStray);
  } catch {
    return [];
  }
}

/** Cuts a file back to its last whole line: a process killed mid-write leaves half of one. */
function dropTornLine(file: string): void {
  if (!fs.existsSync(file)) return;
  const size = fs.statSync(file).size;
  if (size === 0) return;
  const fd = fs.openSync(file, 'r+');
  try {
    const tail = Buffer.alloc(Math.min(size, 1 << 20));
    let end = size;
    // Only the tail is read: a whole run's line may be megabytes, but the file is gigabytes.
    while (end > 0) {
      const start = Math.max(0, end - tail.length);
      fs.readSync(fd, tail, 0, end - start, start);
      const at = tail.subarray(0, end - start).lastIndexOf(10);
      if (at !== -1) {
        if (start + at + 1 !== size) fs.ftruncateSync(fd, start + at + 1);
        return;
      }
      end = start;
    }
    fs.ftruncateSync(fd, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * An experiment's folder as runs are written into it: each run's observations, then its line in
 * traces.jsonl (so that a line means a whole run), then its error. A folder is made new, or
 * opened again to go on with its plan (`--resume`): then what it holds is counted again, and a
 * run half-written by a process that was killed is dropped, to be made again.
 */
export class ExperimentFolder {
  readonly totals = new Totals();
  /** Stray errors written by earlier processes. */
  earlierStrays = 0;
  /** The time earlier processes ran for. */
  earlierMs = 0;
  /** How many times the experiment was resumed, this time included. */
  resumes = 0;
  private readonly traces: JsonLines;
  private readonly observations: JsonLines;
  private readonly errors: JsonArray;

  private constructor(
    readonly dir: string,
    readonly plan: PlanFile,
    /** The runs the folder held when it was opened. */
    readonly done = new RunSet(1),
  ) {
    this.traces = new JsonLines(path.join(dir, 'traces.jsonl'));
    this.observations = new JsonLines(path.join(dir, 'observations.jsonl'));
    this.errors = new JsonArray(path.join(dir, 'errors.json'));
  }

  /** A new folder `<base>/<name>_<stamp>`, with its plan.json. */
  static create(base: string, name: string, plan: PlanFile): ExperimentFolder {
    const dir = createExperimentDir(base, name);
    writeJson(path.join(dir, 'plan.json'), plan);
    return new ExperimentFolder(dir, plan);
  }

  /**
   * `dir`, opened again to make the runs of `plan` it lacks. Refuses a folder of another plan (or
   * another share of it), naming what differs. Each run read back is counted in `tally` too.
   * `inputs` is how many inputs the plan has, by which the runs it holds are kept.
   */
  static async reopen(dir: string, plan: PlanIdentity, shard: Shard | undefined, tally: CallsTally, inputs: number): Promise<ExperimentFolder> {
    if (!fs.existsSync(dir)) throw new ConfigError(`--resume: ${dir} does not exist`);
    const before = readJsonFile<PlanFile>(path.join(dir, 'plan.json'));
    if (before?.hash === undefined) throw new ConfigError(`--resume: ${dir} has no plan.json: it is not an experiment folder, or was made by a fluxloop that could not resume`);
    if (before.hash !== plan.hash) throw new ConfigError(`--resume: ${dir} holds another plan (${before.hash}, this one is ${plan.hash}): ${planDifference(before, plan)} differ`);
    // Without --shard, a resume goes on with the folder's own share.
    if (shard !== undefined && (before.shard?.index !== shard.index || before.shard?.count !== shard.count)) {
      throw new ConfigError(`--resume: ${dir} holds ${before.shard === null ? 'the whole plan' : `shard ${before.shard.index}/${before.shard.count}`}, not shard ${shard.index}/${shard.count}`);
    }
    const summary = readJsonFile<{ stray_errors?: number; total_time_ms?: number; resumes?: number }>(path.join(dir, 'summary.json'));
    const strays = straysOf(path.join(dir, 'errors.json'));
    const traces = path.join(dir, 'traces.jsonl');
    const observations = path.join(dir, 'observations.jsonl');
    dropTornLine(traces);
    dropTornLine(observations);
    // Read through once before anything is written, so that a folder this cannot read is left as it was.
    const kept = new KeptObservations(observations);
    try {
      let n = 0;
      for await (const line of fileLines(traces)) {
        n++;
        let traceId: string;
        try {
          traceId = summaryOfLine(line).trace_id;
        } catch {
          throw new ConfigError("--resume: not a run's JSON line: mend or remove it first", { file: traces, line: n });
        }
        await kept.written(traceId);
      }
      await kept.finish(traces);
    } catch (error) {
      kept.abandon();
      throw error;
    }
    const folder = new ExperimentFolder(dir, before, new RunSet(inputs));
    folder.earlierStrays = summary?.stray_errors ?? strays.length;
    folder.earlierMs = summary?.total_time_ms ?? 0;
    folder.resumes = (summary?.resumes ?? 0) + 1;
    for (const stray of strays) folder.errors.write(stray);
    for await (const line of fileLines(traces)) {
      const result = summaryOfLine(line);
      folder.done.add(result);
      folder.count(result);
      tally.add(result);
    }
    return folder;
  }

  /** Writes a run that finished now. */
  write(run: FinishedRun): void {
    this.observations.writeText(run.observations);
    this.traces.writeText(`${run.line}\n`);
    this.count(run.result);
  }

  writeStray(stray: unknown): void {
    this.errors.write(stray);
  }

  private count(result: FinishedSummary): void {
    this.totals.add(result);
    if (result.status !== 'ok') this.errors.write(errorEntry(result));
  }

  /** Closes its files; the first error is thrown once all are closed. */
  close(): void {
    let failure: unknown;
    for (const file of [this.traces, this.observations, this.errors]) {
      try {
        file.close();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }
}
