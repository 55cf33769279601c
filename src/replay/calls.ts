import type { ChildKind, Usage } from '../record/downstream-format';

/** How a run's downstream call was answered. */
export type Answer = 'stub' | 'live' | 'denied' | 'unmatched';

/** One downstream call a run made, in the order it started: the run's timeline (`downstream` in traces.jsonl). */
export interface RunCall {
  seq: number;
  kind: ChildKind;
  /** As a child record's `name`. */
  name: string;
  answer: Answer;
  /** The `seq` of the recorded call that answered it, or that it was compared with; null when none. */
  matched: number | null;
  /** Milliseconds from the run's start. */
  started_ms: number;
  duration_ms: number;
  /** The HTTP status, when there was a response. */
  status?: number;
  /** llm: the model asked. */
  model?: string | null;
  /** llm: the tokens counted by the provider (for a stubbed call, the recorded ones). */
  usage?: Usage | null;
  error?: { name: string; message: string } | null;
}

/** How a run's calls first parted from the recording's. */
export type DivergenceKind = 'other_call' | 'other_arguments' | 'extra_call' | 'missing_call';

/** A call as divergence shows it: enough to tell two apart. */
export interface CallSummary {
  kind: ChildKind;
  name: string;
  /** The arguments compared: a tool's arguments, an HTTP request's body (its URL's query when it has none); null for LLM calls, whose messages hold the input. */
  arguments: unknown;
}

/** Where a run left the recorded path (`divergence` in traces.jsonl; null when the paths match). */
export interface Divergence {
  /** The place in the sequence of calls where they part, from 0. */
  index: number;
  kind: DivergenceKind;
  /** The recorded call there; null for an extra call. */
  expected: CallSummary | null;
  /** The run's call there; null for a missing call. */
  actual: CallSummary | null;
}
