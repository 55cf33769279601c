import { formatDeltaMs, formatDeltaPoints, formatMs, formatPercent } from '../format';
import { writeFileAtomic } from '../output';
import { byInput } from './compare';
import type { ComparedRun, Comparison, Delta, EvaluationSummary } from './types';
import { defaultEvaluatorsNote, gateVerdict, unitOf } from './verdict';

// A short Markdown summary of an evaluation, for a CI step summary such as $GITHUB_STEP_SUMMARY:
// what a reviewer needs at a glance, the details being in the report.

export interface MarkdownOptions {
  /** Where the full report is, linked when it is a URL, shown as is otherwise. */
  reportPath?: string;
  /** Regressions listed at most; 20 by default. */
  maxRows?: number;
}

/** Control characters (but tab and line breaks) and lone surrogates: invisible at best, a broken file at worst. */
const UNPRINTABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]|[\uD800-\uDFFF]/gu;

/**
 * Text for a table cell or a line: on one line, at most `max` characters, with the characters
 * Markdown would read as syntax escaped: `|` would end the cell, `<` could open HTML that hides the
 * rest, `*`, `_`, `` ` ``, `[`… would format agent output that was never meant as Markdown.
 */
function inline(value: string, max = Infinity): string {
  const chars = Array.from(value.replace(UNPRINTABLE, '').replace(/\s+/g, ' ').trim());
  const short = chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
  return short.replace(/[\\`*_[\]<>|~&]/g, '\\$&');
}

/** A change of count, with its sign: `+2`, `-1`, `0`. */
function signed(delta: number): string {
  return delta > 0 ? `+${delta}` : String(delta);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function row(cells: Array<string | number>): string {
  return `| ${cells.join(' | ')} |`;
}

/**
 * The baseline's run counts, which the comparison does not hold: its runs are those paired with
 * one now plus the missing ones, and its pass rate gives how many passed. Null when the figures
 * do not agree, rather than a wrong count.
 */
function baselineCounts(c: Comparison): { total: number; passed: number } | null {
  const { regressions, fixes, still_passing, still_failing, missing_runs } = c.counts;
  const total = regressions + fixes + still_passing + still_failing + missing_runs;
  const passed = Math.round(c.pass_rate.baseline * total);
  const known = still_passing + regressions;
  if (total === 0 || passed < known || passed > known + missing_runs || Math.abs(passed / total - c.pass_rate.baseline) > 1e-9) return null;
  return { total, passed };
}

/** Turns and how conversations ended, under the figures; nothing for an experiment of single runs. */
function conversationLines(summary: EvaluationSummary): string[] {
  const c = summary.conversations;
  if (!c) return [];
  const turns = c.turn_pass_rate === null ? `${plural(c.turns, 'turn')}` : `${c.turns_passed} of ${plural(c.turns, 'turn')} passed (${formatPercent(c.turn_pass_rate)})`;
  const ended = Object.entries(c.by_termination_reason)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([reason, n]) => `${inline(reason, 60)} ${n}`)
    .join(' · ');
  return ['', `Turns: ${turns}. Ended by: ${ended}.`];
}

function figures(summary: EvaluationSummary): string[] {
  const { comparison: c, latency_ms: latency } = summary;
  const units = unitOf(summary)[1].replace(/^./, (x) => x.toUpperCase());
  if (!c) {
    return [
      row(['', 'Now']),
      row(['---', '---:']),
      row([units, summary.total]),
      row(['Passed', summary.passed]),
      row(['Failed', summary.failed]),
      row(['Pass rate', formatPercent(summary.pass_rate)]),
      row(['Success rate', formatPercent(summary.success_rate)]),
      row(['p50 latency', formatMs(latency.p50)]),
      row(['p95 latency', formatMs(latency.p95)]),
    ];
  }
  const base = baselineCounts(c);
  const count = (name: string, now: number, then: number | undefined) =>
    row([name, then ?? '—', now, then === undefined ? '' : signed(now - then)]);
  const rate = (name: string, d: Delta) => row([name, formatPercent(d.baseline), formatPercent(d.current), formatDeltaPoints(d.delta)]);
  const time = (name: string, d: Delta) => row([name, formatMs(d.baseline), formatMs(d.current), formatDeltaMs(d.delta)]);
  return [
    row(['', 'Baseline', 'Now', 'Δ']),
    row(['---', '---:', '---:', '---:']),
    count(units, summary.total, base?.total),
    count('Passed', summary.passed, base?.passed),
    count('Failed', summary.failed, base ? base.total - base.passed : undefined),
    rate('Pass rate', c.pass_rate),
    rate('Success rate', c.success_rate),
    time('p50 latency', c.latency_ms.p50),
    time('p95 latency', c.latency_ms.p95),
  ];
}

function evaluators(summary: EvaluationSummary): string[] {
  if (summary.evaluators.length === 0) return [];
  return [
    row(['Evaluator', 'Passed', 'Failed', 'Skipped', 'Mean score']),
    row(['---', '---:', '---:', '---:', '---:']),
    ...summary.evaluators.map((e) =>
      row([
        // With conversations, a turn evaluator's counts are of turns.
        `${e.name === e.type ? inline(e.name) : `${inline(e.name)} (${e.type})`}${e.scope === 'turn' ? ', per turn' : ''}`,
        e.passed,
        e.failed,
        e.skipped,
        e.mean_score === null ? '—' : formatPercent(e.mean_score),
      ]),
    ),
  ];
}

function score(run: ComparedRun): string {
  const f = (s: number | null) => (s === null ? '—' : formatPercent(s));
  return `${f(run.baseline_score)} → ${f(run.score)}`;
}

/** `#2, line 14`: which recording, so that runs of one input can be told apart; a conversation without one by its id. */
function recording(run: ComparedRun): string {
  if (run.recording_index === null) return run.conversation_id === undefined ? '—' : inline(run.conversation_id, 40);
  return run.recording_line === null || run.recording_line === undefined ? `#${run.recording_index}` : `#${run.recording_index}, line ${run.recording_line}`;
}

function regressions(c: Comparison, maxRows: number, more: string): string[] {
  if (c.regressions.length === 0) return [];
  const shown = byInput(c.regressions).slice(0, maxRows);
  const lines = [
    `### Regressions (${c.regressions.length})`,
    '',
    row(['Recording', 'Iteration', 'Input', 'Score', 'Why it fails now']),
    row(['---', '---:', '---', '---:', '---']),
    ...shown.map((r) => row([recording(r), r.iteration, inline(r.input, 80) || '(empty)', score(r), r.reasons.map((reason) => inline(reason, 200)).join('<br>') || '—'])),
  ];
  const rest = c.regressions.length - shown.length;
  if (rest > 0) lines.push('', `…and ${rest} more${more}.`);
  return lines;
}

function reportLine(reportPath: string): string {
  // Characters that would end the link's destination are percent-encoded (encodeURIComponent leaves the parentheses).
  const hex = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  if (/^https?:\/\/\S+$/i.test(reportPath)) return `[Full report](${reportPath.replace(/[()<>]/g, hex)})`;
  return `Full report: \`${reportPath.replace(/[`\r\n]/g, '')}\``;
}

/** The summary: a heading, a verdict, the figures, the evaluators and, against a baseline, what changed. */
export function renderMarkdown(summary: EvaluationSummary, options: MarkdownOptions = {}): string {
  const c = summary.comparison;
  const maxRows = Math.max(0, Math.floor(options.maxRows ?? 20));
  const [unit, units] = unitOf(summary);
  const verdict =
    summary.total === 0 ? '⚪ No runs were evaluated' : summary.failed === 0 ? `✅ All ${plural(summary.total, unit, units)} passed` : `❌ ${summary.failed} of ${plural(summary.total, unit, units)} failed`;
  const against = c && (c.counts.regressions > 0 ? ` · ⚠️ ${plural(c.counts.regressions, 'regression')}` : ' · no regressions');
  const lines = [`## fluxloop evaluation: ${inline(summary.experiment)}`, ''];
  const gate = gateVerdict(summary);
  if (gate) lines.push(`**${inline(gate)}** (${inline(summary.gate!.source)})`, '');
  const bar = formatPercent(summary.pass_threshold);
  // A conversation is held to the threshold twice: by its own evaluators and by its share of turns passed.
  const rule = summary.conversations ? `a turn passes at a score of ${bar}; a conversation when its conversation evaluators and its turns pass at ${bar}` : `a run passes at a score of ${bar}`;
  lines.push(`${verdict}${against ?? ''} (${rule})`);
  const note = defaultEvaluatorsNote(summary);
  if (note) lines.push('', `> ⚠️ ${note.map((s) => inline(s)).join(' ')}`);
  if (c) lines.push('', `Compared with the baseline ${inline(c.baseline)}.`);
  lines.push('', ...figures(summary), ...conversationLines(summary));
  const perEvaluator = evaluators(summary);
  if (perEvaluator.length > 0) lines.push('', ...perEvaluator);
  if (c) {
    const more = options.reportPath ? ' in the full report' : '';
    const changed = regressions(c, maxRows, more);
    if (changed.length > 0) lines.push('', ...changed);
    const { fixes, new_runs, missing_runs } = c.counts;
    lines.push('', `${plural(fixes, 'fix', 'fixes')} · ${plural(new_runs, 'new run')} · ${plural(missing_runs, 'missing run')} (only in the baseline)`);
  }
  if (options.reportPath) lines.push('', reportLine(options.reportPath));
  return lines.join('\n') + '\n';
}

/** Writes it whole or not at all, for its owner alone (0600): it quotes the experiment's runs. */
export function writeMarkdown(file: string, summary: EvaluationSummary, options: MarkdownOptions = {}): void {
  writeFileAtomic(file, renderMarkdown(summary, options), { private: true });
}
