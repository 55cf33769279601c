import { parseParamPath, type ParamPath } from '../config/param-path';
import type { Param } from '../instrument/params';
import { existingText, locate, type CallArgs } from '../replay/paths';
import type { ReplayRecord } from '../replay/reader';
import { check, type Check } from './check';
import { configLabel, type DoctorContext } from './context';
import type { ReplayedScan, Watcher } from './replayed';

const ID = 'override-path';
const TITLE = 'override_param_path';

/** Counts the recordings `replay_args.override_param_path` resolves in, as `run experiment` resolves it, and keeps the first miss. */
export class OverridePathWatcher implements Watcher {
  readonly path: ParamPath | undefined;
  resolved = 0;
  /** The first recording the path misses, and the paths that do exist in it. */
  firstMiss: { line: number; paths: string } | undefined;

  constructor(ctx: DoctorContext) {
    const text = ctx.config.ok ? ctx.config.value.replay_args?.override_param_path : undefined;
    // The config check has already parsed it: a config that loads holds a valid path.
    this.path = text === undefined ? undefined : parseParamPath(text);
  }

  see(record: ReplayRecord, call: CallArgs, params: readonly Param[]): void {
    if (this.path === undefined) return;
    if (locate(this.path, call, params) !== undefined) this.resolved++;
    else this.firstMiss ??= { line: record.line, paths: existingText(call, params) };
  }
}

/**
 * 9. Where each input goes: the override path resolves in every recording `run experiment`
 * replays. In none, the run stops with exit 2; in some, the others' runs end as errors.
 */
export function checkOverridePath(ctx: DoctorContext, scan: ReplayedScan, watcher: OverridePathWatcher): Check {
  const config = configLabel(ctx);
  if (!ctx.config.ok) return check(ID, TITLE, 'skip', `${config} does not load`);
  const replay = ctx.config.value.replay_args;
  if (replay?.enabled !== true) return check(ID, TITLE, 'skip', 'replay_args.enabled is not true: experiments run on the inputs alone, without recordings');
  if (watcher.path === undefined) {
    return check(ID, TITLE, 'fail', 'replay_args.enabled is true but override_param_path is not set, so `run experiment` stops', `say where each input goes in ${config}, e.g. override_param_path: kwargs.message`);
  }
  if (!scan.ok) return check(ID, TITLE, scan.status, scan.detail, scan.fix);
  const { count, target, display } = scan.replayed;
  const text = watcher.path.text;
  if (watcher.resolved === count) {
    return check(ID, TITLE, 'ok', `${text} resolves in ${count === 1 ? 'the recording' : `all ${count} recordings`} of ${target} (${display})`);
  }
  const miss = watcher.firstMiss!;
  const fix = `set replay_args.override_param_path in ${config} to one of the paths that exist`;
  if (watcher.resolved === 0) {
    const none = count === 1 ? `does not resolve in the recording of ${target}` : `resolves in none of the ${count} recordings of ${target}`;
    return check(ID, TITLE, 'fail', `${text} ${none}, so \`run experiment\` stops; paths that exist in ${display}:${miss.line}: ${miss.paths}`, fix);
  }
  const others = count - watcher.resolved;
  return check(
    ID,
    TITLE,
    'warn',
    `${text} resolves in ${watcher.resolved} of the ${count} recordings of ${target}; the runs of ${others === 1 ? 'the other one end' : `the other ${others} end`} as errors; the first it misses is ${display}:${miss.line}, where the paths that exist are ${miss.paths}`,
    `${fix} in every recording, or record those calls again`,
  );
}
