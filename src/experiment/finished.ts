import type { RunOutcome, RunResult } from '../replay/execute';
import type { ConversationSummary } from './conversation-result';

/** A run's result without the values it carried: what the experiment counts and the console shows. */
export type RunSummary = Omit<RunResult, 'args' | 'output' | 'frames' | 'messages'>;

/** What the experiment counts of a finished run, or of a finished conversation. */
export type FinishedSummary = RunSummary | ConversationSummary;

/**
 * A run as the experiment keeps it: its lines for traces.jsonl and observations.jsonl written
 * where the run was made (a worker thread), so that the experiment's own thread only appends
 * text, and the small fields it counts.
 */
export interface FinishedRun {
  result: FinishedSummary;
  /** The traces.jsonl line, without its newline. */
  line: string;
  /** The observations.jsonl lines, each ending in a newline; empty when there are none. */
  observations: string;
}

/** `outcome` as the experiment keeps it; `attempt` counts the retries that led to it. */
export function finish(outcome: RunOutcome, attempt: number): FinishedRun {
  const { result } = outcome;
  result.attempts = attempt;
  const { args: _args, output: _output, frames: _frames, messages: _messages, ...summary } = result;
  let observations = '';
  for (const o of outcome.observations) observations += `${JSON.stringify(o)}\n`;
  return { result: summary, line: JSON.stringify(result), observations };
}

/** What the experiment adds to a run's line once the run is back: its usage and cost, priced here, and its recording's calls. */
export interface RunAdditions {
  usage: RunResult['usage'];
  cost_usd: RunResult['cost_usd'];
  /** Null for a run without a recording, or one made before downstream calls were recorded; absent for a conversation, whose turns have theirs. */
  recorded_downstream?: unknown[] | null;
}

// How a run's line ends as its thread wrote it: the fields it leaves to the experiment, last.
const UNSET_TAIL = '"usage":null,"cost_usd":null}';

/**
 * `run` with `additions` in its result and its line. The line is rewritten at its end, where the
 * fields it leaves unset are, rather than parsed again: a run's output may be megabytes.
 */
export function withAdditions(run: FinishedRun, additions: RunAdditions): FinishedRun {
  const { recorded_downstream: _recorded, ...fields } = additions;
  Object.assign(run.result, fields);
  const text = JSON.stringify(additions);
  let line: string;
  if (run.line.endsWith(UNSET_TAIL)) line = `${run.line.slice(0, -UNSET_TAIL.length)}${text.slice(1)}`;
  else line = JSON.stringify(Object.assign(JSON.parse(run.line) as object, additions));
  return { ...run, line };
}
