import { readLastRun } from '../instrument/status';
import { INSTALL_TSX, nodeStripsTypes, projectTsx } from '../replay/typescript';
import { check, type Check } from './check';
import { configLabel, type DoctorContext } from './context';
import type { TargetState } from './targets';

const ID = 'recordable';
const TITLE = 'recordable targets';

/** `why` is absent when the target's own check, above, says it. */
type Verdict = { spec: string; can: true } | { spec: string; can: false; why?: string } | { spec: string; can: undefined };

/**
 * Whether one recording target can be recorded: as its check found it, and for TypeScript, which
 * is known only when the app runs, as the last recording run found it, or whether tsx is there.
 */
function verdict(root: string, state: TargetState, lastRun: ReturnType<typeof readLastRun>): Verdict {
  const spec = state.spec.spec;
  if (state.check.status === 'ok') return { spec, can: true };
  if (state.check.status === 'fail') return { spec, can: false };
  const last = lastRun?.targets.find((t) => t.target === spec);
  if (last?.state === 'hooked') return { spec, can: true };
  if (last?.state === 'failed') return { spec, can: false, why: `the last recording run: ${last.reason ?? 'failed'}` };
  if (projectTsx(root) === undefined && !nodeStripsTypes()) return { spec, can: false, why: `${state.spec.file} is TypeScript, and the project has no tsx to run it` };
  return { spec, can: undefined };
}

/**
 * 6. At least one recording target can be recorded: when none can, running the app records
 * nothing, whatever else is right.
 */
export function checkRecordable(ctx: DoctorContext, states: TargetState[] | undefined): Check {
  const config = configLabel(ctx);
  if (!ctx.config.ok || states === undefined) return check(ID, TITLE, 'skip', `${config} does not load`);
  const recording = states.filter((s) => s.field.startsWith('recording.targets'));
  if (recording.length === 0) return check(ID, TITLE, 'skip', `no recording targets in ${config} (see above)`);
  const lastRun = readLastRun(ctx.root);
  const verdicts = recording.map((state) => verdict(ctx.root, state, lastRun));
  const can = verdicts.filter((v) => v.can === true).map((v) => v.spec);
  const unknown = verdicts.filter((v) => v.can === undefined).map((v) => v.spec);
  const n = recording.length;
  if (can.length > 0) {
    return check(ID, TITLE, 'ok', can.length === n ? `${n === 1 ? 'the' : `all ${n}`} recording target${n === 1 ? '' : 's'} can be recorded` : `${can.length} of ${n} can be recorded: ${can.join(', ')}`);
  }
  if (unknown.length > 0) {
    return check(ID, TITLE, 'skip', `known when the app runs under tsx: ${unknown.join(', ')}; see \`npx fluxloop record status\` after a run`);
  }
  const reasons = verdicts.map((v) => `${v.spec} (${(v.can === false && v.why) || 'see above'})`);
  const typescript = verdicts.some((v) => v.can === false && v.why?.includes('has no tsx'));
  return check(
    ID,
    TITLE,
    'fail',
    `${n === 1 ? 'the only recording target cannot' : `none of the ${n} recording targets can`} be recorded, so running the app records nothing: ${reasons.join('; ')}`,
    typescript ? INSTALL_TSX : `correct recording.targets in ${config}: each names a function of the project (see the ✗ lines above)`,
  );
}
