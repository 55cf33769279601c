import { formatPercent } from '../format';
import { writeFileAtomic } from '../output';
import { isConversationEvaluation, type AnyTraceEvaluation, type ConversationEvaluation, type EvaluationSummary } from './types';
import { defaultEvaluatorsNote, gateVerdict } from './verdict';

/*
 * JUnit XML for CI test reporters (GitHub Actions reporters, GitLab, Jenkins): one test case a
 * run, or a conversation. Written by hand rather than with an XML library: the format is a handful of fixed
 * elements, and all it needs is careful escaping.
 */

/** Characters XML 1.0 forbids: C0 controls but tab and line breaks, lone surrogates (paired ones are one code point under /u), U+FFFE and U+FFFF. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDFFF]/gu;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text content. `>` is escaped too, so that `]]>` cannot appear; `\r` as a reference, which parsers would otherwise fold into `\n`. */
function text(value: string): string {
  return value
    .replace(NOT_XML, '')
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!)
    .replace(/\r/g, '&#13;');
}

/** An attribute value: parsers turn raw tabs and line breaks in attributes into spaces, so they go as references. */
function attr(value: string | number): string {
  return text(String(value))
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}

/** One line, at most `max` characters (code points, so that no emoji is cut in half). */
function oneLine(value: string, max: number): string {
  const chars = Array.from(value.replace(NOT_XML, '').replace(/\s+/g, ' ').trim());
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

function seconds(ms: number): string {
  return (Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0).toFixed(3);
}

/** `#3 what the user asked (iteration 0)`: the position keeps names unique when inputs repeat. */
function caseName(trace: AnyTraceEvaluation, n: number): string {
  const input = oneLine(trace.input, 80) || '(empty input)';
  const conversation = isConversationEvaluation(trace) ? `conversation ${oneLine(trace.conversation_id, 80)}, ` : '';
  const where = trace.recording_index === null ? '' : `recording ${trace.recording_index}, `;
  return `#${n} ${input} (${conversation}${where}iteration ${trace.iteration})`;
}

/**
 * Why a conversation failed: its first failed conversation evaluator, else how many turns failed
 * and the first failure; the body lists every reason, each failed turn's among them.
 */
function conversationFailure(trace: ConversationEvaluation): { message: string; type: string; body: string } {
  const failedTurns = trace.turns.filter((t) => !t.passed);
  const turnLine = trace.reasons.find((r) => /^turn \d+: /.test(r));
  const own = trace.evaluators.find((e) => !e.passed && !e.skipped && trace.reasons.some((r) => r.startsWith(`${e.name}:`)));
  const ownReason = own && trace.reasons.find((r) => r.startsWith(`${own.name}:`));
  const turns = failedTurns.length === 0 ? undefined : `${failedTurns.length} of ${trace.turns.length} turns failed${turnLine ? ` (${turnLine})` : ''}`;
  const message = ownReason ?? turns ?? trace.reasons[0] ?? 'the score is below the pass threshold';
  const type = trace.status !== 'ok' ? trace.status : (own?.type ?? (failedTurns.length > 0 ? 'turns' : 'pass_threshold'));
  const head = `status ${trace.status}, ended by ${trace.termination_reason}, score ${formatPercent(trace.score)}, turns passed ${trace.turn_pass_rate === null ? '–' : formatPercent(trace.turn_pass_rate)}, trace ${trace.trace_id}`;
  return { message, type, body: [head, ...trace.reasons].join('\n') };
}

/**
 * Why a run failed. The message is the reason of the first evaluator that failed, not simply the
 * first reason, since `reasons` also lists the skipped ones; for a run that errored or timed out,
 * that of `success` first, which is the one that speaks of the error. The type is that
 * evaluator's type, or the status of a run that did not end ok.
 */
function failureOf(trace: AnyTraceEvaluation): { message: string; type: string; body: string } {
  if (isConversationEvaluation(trace)) return conversationFailure(trace);
  const failing = trace.evaluators.filter((e) => !e.passed && !e.skipped);
  const failed = (trace.status !== 'ok' ? failing.find((e) => e.type === 'success') : undefined) ?? failing[0];
  const reason = failed && (trace.reasons.find((r) => r.startsWith(`${failed.name}:`)) ?? `${failed.name}: ${failed.reason}`);
  const fallback = trace.status === 'ok' ? 'the score is below the pass threshold' : `the run ended with status ${trace.status}`;
  const type = trace.status === 'ok' ? (failed?.type ?? 'pass_threshold') : trace.status;
  const head = `status ${trace.status}, score ${formatPercent(trace.score)}, trace ${trace.trace_id}`;
  return { message: reason ?? trace.reasons[0] ?? fallback, type, body: [head, ...trace.reasons].join('\n') };
}

/**
 * The gate's verdict as a suite of one case, beside the runs' suite so that its `failures` stay
 * the evaluation's failed count: CI reporters show a failed case where they would not show a
 * property.
 */
function gateSuite(summary: EvaluationSummary, classname: string, stamp: string | undefined): string[] {
  const gate = summary.gate;
  if (!gate) return [];
  const verdict = gateVerdict(summary)!;
  const open = `    <testcase classname="${attr(classname)}" name="${attr(`pass rate is at least ${formatPercent(gate.min_pass_rate)}`)}" time="0.000"`;
  const body = [verdict, `set by ${gate.source}`, ...(defaultEvaluatorsNote(summary) ?? [])].join('\n');
  return [
    `  <testsuite name="${attr(`${summary.experiment} pass rate`)}" tests="1" failures="${gate.passed ? 0 : 1}" errors="0" skipped="0" time="0.000"${stamp ? ` timestamp="${stamp}"` : ''}>`,
    gate.passed ? `${open}/>` : `${open}>\n      <failure message="${attr(verdict)}" type="min_pass_rate">${text(body)}</failure>\n    </testcase>`,
    '  </testsuite>',
  ];
}

/**
 * The report: one suite for the experiment, one case a run, a `<failure>` for each run that did
 * not pass. Runs that errored or timed out are failures too rather than JUnit errors, so that
 * `failures` is the evaluation's failed count. With a minimum pass rate, a second suite holds its
 * verdict.
 */
export function renderJunit(summary: EvaluationSummary, traces: Iterable<AnyTraceEvaluation>): string {
  // Dots separate packages in Jenkins and GitLab, so the experiment's name must not add any.
  const classname = `fluxloop.${summary.experiment.replace(/[^\w-]+/g, '_')}`;
  const cases: string[] = [];
  let failures = 0;
  let totalMs = 0;
  let n = 0;
  for (const trace of traces) {
    n++;
    if (Number.isFinite(trace.duration_ms) && trace.duration_ms > 0) totalMs += trace.duration_ms;
    const open = `    <testcase classname="${attr(classname)}" name="${attr(caseName(trace, n))}" time="${seconds(trace.duration_ms)}"`;
    if (trace.passed) {
      cases.push(`${open}/>`);
      continue;
    }
    failures++;
    const failure = failureOf(trace);
    cases.push(
      `${open}>\n      <failure message="${attr(oneLine(failure.message, 500))}" type="${attr(failure.type)}">${text(failure.body)}</failure>\n    </testcase>`,
    );
  }

  const properties: Array<[string, string | number]> = [
    ['pass_rate', summary.pass_rate],
    ['pass_threshold', summary.pass_threshold],
    ['success_rate', summary.success_rate],
  ];
  if (summary.gate) properties.push(['min_pass_rate', summary.gate.min_pass_rate], ['gate', summary.gate.passed ? 'passed' : 'failed']);
  const comparison = summary.comparison;
  if (comparison) {
    properties.push(['baseline', comparison.baseline], ['regressions', comparison.counts.regressions], ['fixes', comparison.counts.fixes]);
  }
  // Jenkins' schema wants a timestamp without a zone; evaluated_at is UTC.
  const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(summary.evaluated_at)?.[0];
  // Summed durations: runs overlap when they run concurrently, so this is not the wall time.
  const counts = `tests="${n}" failures="${failures}" errors="0"`;
  const gateFailed = summary.gate && !summary.gate.passed ? 1 : 0;
  const all = summary.gate ? `tests="${n + 1}" failures="${failures + gateFailed}" errors="0"` : counts;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="fluxloop" ${all} time="${seconds(totalMs)}">`,
    `  <testsuite name="${attr(summary.experiment)}" ${counts} skipped="0" time="${seconds(totalMs)}"${stamp ? ` timestamp="${stamp}"` : ''}>`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property name="${name}" value="${attr(value)}"/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
    ...gateSuite(summary, classname, stamp),
    '</testsuites>',
    '',
  ].join('\n');
}

/** Writes it whole or not at all, for its owner alone (0600): it quotes the experiment's runs. */
export function writeJunit(file: string, summary: EvaluationSummary, traces: Iterable<AnyTraceEvaluation>): void {
  writeFileAtomic(file, renderJunit(summary, traces), { private: true });
}
