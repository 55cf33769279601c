import { suggest } from '../config/validator';
import type { Param } from '../instrument/params';
import type { ReplayRecord } from '../replay/reader';
import { check, type Check } from './check';
import { configLabel, type DoctorContext } from './context';
import type { Replayed, ReplayedScan, Watcher } from './replayed';

const ID = 'recorded-arguments';
const TITLE = 'recorded arguments';

/** A parameter as it is written: `message`, `{ userId, message }`, `...rest`. */
function paramText(param: Param): string {
  if (typeof param === 'string') return param;
  if (param === null) return '[…]';
  return 'destructured' in param ? `{ ${param.destructured.join(', ')} }` : `...${param.rest}`;
}

const listOf = (params: readonly Param[]) => params.map(paramText).join(', ');

/**
 * How one recorded call no longer fits the function's parameters, empty when it fits. A record
 * that kept the parameters it was recorded with fits when they are the same now, whatever it was
 * called with (Express passes `next` to a `(req, res)` handler); else it had more arguments than
 * the function now takes, or other parameters. A kwargs name the function has no parameter for
 * never fits: a replay binds kwargs by name.
 */
export function misfits(record: Pick<ReplayRecord, 'args' | 'kwargs' | 'params'>, params: readonly Param[], target: string, name: string): string[] {
  const list = listOf(params);
  const out: string[] = [];
  const names = params.flatMap((p) => (typeof p === 'string' ? [p] : p !== null && 'destructured' in p ? p.destructured : []));
  for (const key of Object.keys(record.kwargs)) {
    if (names.includes(key)) continue;
    const near = suggest(key, names);
    out.push(`kwargs.${key} is not a parameter of ${name}(${list})${near === undefined ? '' : `; did you mean ${near}?`}`);
  }
  const then = record.params?.length ? listOf(record.params) : undefined;
  if (then === list) return out;
  const rest = params.some((p) => typeof p === 'object' && p !== null && 'rest' in p);
  const takes = params.length - (rest ? 1 : 0);
  const given = record.args.length;
  if (!rest && given > takes) {
    out.push(`recorded with ${given} argument${given === 1 ? '' : 's'}, ${target} now takes ${takes === 0 ? 'none' : `${takes} (${list})`}`);
  } else if (then !== undefined) {
    out.push(`recorded when ${name} took (${then}); it now takes (${list})`);
  }
  return out;
}

/** Counts the recordings that no longer fit the target's parameters, and keeps the first. */
export class SignatureWatcher implements Watcher {
  misfit = 0;
  first: { line: number; differences: string[] } | undefined;

  see(record: ReplayRecord, _call: unknown, _params: unknown, replayed: Replayed): void {
    if (typeof replayed.params === 'string') return;
    const differences = misfits(record, replayed.params, replayed.target, replayed.name);
    if (differences.length === 0) return;
    this.misfit++;
    this.first ??= { line: record.line, differences };
  }
}

/**
 * 11. The recordings still fit the function as it is now, as FluxLoop's guide asks before a
 * replay: a call recorded before its function's parameters changed is replayed with its old
 * arguments, and may put each input in the wrong place.
 */
export function checkSignature(ctx: DoctorContext, scan: ReplayedScan, watcher: SignatureWatcher): Check {
  if (!scan.ok) return check(ID, TITLE, 'skip', scan.detail);
  const { count, target, name, display, params } = scan.replayed;
  if (typeof params === 'string') return check(ID, TITLE, 'skip', params);
  const signature = `${name}(${listOf(params)})`;
  if (watcher.misfit === 0) return check(ID, TITLE, 'ok', `${count === 1 ? 'the recording' : `all ${count} recordings`} of ${target} fit${count === 1 ? 's' : ''} ${signature}`);
  const first = watcher.first!;
  return check(
    ID,
    TITLE,
    'warn',
    `${count === 1 ? 'the recording' : `${watcher.misfit} of the ${count} recordings`} of ${target} ${count === 1 ? 'does' : 'do'} not fit ${signature}; at ${display}:${first.line}: ${first.differences.join('; ')}`,
    `record those calls again with the app as it is now, or point runner.target in ${configLabel(ctx)} at the function they were recorded from`,
  );
}
