import type { EvaluatorConfig, EvaluatorType } from '../../config/types';
import type { RunResult } from '../../replay/execute';
import { formatMs, formatPercent } from '../format';
import { samePath } from './same-path';

/** An evaluator's finding: a score from 0 to 1, or null when it could not judge; and why. */
export interface Verdict {
  score: number | null;
  reason: string;
}

/** What the rules see of a run output: strings as they are, a read Response as its body, other values as JSON. */
export function outputText(output: unknown): string {
  if (output === undefined || output === null) return '';
  if (typeof output === 'string') return output;
  const body = responseBody(output);
  return body === NO_BODY ? JSON.stringify(output) : outputText(body);
}

const NO_BODY = Symbol('no body');

/** The body of a Response the run returned (`{"$type":"Response","value":{...,"body"}}`); NO_BODY for other outputs. */
function responseBody(output: unknown): unknown {
  if (!isTagged(output) || output.$type !== 'Response') return NO_BODY;
  return isObject(output.value) ? output.value.body : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTagged(value: unknown): value is { $type: string; value?: unknown } {
  return isObject(value) && typeof value.$type === 'string';
}

const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
const verdict = (ok: boolean, pass: string, fail: string): Verdict => ({ score: ok ? 1 : 0, reason: ok ? pass : fail });

/**
 * Empty: nothing, blank text, an empty list or object, and the same inside the recorder's tags (a
 * class instance with no data, `{"$type":"undefined"}`), a Response with an empty body, or a run
 * whose output came in frames, none of them.
 */
function isEmpty(output: unknown, frames?: unknown[] | null): boolean {
  if (Array.isArray(frames) && frames.length === 0) return true;
  if (output === undefined || output === null) return true;
  if (typeof output === 'string') return output.trim() === '';
  if (Array.isArray(output)) return output.length === 0;
  if (isTagged(output)) {
    const body = responseBody(output);
    if (body !== NO_BODY) return isEmpty(body);
    return output.$type === 'undefined' || ('value' in output && isEmpty(output.value));
  }
  return typeof output === 'object' && Object.keys(output).length === 0;
}

/**
 * Why `text` is not JSON, or undefined when it is. Server-Sent Events (`data: ...` lines) are JSON
 * when each event's data is, the `[DONE]` that ends OpenAI-style streams aside.
 */
function jsonError(text: string): string | undefined {
  const events = /^(data|event|id|retry):/m.test(text) && !/^\s*[[{"]/.test(text) ? text.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()) : [text];
  for (const data of events) {
    if (data === '[DONE]') continue;
    try {
      JSON.parse(data);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return undefined;
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

/** What a conversation evaluator says of a single run: it has nothing to judge. */
export const NOT_A_CONVERSATION: Verdict = { score: null, reason: 'the run is a single call, not a conversation' };

/**
 * The evaluators that need nothing but the run (and for similarity, the baseline's run). Those
 * that judge conversations skip single runs; a conversation's own verdicts are in conversation.ts.
 */
export const RULES: Record<Exclude<EvaluatorType, 'llm_judge'>, Rule> = {
  output_not_empty: (run) =>
    verdict(!isEmpty(run.output, run.frames), 'output is not empty', `output is empty (${run.output === undefined ? 'none' : JSON.stringify(run.output)})`),
  contains: (run, c) => verdict(includes(run, c), `output contains ${quote(c.value!)}`, `output does not contain ${quote(c.value!)}`),
  not_contains: (run, c) => verdict(!includes(run, c), `output does not contain ${quote(c.value!)}`, `output contains ${quote(c.value!)}`),
  matches_regex: (run, c) => {
    const re = new RegExp(c.pattern!, c.flags);
    return verdict(re.test(outputText(run.output)), `output matches ${re}`, `output does not match ${re}`);
  },
  json_valid: (run) => {
    // Output sent in several frames is JSON when each frame is (one JSON message per WebSocket frame or event).
    if (Array.isArray(run.frames) && run.frames.length > 1) {
      const bad = run.frames.findIndex((f) => typeof f === 'string' && jsonError(f) !== undefined);
      return bad < 0
        ? verdict(true, `each of ${run.frames.length} frames is valid JSON`, '')
        : verdict(false, '', `frame ${bad + 1} of ${run.frames.length} is not valid JSON: ${jsonError(run.frames[bad] as string)}`);
    }
    const body = responseBody(run.output);
    const output = body === NO_BODY ? run.output : body;
    if (typeof output !== 'string') return verdict(output !== undefined && output !== null, 'output is a structured value', 'there is no output');
    const error = jsonError(output);
    return verdict(error === undefined, 'output is valid JSON', `output is not valid JSON: ${error}`);
  },
  latency_under: (run, c) => verdict(run.duration_ms < c.max_ms!, `took ${formatMs(run.duration_ms)}`, `took ${formatMs(run.duration_ms)}, not under ${formatMs(c.max_ms!)}`),
  success: (run) => verdict(run.status === 'ok', 'ended ok', run.status === 'timeout' ? 'timed out' : `ended in error: ${run.error ? `${run.error.name}: ${run.error.message}` : 'unknown'}`),
  similarity: (run, c, baseline) => {
    if (baseline === undefined) return { score: null, reason: 'no baseline run to compare with' };
    const score = similarity(outputText(run.output), outputText(baseline.output));
    return { score, reason: `${formatPercent(score)} like the baseline's output${score < c.threshold ? `, under ${formatPercent(c.threshold)}` : ''}` };
  },
  same_path: (run) => samePath(run),
  max_turns_under: () => NOT_A_CONVERSATION,
  terminated_by: () => NOT_A_CONVERSATION,
};
