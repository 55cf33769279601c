import type { ChildRecord } from '../record/downstream-format';
import type { CallSummary } from '../replay/calls';
import { recordedSummary } from '../replay/stubs';
import { compact, type Limits } from './report/compact';

/** A recorded downstream call as a run's line keeps it (`recorded_downstream` in traces.jsonl), for the report's side-by-side view. */
export interface RecordedCall extends CallSummary {
  seq: number;
  /** llm: the model the recording asked. */
  model?: string | null;
}

// Enough of the arguments to tell two calls apart beside each other; the recording holds them whole.
const ARGUMENTS: Limits = { string: 300, array: 20, keys: 30, depth: 6 };

/**
 * The calls a recorded call made, in the order they started, each as divergence shows a call: its
 * kind, name and arguments (a tool's arguments, an HTTP request's body; none for an LLM call,
 * whose messages hold the input), cut to a few hundred characters a string.
 */
export function recordedCalls(children: readonly ChildRecord[] | undefined): RecordedCall[] {
  if (children === undefined) return [];
  return [...children]
    .sort((a, b) => a.seq - b.seq)
    .map((child) => {
      const summary = recordedSummary(child);
      const call: RecordedCall = { seq: child.seq, ...summary, arguments: compact(summary.arguments, ARGUMENTS) };
      if (child.kind === 'llm') call.model = child.llm?.model ?? null;
      return call;
    });
}
