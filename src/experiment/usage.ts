import type { ModelPrice, SimulationConfig } from '../config/types';
import type { Usage } from '../record/downstream-format';
import type { RunCall } from '../replay/calls';
import table from './pricing.json';

/** Prices by model name, in US dollars per million tokens. */
export type Prices = Readonly<Record<string, ModelPrice>>;

/** The price table fluxloop ships (`src/experiment/pricing.json`): when it was read, from where, and the prices. */
export const PRICE_TABLE: { readonly as_of: string; readonly source: string; readonly models: Prices } = table;

/** The prices a project's runs are counted at: the shipped table, with the config's `pricing:` over it. */
export function pricesOf(config?: Pick<SimulationConfig, 'pricing'>): Prices {
  return { ...PRICE_TABLE.models, ...config?.pricing };
}

// What a provider appends to a model's name for a snapshot of it: `-2024-08-06`, `-20250929`,
// `-0125`, `-latest`. Nothing else is taken for the listed model: `gpt-5-pro` is not `gpt-5`,
// nor `claude-opus-4-5` `claude-opus-4`, and a wrong price is worse than none.
const SNAPSHOT = /^-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)$/;

/**
 * The price of `model`: its own entry, else that of the longest listed name it is a snapshot of
 * (`gpt-4o-2024-08-06` takes `gpt-4o`); undefined when none is listed.
 */
export function priceOf(model: string, prices: Prices): ModelPrice | undefined {
  if (Object.hasOwn(prices, model)) return prices[model];
  let best: string | undefined;
  for (const name of Object.keys(prices)) {
    if (model.startsWith(name) && SNAPSHOT.test(model.slice(name.length)) && (best === undefined || name.length > best.length)) best = name;
  }
  return best === undefined ? undefined : prices[best];
}

/** What `usage` costs at `price`, in US dollars: cached input at its own price when the table has one. */
export function costOf(usage: Usage, price: ModelPrice): number {
  const cached = Math.min(usage.cached_input_tokens ?? 0, usage.input_tokens);
  const usd = (usage.input_tokens - cached) * price.input + cached * (price.cached_input ?? price.input) + usage.output_tokens * price.output;
  return roundUsd(usd / 1e6);
}

/** Dollars to a billionth, so that sums of floats read as the prices do. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

/** `a` and `b` added; null when both are. */
export function addUsage(a: Usage | null | undefined, b: Usage | null | undefined): Usage | null {
  if (!a) return b ? { ...b } : null;
  if (!b) return { ...a };
  const sum: Usage = {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
  if (a.cached_input_tokens !== undefined || b.cached_input_tokens !== undefined) sum.cached_input_tokens = (a.cached_input_tokens ?? 0) + (b.cached_input_tokens ?? 0);
  return sum;
}

/** The name a model without one is counted under. */
export const UNNAMED_MODEL = '(model not named)';

/** What some LLM calls used and cost. */
export interface CallsCost {
  /** Their tokens; null when none was counted. */
  usage: Usage | null;
  /** Their cost; null when there was no call, or when some call's cost is unknown (see `unpriced`, `without_usage`). */
  cost_usd: number | null;
  /** The cost of the calls that have one, whatever the others: what a cost cap can count. */
  priced_usd: number;
  /** The models called that have no price, in the order first called. */
  unpriced: string[];
  /** Calls whose response said no usage (a stream asked without it): their tokens are not known. */
  without_usage: number;
  /** The calls counted. */
  calls: number;
}

/** An LLM call to count: its model and the tokens its response reported. */
export interface MeteredCall {
  model?: string | null;
  usage?: Usage | null;
}

/** The usage and cost of `calls`, each priced by its model. */
export function callsCost(calls: Iterable<MeteredCall>, prices: Prices): CallsCost {
  const cost: CallsCost = { usage: null, cost_usd: null, priced_usd: 0, unpriced: [], without_usage: 0, calls: 0 };
  for (const call of calls) {
    cost.calls++;
    if (!call.usage) {
      cost.without_usage++;
      continue;
    }
    cost.usage = addUsage(cost.usage, call.usage);
    const model = call.model || UNNAMED_MODEL;
    const price = call.model ? priceOf(call.model, prices) : undefined;
    if (price === undefined) {
      if (!cost.unpriced.includes(model)) cost.unpriced.push(model);
    } else cost.priced_usd = roundUsd(cost.priced_usd + costOf(call.usage, price));
  }
  if (cost.calls > 0 && cost.unpriced.length === 0 && cost.without_usage === 0) cost.cost_usd = cost.priced_usd;
  return cost;
}

/**
 * The LLM calls a run paid for: those answered live. A stubbed call is answered from the recording
 * and costs nothing, though its RunCall carries the recorded usage; a denied one never left.
 */
export function liveLlmCalls(calls: readonly RunCall[] | undefined): RunCall[] {
  return (calls ?? []).filter((c) => c.kind === 'llm' && c.answer === 'live');
}

/** A run's usage and cost, from its downstream calls. */
export function runCost(calls: readonly RunCall[] | undefined, prices: Prices): CallsCost {
  return callsCost(liveLlmCalls(calls), prices);
}
