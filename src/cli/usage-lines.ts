import type { CostEstimate } from '../experiment/estimate';
import { formatTokens, formatUsd } from '../experiment/format';
import type { CallsSummary } from '../experiment/tally';
import type { Usage } from '../record/downstream-format';

function tokens(usage: Usage): string {
  const cached = usage.cached_input_tokens ? ` (${formatTokens(usage.cached_input_tokens)} cached)` : '';
  return `${formatTokens(usage.input_tokens)} in${cached} / ${formatTokens(usage.output_tokens)} out`;
}

function unpriced(models: string[]): string {
  return `${models.join(', ')} ${models.length === 1 ? 'has' : 'have'} no price (add ${models.length === 1 ? 'it' : 'them'} under pricing:)`;
}

function withoutUsage(count: number): string {
  return `${count} LLM call${count === 1 ? '' : 's'} reported no usage`;
}

/**
 * The tokens and cost of an experiment's live LLM calls: `tokens 12,345 in / 3,210 out · $0.0123`;
 * why the cost is unknown when it is. Undefined when the runs made no live LLM call.
 */
export function usageLine(summary: Pick<CallsSummary, 'usage' | 'cost_usd' | 'unpriced_models' | 'live_llm_calls' | 'llm_calls_without_usage'>): string | undefined {
  if (!summary.live_llm_calls) return undefined;
  const parts = [summary.usage ? `tokens ${tokens(summary.usage)}` : 'tokens unknown'];
  if (summary.cost_usd !== null) parts.push(formatUsd(summary.cost_usd));
  else {
    const why = [...(summary.unpriced_models.length > 0 ? [unpriced(summary.unpriced_models)] : []), ...(summary.llm_calls_without_usage > 0 ? [withoutUsage(summary.llm_calls_without_usage)] : [])];
    parts.push(`cost unknown: ${why.join('; ')}`);
  }
  return `${parts.join(' · ')} (${summary.live_llm_calls} live LLM call${summary.live_llm_calls === 1 ? '' : 's'})`;
}

/**
 * The calls that left the process for real, other than the LLM's: `made live: 3 HTTP calls, 1 tool
 * call, which may have had side effects`. A replay says when it was not side-effect free.
 */
export function liveLine(summary: Pick<CallsSummary, 'live_calls'>): string | undefined {
  const { http, tool } = summary.live_calls;
  if (http + tool === 0) return undefined;
  const parts = [...(http > 0 ? [`${http} HTTP call${http === 1 ? '' : 's'}`] : []), ...(tool > 0 ? [`${tool} tool call${tool === 1 ? '' : 's'}`] : [])];
  return `made live: ${parts.join(', ')}, which may have had side effects (replay_args.downstream)`;
}

/** The runs that left the recorded path and where: `diverged 3 of 12 runs: at call 1 (other_call) 2, at call 3 (extra_call) 1`; calls count from 1. */
export function divergenceLine(summary: Pick<CallsSummary, 'diverged_runs' | 'diverged_at'>, totalRuns: number): string | undefined {
  if (!summary.diverged_runs) return undefined;
  const places = summary.diverged_at.map((p) => `at call ${p.index + 1} (${p.kind}) ${p.runs}`);
  return `diverged ${summary.diverged_runs} of ${totalRuns} run${totalRuns === 1 ? '' : 's'}: ${places.join(', ')}`;
}

/** The dry run's estimate: `estimated cost: $0.42 for 120 runs (12,000 in / 3,000 out tokens)`, and what it leaves out. */
export function estimateLine(estimate: CostEstimate, unit = 'run'): string {
  const runs = `${estimate.runs} ${unit}${estimate.runs === 1 ? '' : 's'}`;
  if (estimate.note !== null && estimate.llm_calls === 0) {
    return `estimated cost: ${estimate.cost_usd === null ? 'unknown' : formatUsd(estimate.cost_usd)} for ${runs}: ${estimate.note}`;
  }
  const usage = estimate.usage ? ` (${tokens(estimate.usage)} tokens)` : '';
  const cost = estimate.cost_usd !== null ? formatUsd(estimate.cost_usd) : estimate.priced_cost_usd > 0 ? `at least ${formatUsd(estimate.priced_cost_usd)}` : 'unknown';
  const left = [...(estimate.unpriced_models.length > 0 ? [`${unpriced(estimate.unpriced_models)}: tokens only`] : []), ...(estimate.llm_calls_without_usage > 0 ? [`${withoutUsage(estimate.llm_calls_without_usage)} when recorded`] : [])];
  return `estimated cost: ${cost} for ${runs}${usage}${left.length > 0 ? `; ${left.join('; ')}` : ''}`;
}
