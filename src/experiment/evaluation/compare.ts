import { durationStats } from '../stats';
import { isConversationEvaluation, type AnyTraceEvaluation, type ComparedRun, type Comparison, type Delta, type TraceEvaluation } from './types';

type Keyed = Pick<TraceEvaluation, 'recording_line' | 'recording_index' | 'input' | 'iteration'> & { kind?: string; conversation_id?: string; resumed_from?: number | null };

/** What pairs a line with the baseline's: see {@link pairRuns}. */
function pairKey(run: Keyed): string {
  if (run.kind !== 'conversation') return JSON.stringify([run.recording_index ?? run.recording_line, run.input, run.iteration]);
  // Marked, so that a conversation never pairs with a single run of the same recording.
  return JSON.stringify(['conversation', run.recording_index ?? run.conversation_id, run.input, run.iteration, run.resumed_from ?? null]);
}

/**
 * Which baseline run each run is the same as: the same recording, input and iteration. A recording
 * is known by its index, which stays when records are appended and when the file is rotated (a
 * line number is one file's: two rotated files both have a line 3). A repeated input pairs in order.
 * A conversation pairs with the baseline's conversation of the same recording (its id without
 * one), input, iteration and resume point; never with a single run, nor a run with a conversation.
 */
export function pairRuns<T extends Keyed>(current: readonly T[], baseline: readonly T[]): { pairs: Array<T | undefined>; missing: T[] } {
  const waiting = new Map<string, T[]>();
  for (const run of baseline) {
    const list = waiting.get(pairKey(run));
    if (list) list.push(run);
    else waiting.set(pairKey(run), [run]);
  }
  const pairs = current.map((run) => waiting.get(pairKey(run))?.shift());
  return { pairs, missing: [...waiting.values()].flat() };
}

const delta = (baseline: number, current: number): Delta => ({ baseline, current, delta: Math.round((current - baseline) * 1e6) / 1e6 });
const rate = (runs: readonly TraceEvaluation[], test: (t: TraceEvaluation) => boolean) => (runs.length === 0 ? 0 : runs.filter(test).length / runs.length);

function compared(run: AnyTraceEvaluation | undefined, before: AnyTraceEvaluation | undefined, reasons: string[]): ComparedRun {
  const shown = (run ?? before)!;
  return {
    trace_id: shown.trace_id,
    baseline_trace_id: run && before ? before.trace_id : null,
    input: shown.input,
    iteration: shown.iteration,
    recording_index: shown.recording_index,
    recording_line: shown.recording_line,
    ...(isConversationEvaluation(shown) ? { conversation_id: shown.conversation_id } : {}),
    reasons,
    score: run?.score ?? null,
    baseline_score: before?.score ?? null,
  };
}

/**
 * Compared runs as people read them: the runs of one input together (inputs in the order they
 * first came), then by recording and iteration, whatever order the runs finished in.
 */
export function byInput(runs: readonly ComparedRun[]): ComparedRun[] {
  const first = new Map<string, number>();
  runs.forEach((r, i) => first.has(r.input) || first.set(r.input, i));
  const n = (x: number | null | undefined) => x ?? -1;
  return [...runs].sort(
    (a, b) => first.get(a.input)! - first.get(b.input)! || n(a.recording_index) - n(b.recording_index) || n(a.recording_line) - n(b.recording_line) || a.iteration - b.iteration,
  );
}

/** Regressions, fixes, new and missing runs, and the change in rates and latency. */
export function compare(baselineDir: string, current: readonly TraceEvaluation[], baseline: readonly TraceEvaluation[]): Comparison {
  const { pairs, missing } = pairRuns(current, baseline);
  const comparison: Comparison = {
    baseline: baselineDir,
    regressions: [],
    fixes: [],
    new_runs: [],
    missing_runs: missing.map((before) => compared(undefined, before, before.reasons)),
    counts: { regressions: 0, fixes: 0, new_runs: 0, missing_runs: missing.length, still_passing: 0, still_failing: 0 },
    pass_rate: delta(rate(baseline, (t) => t.passed), rate(current, (t) => t.passed)),
    success_rate: delta(rate(baseline, (t) => t.status === 'ok'), rate(current, (t) => t.status === 'ok')),
    latency_ms: { p50: delta(0, 0), p95: delta(0, 0) },
  };
  current.forEach((run, i) => {
    const before = pairs[i];
    if (before === undefined) comparison.new_runs.push(compared(run, undefined, run.reasons));
    else if (before.passed && !run.passed) comparison.regressions.push(compared(run, before, run.reasons));
    else if (!before.passed && run.passed) comparison.fixes.push(compared(run, before, before.reasons));
    else comparison.counts[run.passed ? 'still_passing' : 'still_failing']++;
  });
  comparison.counts.regressions = comparison.regressions.length;
  comparison.counts.fixes = comparison.fixes.length;
  comparison.counts.new_runs = comparison.new_runs.length;
  const [was, now] = [durationStats(baseline.map((t) => t.duration_ms)), durationStats(current.map((t) => t.duration_ms))];
  comparison.latency_ms = { p50: delta(was.p50, now.p50), p95: delta(was.p95, now.p95) };
  return comparison;
}
