import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseTarget } from '../config/targets';
import { findModule } from '../config/project';
import { fileChunks, recordingFiles } from '../record/files';
import { fluxloopVersion } from '../version';
import { isConversationPlan, type Planned } from './conversation';
import type { ExperimentSetup } from './plan';

/** Where a run is in its plan: its iteration, recording and input. */
export interface RunPlace {
  iteration: number;
  recording_index: number | null;
  input_index: number;
}

/**
 * What a run is within its plan, the same on every machine and in every process that plans it:
 * its iteration, recording and input. Resume, shards, merge and the queue's job ids all go by it,
 * so that a run is made and written once however the plan is split.
 */
export function runKey(run: RunPlace): string {
  return `${run.iteration}:${run.recording_index ?? '-'}:${run.input_index}`;
}

/** Where a planned run (or conversation: its first recorded turn) is in its plan, as {@link runKey} reads it. */
export function plannedPlace(plan: Planned): RunPlace {
  const recording = isConversationPlan(plan) ? plan.conversation.turns[0] : plan.recording;
  return { iteration: plan.iteration, recording_index: recording?.index ?? null, input_index: plan.inputIndex };
}

/** {@link runKey} of a planned run (or conversation: its first recorded turn's). */
export function plannedKey(plan: Planned): string {
  return runKey(plannedPlace(plan));
}

/** What a worker must share with the experiment it makes runs of: the code, the config and fluxloop. */
export interface ProjectIdentity {
  fluxloop_version: string;
  /** A digest of the config as read, the target's module and the lockfile: see {@link projectDigest}. */
  project: string;
}

/** `plan` in summary.json: what resume, merge and the queue's workers check a plan by. */
export interface PlanIdentity extends ProjectIdentity {
  /** A digest of everything that decides the runs: the project, the inputs, the recordings and the options. */
  hash: string;
  /** The digest of each part, so that a mismatch can say which part differs. */
  parts: { project: string; inputs: string; recordings: string; options: string };
}

const digest = (...parts: Array<string | Buffer>): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
};

/** Reads a file for a digest; a file that is not there counts as empty, the same on both sides. */
function fileText(file: string | undefined): Buffer {
  try {
    return file === undefined ? Buffer.alloc(0) : fs.readFileSync(file);
  } catch {
    return Buffer.alloc(0);
  }
}

/**
 * The project as a run depends on it, beside its inputs and recordings: the config as read (not
 * its comments), the target's module, and the lockfile, which pins the dependencies. A module the
 * target imports is not read: the lockfile and the target's own file catch the usual drift (a
 * deploy of another commit) at the cost of a read of two files.
 */
export function projectDigest(root: string, configRaw: unknown, target: string): ProjectIdentity {
  let module: string | undefined;
  try {
    module = findModule(path.resolve(root, parseTarget(target).file));
  } catch {
    module = undefined;
  }
  const lock = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock'].map((f) => path.join(root, f)).find((f) => fs.existsSync(f));
  const version = fluxloopVersion();
  return { fluxloop_version: version, project: digest(version, JSON.stringify(configRaw ?? null), target, fileText(module), fileText(lock)) };
}

/** The plan's identity: the same for every shard of it, for every resume of it, and on every machine. */
export async function planIdentity(setup: Omit<ExperimentSetup, 'total'>, options: { limit?: number }): Promise<PlanIdentity> {
  const project = projectDigest(setup.root, setup.config.raw, setup.harness.target);
  const recordings = createHash('sha256');
  if (setup.replay !== undefined) {
    // The recording file itself may be gone, its records all rotated to others.
    for (const file of recordingFiles(setup.replay.file).filter((f) => fs.existsSync(f))) {
      for await (const chunk of fileChunks(file)) recordings.update(chunk);
      recordings.update('\0');
    }
  }
  const parts = {
    project: project.project,
    inputs: digest(JSON.stringify(setup.inputs.inputs)),
    recordings: setup.replay === undefined ? 'none' : digest(recordings.digest('hex'), JSON.stringify(setup.replay.select ?? null)),
    options: digest(JSON.stringify({ iterations: setup.iterations, limit: options.limit ?? null, downstream: setup.harness.downstream ?? null, multiTurn: setup.multiTurn ?? null })),
  };
  return { ...project, hash: digest(parts.project, parts.inputs, parts.recordings, parts.options), parts };
}

/** Names the parts in which two plans differ, for a message: "the inputs, the recordings". */
export function planDifference(a: PlanIdentity, b: PlanIdentity): string {
  if (a.fluxloop_version !== b.fluxloop_version) return `fluxloop ${a.fluxloop_version} against ${b.fluxloop_version}`;
  const names: Record<keyof PlanIdentity['parts'], string> = { project: 'the config, target module or lockfile', inputs: 'the inputs', recordings: 'the recordings', options: 'the iterations, limit or replay options' };
  const differ = (Object.keys(names) as Array<keyof PlanIdentity['parts']>).filter((k) => a.parts?.[k] !== b.parts?.[k]).map((k) => names[k]);
  return differ.length === 0 ? 'the plan' : differ.join(', ');
}
