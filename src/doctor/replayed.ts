import fs from 'node:fs';
import { functionName } from '../config/identity';
import { projectRelative, replayRecordingFile } from '../config/project';
import type { Param } from '../instrument/params';
import { recordingFiles } from '../record/files';
import { decodeCall } from '../replay/binding';
import { Collectors } from '../replay/collectors';
import { recordingMatch, tallyOthers } from '../replay/match';
import type { CallArgs } from '../replay/paths';
import { selectRecordings, type ReplayRecord } from '../replay/reader';
import { messageOf, type CheckStatus } from './check';
import { configLabel, type DoctorContext } from './context';
import type { TargetState } from './targets';

/** The recordings an experiment replays, as read for the checks. */
export interface Replayed {
  /** runner.target, else the only recording target, as configured. */
  target: string;
  /** Its function's name, for messages: `handle` of `app/agent.js:handle`. */
  name: string;
  /** The recording file, as shown. */
  display: string;
  /** Whether `run experiment` replays them (`replay_args.enabled`); when not, every recording of the target was read. */
  enabled: boolean;
  /** The target's parameters now, when they could be read; else why not. */
  params: Param[] | string;
  /** How many recordings were read. */
  count: number;
}

/** What a check sees of each recording, in file order: decoded, with the parameters a replay would use for it. */
export interface Watcher {
  see(record: ReplayRecord, call: CallArgs, params: readonly Param[], replayed: Replayed): void;
}

/**
 * The recordings read, or why they could not be. `status` is what this means for the override
 * path, which `run experiment` needs: `fail` when the run would stop (no recordings of the target
 * in a file that holds others'), `skip` when there is nothing to check yet.
 */
export type ReplayedScan = { ok: true; replayed: Replayed } | { ok: false; status: CheckStatus; detail: string; fix?: string };

const skip = (detail: string): ReplayedScan => ({ ok: false, status: 'skip', detail });

/**
 * Reads the recordings of the replayed target once, as `run experiment` selects them (by identity,
 * `replay_args.function` and `select`), and shows each to every watcher. Nothing of the app is
 * loaded: the target's parameters come from the targets check.
 */
export async function scanReplayed(ctx: DoctorContext, states: TargetState[] | undefined, watchers: readonly Watcher[]): Promise<ReplayedScan> {
  if (!ctx.config.ok || states === undefined) return skip(`${configLabel(ctx)} does not load`);
  const config = ctx.config.value;
  const targets = config.recording.targets;
  const target = config.runner.target ?? (targets.length === 1 ? targets[0] : undefined);
  if (target === undefined) return skip(targets.length === 0 ? 'no runner.target and no recording target' : `runner.target is not set (see ${configLabel(ctx)} above)`);
  const file = replayRecordingFile(ctx.root, config);
  const display = projectRelative(ctx.root, file);
  // The file may have been rotated away (recording.max_file_mb) with its records beside it.
  if (!recordingFiles(file).some((each) => fs.existsSync(each))) return skip(`nothing recorded yet: ${display} does not exist`);
  const replay = config.replay_args;
  const enabled = replay?.enabled === true;
  const match = recordingMatch(ctx.root, replay?.function, target)!;
  const state = states.find((s) => s.field === 'runner.target') ?? states.find((s) => s.field.startsWith('recording.targets') && s.spec.spec === target);
  const name = states.find((s) => s.spec.spec === target && s.name !== undefined)?.name ?? functionName(target);
  const replayed: Replayed = { target, name, display, enabled, params: paramsOf(ctx, state, target), count: 0 };
  const tally = tallyOthers(match);
  try {
    const records = selectRecordings(file, { displayPath: display, select: enabled ? replay.select : 'all', match: tally.test, onSkip: () => undefined });
    for await (const record of records) {
      replayed.count++;
      // As the run does: the parameters recorded with the call, else the function's own.
      const params = record.params?.length ? record.params : typeof replayed.params === 'string' ? [] : replayed.params;
      const call = decodeCall(record, new Collectors(), new Map());
      for (const watcher of watchers) watcher.see(record, call, params, replayed);
    }
  } catch (error) {
    // The recording file check reports a file that cannot be read.
    return skip(messageOf(error));
  }
  if (replayed.count > 0) return { ok: true, replayed };
  const held = tally.held().join(', ');
  if (held === '') return skip(`nothing recorded yet: ${display} has no records`);
  return {
    ok: false,
    status: 'fail',
    detail: `${display} has no recordings of ${target}, so \`run experiment\` stops; it holds recordings of ${held}`,
    fix: `run the app so that ${target} is called, or point runner.target in ${configLabel(ctx)} at a function that was recorded`,
  };
}

/** The replayed target's parameters from the targets check: runner.target's, else the recording target's. */
function paramsOf(ctx: DoctorContext, state: TargetState | undefined, target: string): Param[] | string {
  if (state?.params !== undefined) return state.params;
  if (ctx.config.ok && ctx.config.value.runner.factory !== undefined) return `the parameters of ${target} are known only when runner.factory has made its instance`;
  if (state !== undefined && state.check.status === 'fail') return `${target} is not found (see above)`;
  return `the parameters of ${target} cannot be read before the app runs`;
}
