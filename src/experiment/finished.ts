import type { RunOutcome, RunResult } from '../replay/execute';

/** A run's result without the values it carried: what the experiment counts and the console shows. */
export type RunSummary = Omit<RunResult, 'args' | 'output' | 'frames' | 'messages'>;

/**
 * A run as the experiment keeps it: its lines for traces.jsonl and observations.jsonl written
 * where the run was made (a worker thread), so that the experiment's own thread only appends
 * text, and the small fields it counts.
 */
export interface FinishedRun {
  result: RunSummary;
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
