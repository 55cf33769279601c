import type { ExperimentOptions } from '../experiment/runner';
import { formatMs } from '../experiment/format';
import { createRedactor } from '../record/redact';
import { redactJson, type RedactRules } from '../record/redact-json';
import type { RunResult } from '../replay/execute';
import type { Observation } from '../trace/observations';
import { colors } from './output';
import { isConversation, type ConversationResult } from '../experiment/conversation-result';

type Progress = Parameters<NonNullable<ExperimentOptions['onProgress']>>[0];

/** The longest value shown on one line; a hundred runs must stay readable. */
const MAX_VALUE = 240;
/** The observations shown for one run, deepest last. */
const MAX_OBSERVATIONS = 12;

/** Compact JSON on one line, cut at MAX_VALUE with a marker that says how much is left out. */
function compact(value: unknown): string {
  return cut(value === undefined ? 'undefined' : JSON.stringify(value));
}

function cut(text: string): string {
  if (text.length <= MAX_VALUE) return text;
  return `${text.slice(0, MAX_VALUE)}${colors.dim(`… (${(text.length - MAX_VALUE).toLocaleString('en-US')} more characters)`)}`;
}

/** The observations as an indented tree, parents before their children, in the order they were written. */
function tree(observations: Observation[]): string[] {
  const ids = new Set(observations.map((o) => o.id));
  const children = new Map<string | null, Observation[]>();
  for (const o of observations) {
    // An observation whose parent was not written (a run that timed out) is shown as a root.
    const parent = o.parent_id !== null && ids.has(o.parent_id) ? o.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), o]);
  }
  const lines: string[] = [];
  const walk = (parent: string | null, depth: number): void => {
    for (const o of children.get(parent) ?? []) {
      const failed = o.error !== undefined && o.error !== null ? colors.red(' threw') : '';
      lines.push(`${'  '.repeat(depth)}${o.name} ${colors.dim(o.type)} ${formatMs(o.duration_ms)}${failed}`);
      walk(o.id, depth + 1);
    }
  };
  walk(null, 0);
  if (lines.length <= MAX_OBSERVATIONS) return lines;
  return [...lines.slice(0, MAX_OBSERVATIONS), colors.dim(`… ${lines.length - MAX_OBSERVATIONS} more in observations.jsonl`)];
}

/** A conversation as it finishes: each turn's user message and answer, then how it ended. */
function conversationLines(c: ConversationResult, done: number, total: number, mask: (value: unknown) => unknown): string[] {
  const resumed = c.resumed_from === null ? '' : colors.dim(`  resumed at turn ${c.resumed_from}`);
  const lines = [`${colors.bold(`conversation ${done}/${total}`)} ${(STATUS[c.status] ?? String)(c.status)} ${formatMs(c.duration_ms)}  ${compact(mask(c.conversation_id))}${resumed}`];
  for (const turn of c.turns) {
    lines.push(`  ${turn.turn} user ${colors.dim(`(${turn.source})`)}  ${compact(mask(turn.user_message))}`, `    agent  ${compact(mask(turn.output))}`);
    if (turn.error) lines.push(colors.red(`    error  ${cut(String(mask(`${turn.error.name}: ${turn.error.message}`)).replace(/\s*\n\s*/g, ' '))}`));
  }
  if (c.closing_user_message !== null) lines.push(`  user  ${compact(mask(c.closing_user_message))}`);
  lines.push(`  ended ${c.termination_reason}`);
  if (c.error && c.turns.every((t) => t.error === null)) lines.push(colors.red(`  error ${cut(String(mask(c.error.message)))}`));
  return lines;
}

const STATUS: Record<string, (text: string) => string> = { ok: colors.green, error: colors.red, timeout: colors.yellow };

/**
 * `run experiment --verbose`: each run as it finishes, in a few lines: its input, the arguments it
 * was called with (the input in place), its output, its error and its observations. Everything is
 * masked by the project's redaction rules (`rules`), as the files are, before it is shown.
 */
export function runDetails(rules: () => RedactRules | undefined, write: (lines: string[]) => void): (progress: Progress) => void {
  let mask: ((value: unknown) => unknown) | undefined;
  return ({ done, total, trace, observations }) => {
    if (mask === undefined) {
      const { keys, patterns } = rules() ?? { keys: [], patterns: [] };
      const redactor = createRedactor(keys, patterns);
      mask = (value) => redactJson(value, redactor);
    }
    const line = JSON.parse(trace) as unknown;
    if (isConversation(line)) return write(conversationLines(line, done, total, mask));
    const run = line as RunResult;
    const recording = run.recording_index === null ? '' : colors.dim(`  recording ${run.recording_index} (line ${run.recording_line})`);
    const lines = [
      `${colors.bold(`run ${done}/${total}`)} ${(STATUS[run.status] ?? String)(run.status)} ${formatMs(run.duration_ms)}${recording}`,
      `  input         ${compact(mask(run.input))}`,
      run.args === null
        ? `  arguments     ${colors.dim('none: the function was not called')}`
        : `  arguments     ${compact(mask(run.args))}${run.override_location ? colors.dim(`  (input at ${run.override_location})`) : ''}`,
      `  output        ${compact(mask(run.output))}`,
    ];
    if (run.error) lines.push(colors.red(`  error         ${cut(String(mask(`${run.error.name}: ${run.error.message}`)).replace(/\s*\n\s*/g, ' '))}`));
    for (const warning of run.warnings ?? []) lines.push(colors.yellow(`  warning       ${warning}`));
    const observed = observations
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Observation);
    if (observed.length > 0) lines.push('  observations', ...tree(observed).map((line) => `    ${line}`));
    write(lines);
  };
}
