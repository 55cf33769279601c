import type { Usage } from '../record/downstream-format';
import type { Divergence, DivergenceKind, RunCall } from '../replay/calls';
import { addUsage, roundUsd, runCost, type CallsCost, type Prices } from './usage';

/** How many runs left the recorded path at one place, one way. */
export interface DivergencePlace {
  /** The call's place in the sequence, from 0. */
  index: number;
  kind: DivergenceKind;
  runs: number;
}

/** What summary.json says of the runs' downstream calls: tokens, cost, and where runs diverged. */
export interface CallsSummary {
  /** Tokens of every live LLM call; null when there was none. */
  usage: Usage | null;
  /** What they cost in US dollars; null when none was made, or when a model has no price or a call reported no usage. */
  cost_usd: number | null;
  /** Models called live that have no price (add them under `pricing:`): their tokens are counted, their cost is not. */
  unpriced_models: string[];
  /** LLM calls answered live, which the tokens and cost are of. */
  live_llm_calls: number;
  /** Live LLM calls whose response said no usage (a stream asked without it). */
  llm_calls_without_usage: number;
  /** HTTP and tool calls made for real (`live`, or let through by `unmatched: live`): where a replay may have had side effects. */
  live_calls: { http: number; tool: number };
  /** Runs whose calls parted from their recording's. */
  diverged_runs: number;
  /** Where they parted: by place and kind, the most runs first. */
  diverged_at: DivergencePlace[];
}

/** The part of a run result the tally reads. */
export interface TalliedRun {
  downstream?: RunCall[];
  divergence?: Divergence | null;
}

/** Adds up the runs of an experiment as they finish: their usage, cost and divergence. */
export class CallsTally {
  private usage: Usage | null = null;
  private priced = 0;
  private known = true;
  private calls = 0;
  private withoutUsage = 0;
  private readonly unpriced: string[] = [];
  private diverged = 0;
  private readonly live = { http: 0, tool: 0 };
  private readonly places = new Map<string, DivergencePlace>();

  constructor(private readonly prices: Prices) {}

  /** Counts a run; gives its usage and cost, for its result line. */
  add(run: TalliedRun): CallsCost {
    const cost = runCost(run.downstream, this.prices);
    this.usage = addUsage(this.usage, cost.usage);
    this.priced = roundUsd(this.priced + cost.priced_usd);
    this.calls += cost.calls;
    this.withoutUsage += cost.without_usage;
    if (cost.calls > 0 && cost.cost_usd === null) this.known = false;
    for (const model of cost.unpriced) if (!this.unpriced.includes(model)) this.unpriced.push(model);
    for (const call of run.downstream ?? []) if (call.answer === 'live' && call.kind !== 'llm') this.live[call.kind]++;
    const d = run.divergence;
    if (d) {
      this.diverged++;
      this.divergedAt(d.index, d.kind, 1);
    }
    return cost;
  }

  /** Counts the runs another tally summed up: a shard's, when shards are merged. */
  addSummary(other: CallsSummary): void {
    this.usage = addUsage(this.usage, other.usage);
    this.priced = roundUsd(this.priced + (other.cost_usd ?? 0));
    this.calls += other.live_llm_calls;
    this.withoutUsage += other.llm_calls_without_usage;
    if (other.live_llm_calls > 0 && other.cost_usd === null) this.known = false;
    for (const model of other.unpriced_models) if (!this.unpriced.includes(model)) this.unpriced.push(model);
    this.live.http += other.live_calls.http;
    this.live.tool += other.live_calls.tool;
    this.diverged += other.diverged_runs;
    for (const { index, kind, runs } of other.diverged_at) this.divergedAt(index, kind, runs);
  }

  private divergedAt(index: number, kind: DivergenceKind, runs: number): void {
    const key = `${index}:${kind}`;
    const place = this.places.get(key) ?? { index, kind, runs: 0 };
    place.runs += runs;
    this.places.set(key, place);
  }

  /** The cost of every call that has a price: what `--max-cost` holds the experiment to. */
  get pricedUsd(): number {
    return this.priced;
  }

  summary(): CallsSummary {
    return {
      usage: this.usage,
      cost_usd: this.calls > 0 && this.known ? this.priced : null,
      unpriced_models: [...this.unpriced],
      live_llm_calls: this.calls,
      llm_calls_without_usage: this.withoutUsage,
      live_calls: { ...this.live },
      diverged_runs: this.diverged,
      diverged_at: [...this.places.values()].sort((a, b) => b.runs - a.runs || a.index - b.index || a.kind.localeCompare(b.kind)),
    };
  }
}
