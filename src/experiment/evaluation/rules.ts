import type { EvaluatorConfig, EvaluatorType } from '../../config/types';
import type { RunResult } from '../../replay/execute';

/** An evaluator's finding: a score from 0 to 1, or null when it could not judge; and why. */
export interface Verdict {
  score: number | null;
  reason: string;
}

/** What the rules see of a run output: strings as they are, other values as JSON. */
export function outputText(output: unknown): string {
  if (output === undefined || output === null) return '';
  return typeof output === 'string' ? output : JSON.stringify(output);
}

const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
const verdict = (ok: boolean, pass: string, fail: string): Verdict => ({ score: ok ? 1 : 0, reason: ok ? pass : fail });

function isEmpty(output: unknown): boolean {
  if (output === undefined || output === null) return true;
  if (typeof output === 'string') return output.trim() === '';
  if (Array.isArray(output)) return output.length === 0;
  return typeof output === 'object' && Object.keys(output).length === 0;
}

function includes(run: RunResult, config: EvaluatorConfig): boolean {
  const text = outputText(run.output);
  const value = config.value!;
  return config.case_sensitive === false ? text.toLowerCase().includes(value.toLowerCase()) : text.includes(value);
}

/**
 * Sørensen–Dice coefficient of the character bigrams of two texts, case and spacing ignored:
 * linear in their length (an edit distance is quadratic, too slow for long replies), and
 * tolerant of reworded or reordered text. Written here since the npm packages for it are unmaintained.
 */
export function similarity(a: string, b: string): number {
  const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
  const [x, y] = [norm(a), norm(b)];
  if (x === y) return 1;
  if (x.length < 2 || y.length < 2) return 0;
  const bigrams = new Map<string, number>();
  for (let i = 0; i < x.length - 1; i++) {
    const g = x.slice(i, i + 2);
    bigrams.set(g, (bigrams.get(g) ?? 0) + 1);
  }
  let shared = 0;
  for (let i = 0; i < y.length - 1; i++) {
    const g = y.slice(i, i + 2);
    const n = bigrams.get(g) ?? 0;
    if (n > 0) {
      bigrams.set(g, n - 1);
      shared++;
    }
  }
  return (2 * shared) / (x.length - 1 + y.length - 1);
}

type Rule = (run: RunResult, config: EvaluatorConfig, baseline: RunResult | undefined) => Verdict;

/** The evaluators that need nothing but the run (and for similarity, the baseline's run). */
export const RULES: Record<Exclude<EvaluatorType, 'llm_judge'>, Rule> = {
  output_not_empty: (run) => verdict(!isEmpty(run.output), 'output is not empty', `output is empty (${run.output === undefined ? 'none' : JSON.stringify(run.output)})`),
  contains: (run, c) => verdict(includes(run, c), `output contains ${quote(c.value!)}`, `output does not contain ${quote(c.value!)}`),
  not_contains: (run, c) => verdict(!includes(run, c), `output does not contain ${quote(c.value!)}`, `output contains ${quote(c.value!)}`),
  matches_regex: (run, c) => {
    const re = new RegExp(c.pattern!, c.flags);
    return verdict(re.test(outputText(run.output)), `output matches ${re}`, `output does not match ${re}`);
  },
  json_valid: (run) => {
    if (typeof run.output !== 'string') return verdict(run.output !== undefined && run.output !== null, 'output is a structured value', 'there is no output');
    try {
      JSON.parse(run.output);
      return verdict(true, 'output is valid JSON', '');
    } catch (error) {
      return verdict(false, '', `output is not valid JSON: ${(error as Error).message}`);
    }
  },
  latency_under: (run, c) => verdict(run.duration_ms < c.max_ms!, `took ${Math.round(run.duration_ms)} ms`, `took ${Math.round(run.duration_ms)} ms, not under ${c.max_ms} ms`),
  success: (run) => verdict(run.status === 'ok', 'ended ok', run.status === 'timeout' ? 'timed out' : `ended in error: ${run.error ? `${run.error.name}: ${run.error.message}` : 'unknown'}`),
  similarity: (run, c, baseline) => {
    if (baseline === undefined) return { score: null, reason: 'no baseline run to compare with' };
    const score = similarity(outputText(run.output), outputText(baseline.output));
    return { score, reason: `${Math.round(score * 100)}% like the baseline's output${score < c.threshold ? `, under ${Math.round(c.threshold * 100)}%` : ''}` };
  },
};
