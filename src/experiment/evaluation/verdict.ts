import type { EvaluationConfig, EvaluatorType } from '../../config/types';
import { formatPercent } from '../format';
import type { EvaluationSummary, PassRateGate } from './types';

// What an evaluation concludes, in the words the console, the Markdown summary, JUnit and the
// report all use: one text, so that no two of them say it differently.

/** What `fluxloop evaluate` checks when nothing else is configured. */
const DEFAULT_TYPES: readonly EvaluatorType[] = ['success', 'output_not_empty'];

/** Every evaluator is a default one: the runs were checked for output, not for what it says. */
export function defaultEvaluatorsOnly(config: Pick<EvaluationConfig, 'evaluators'>): boolean {
  return config.evaluators.every((e) => DEFAULT_TYPES.includes(e.type));
}

/**
 * `--min-pass-rate`: a share from 0 to 1 (`0.8`) or a percentage with its sign (`80%`). A bare
 * number over 1 is refused rather than guessed at: `1` is 100%, so `80` cannot also mean 80%.
 * Throws an Error whose message says what to write.
 */
export function parseRate(text: string): number {
  const value = text.trim();
  const percent = /^(\d+(?:\.\d+)?|\.\d+)%$/.exec(value);
  if (percent) {
    const n = Number(percent[1]) / 100;
    if (n > 1) throw new Error(`must be at most 100%, found ${value}`);
    return n;
  }
  if (/^(\d+(?:\.\d+)?|\.\d+)$/.test(value)) {
    const n = Number(value);
    if (n > 1) throw new Error(`must be a share from 0 to 1 or a percentage, found ${value}; for ${value}% write ${Number((n / 100).toFixed(6))} or ${value}%`);
    return n;
  }
  throw new Error(`must be a share from 0 to 1 (0.8) or a percentage (80%), found ${JSON.stringify(text)}`);
}

/** The gate an evaluation is held to: the flag's minimum, else the config's; null without either. */
export function passRateGate(passRate: number, config: Pick<EvaluationConfig, 'pass_rate_threshold' | 'source'>, minPassRate?: number): PassRateGate | null {
  const [min, source] = minPassRate !== undefined ? [minPassRate, '--min-pass-rate'] : [config.pass_rate_threshold, `${config.source} (pass_rate_threshold)`];
  if (min === null) return null;
  // Compared as shown (to a tenth of a percent), so that a verdict never reads "66.7% is below 66.7%".
  return { min_pass_rate: min, source, passed: Math.round(passRate * 1000) >= Math.round(min * 1000) };
}

/** What an evaluation counts, singular and plural: conversations when every line is one, else runs. */
export function unitOf(summary: Pick<EvaluationSummary, 'total' | 'conversations'>): [string, string] {
  return summary.conversations !== undefined && summary.conversations.total === summary.total ? ['conversation', 'conversations'] : ['run', 'runs'];
}

/** `FAILED: pass rate 40% (2 of 5 runs) is below the minimum 80%`, or `PASSED: …`; null without a gate. */
export function gateVerdict(summary: Pick<EvaluationSummary, 'gate' | 'pass_rate' | 'passed' | 'total' | 'conversations'>): string | null {
  const { gate } = summary;
  if (!gate) return null;
  const rate = `pass rate ${formatPercent(summary.pass_rate)} (${summary.passed} of ${summary.total} ${unitOf(summary)[1]})`;
  return gate.passed ? `PASSED: ${rate} reaches the minimum ${formatPercent(gate.min_pass_rate)}` : `FAILED: ${rate} is below the minimum ${formatPercent(gate.min_pass_rate)}`;
}

/** Where evaluators are added: the file they were read from, else the one `fluxloop init` writes. */
function configFile(summary: Pick<EvaluationSummary, 'evaluation_config'>): string {
  return summary.evaluation_config === '(defaults)' ? 'configs/evaluation.yaml' : summary.evaluation_config;
}

/**
 * When only the default evaluators ran, what they checked and how to check more, in two
 * sentences; null otherwise. A green result from them says only that each run returned something.
 */
export function defaultEvaluatorsNote(summary: Pick<EvaluationSummary, 'default_evaluators_only' | 'evaluation_config'>): [string, string] | null {
  if (!summary.default_evaluators_only) return null;
  return [
    'Only the default evaluators ran (success, output_not_empty): they check only that each run ended without an error and with some output, not that the output is right.',
    `Add evaluators that check what it says to ${configFile(summary)}: contains, not_contains, matches_regex, json_valid, latency_under, similarity, llm_judge, same_path.`,
  ];
}
