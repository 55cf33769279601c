import type { CallSummary, Divergence } from '../../replay/calls';
import type { Verdict } from './rules';

/** What the verdict reads of a run: `divergence` is absent from lines written before fluxloop compared calls. */
export interface PathRun {
  recording_index: number | null;
  divergence?: Divergence | null;
}

const MAX_ARGUMENTS = 80;

function call(c: CallSummary): string {
  return `${c.kind} ${c.name}`;
}

function args(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > MAX_ARGUMENTS ? `${text.slice(0, MAX_ARGUMENTS - 3)}...` : text;
}

/** Where and how a run left its recording's path, in a few words; calls count from 1, as the CLI says them. */
export function divergenceReason(d: Divergence): string {
  const at = `at call ${d.index + 1}`;
  switch (d.kind) {
    case 'other_call':
      return `left the recorded path ${at}: called ${d.actual ? call(d.actual) : '?'} where the recording called ${d.expected ? call(d.expected) : '?'}`;
    case 'other_arguments':
      return `left the recorded path ${at}: called ${d.actual ? call(d.actual) : '?'} with ${args(d.actual?.arguments)}, recorded with ${args(d.expected?.arguments)}`;
    case 'extra_call':
      return `left the recorded path ${at}: made an extra call, ${d.actual ? call(d.actual) : '?'}, after the recording's calls ended`;
    case 'missing_call':
      return `left the recorded path ${at}: never made the recorded call ${d.expected ? call(d.expected) : '?'}`;
    default:
      return `left the recorded path ${at} (${String((d as { kind: unknown }).kind)})`;
  }
}

/**
 * `same_path`: the run's downstream calls followed its recording's, in order, with the same
 * arguments. A run without a recording has no path to follow, and one from before fluxloop
 * compared calls says nothing of it: both are skipped, not passed.
 */
export function samePath(run: PathRun): Verdict {
  if (run.recording_index === null) return { score: null, reason: 'the run replays no recording: there is no recorded path to compare with' };
  if (run.divergence === undefined) return { score: null, reason: 'the run has no divergence field (written by a fluxloop that did not compare calls)' };
  if (run.divergence === null) return { score: 1, reason: 'its calls followed the recording' };
  return { score: 0, reason: divergenceReason(run.divergence) };
}
