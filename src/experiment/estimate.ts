import type { DownstreamReplayConfig } from '../config/types';
import type { ChildRecord, Usage } from '../record/downstream-format';
import { addUsage, callsCost, roundUsd, type MeteredCall, type Prices } from './usage';

/** What `--dry-run` expects the runs' live LLM calls to cost: the recordings' usage, once per planned run. */
export interface CostEstimate {
  /** The planned runs. */
  runs: number;
  /** Those with a recording, which the estimate is made from. */
  runs_with_recording: number;
  /** The recorded LLM calls the runs would make again live. */
  llm_calls: number;
  /** Their tokens as recorded; null when none was. */
  usage: Usage | null;
  /** US dollars; null when a model has no price, a recorded call has no usage, or nothing was recorded to estimate from. */
  cost_usd: number | null;
  /** The cost of the calls whose model has a price, whatever the others. */
  priced_cost_usd: number;
  /** The recorded models without a price: counted in tokens only. */
  unpriced_models: string[];
  /** Recorded LLM calls whose response said no usage. */
  llm_calls_without_usage: number;
  /** Why the estimate is what it is, when the figures alone do not say: LLM calls stubbed, no recording, no LLM call recorded. */
  note: string | null;
}

/** What the estimate reads of a planned run: the recording it replays, if any, with its downstream calls. */
export interface EstimatedRun {
  recording?: { downstream?: readonly ChildRecord[] } | null;
}

/**
 * The cost of the planned runs, estimated from what their recordings' LLM calls used: a run is
 * expected to make its recording's calls again. With `llm: stub` the calls are answered from the
 * recording and cost nothing.
 */
export async function estimateCost(runs: AsyncIterable<EstimatedRun> | Iterable<EstimatedRun>, prices: Prices, modes: Pick<DownstreamReplayConfig, 'llm'>): Promise<CostEstimate> {
  const estimate: CostEstimate = { runs: 0, runs_with_recording: 0, llm_calls: 0, usage: null, cost_usd: null, priced_cost_usd: 0, unpriced_models: [], llm_calls_without_usage: 0, note: null };
  const stubbed = modes.llm === 'stub';
  let priced = 0;
  let known = true;
  for await (const run of runs) {
    estimate.runs++;
    if (!run.recording) continue;
    estimate.runs_with_recording++;
    if (stubbed) continue;
    const calls: MeteredCall[] = [];
    for (const child of run.recording.downstream ?? []) if (child.kind === 'llm') calls.push({ model: child.llm?.model ?? null, usage: child.llm?.usage ?? null });
    if (calls.length === 0) continue;
    const cost = callsCost(calls, prices);
    estimate.llm_calls += cost.calls;
    estimate.llm_calls_without_usage += cost.without_usage;
    estimate.usage = addUsage(estimate.usage, cost.usage);
    priced = roundUsd(priced + cost.priced_usd);
    if (cost.cost_usd === null) known = false;
    for (const model of cost.unpriced) if (!estimate.unpriced_models.includes(model)) estimate.unpriced_models.push(model);
  }
  if (stubbed) {
    estimate.cost_usd = 0;
    estimate.note = 'replay_args.downstream.llm is stub: LLM calls are answered from the recording, and cost nothing';
  } else if (estimate.runs_with_recording === 0) {
    estimate.note = 'the runs replay no recording: there is no recorded usage to estimate from';
  } else if (estimate.llm_calls === 0) {
    estimate.cost_usd = 0;
    estimate.note = 'the recordings hold no LLM call (recorded with recording.downstream.llm off, or before fluxloop captured them)';
  } else if (known) estimate.cost_usd = priced;
  estimate.priced_cost_usd = priced;
  return estimate;
}
