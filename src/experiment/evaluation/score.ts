import type { EvaluatorConfig } from '../../config/types';
import type { Verdict } from './rules';
import type { EvaluatorResult, TraceEvaluation } from './types';

/** An evaluator passes when its score reaches its threshold; one that could not judge is skipped. */
export function evaluatorResult(config: EvaluatorConfig, verdict: Verdict): EvaluatorResult {
  const skipped = verdict.score === null;
  return {
    name: config.name,
    type: config.type,
    weight: config.weight,
    score: verdict.score === null ? null : Math.round(verdict.score * 1000) / 1000,
    passed: !skipped && verdict.score! >= config.threshold,
    skipped,
    reason: verdict.reason,
  };
}

/**
 * A run's score is the weighted share of its evaluators that passed, skipped ones left out; the
 * run passes when the score reaches the threshold. Shares rather than mean scores, so that a
 * judge's 0.9 over its 0.7 threshold counts as a pass, not as 0.9. A run that no evaluator could
 * judge fails: an unreachable judge must not let every run through.
 */
export function scoreRun(results: EvaluatorResult[], passThreshold: number): Pick<TraceEvaluation, 'score' | 'passed' | 'reasons'> {
  let total = 0;
  let passed = 0;
  const reasons: string[] = [];
  for (const r of results) {
    if (r.skipped) {
      reasons.push(`${r.name}: skipped, ${r.reason}`);
      continue;
    }
    total += r.weight;
    if (r.passed) passed += r.weight;
    else reasons.push(`${r.name}: ${r.reason}`);
  }
  if (results.every((r) => r.skipped)) return { score: 0, passed: false, reasons };
  // Evaluators of weight 0 only inform.
  if (total === 0) return { score: 1, passed: true, reasons };
  // Compared as shown, to three decimals, so that 2/3 passes a threshold of 0.667 as well as one of 2/3.
  const score = Math.round((passed / total) * 1000);
  return { score: score / 1000, passed: score >= Math.round(passThreshold * 1000), reasons };
}
