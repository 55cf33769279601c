import fs from 'node:fs';
import { isCommonJs } from '../config/project';
import type { TargetSpec } from '../config/types';
import type { Param } from '../instrument/params';
import { messageOf } from './check';

/**
 * What a target's file says of it, read as the transform will read it when the file loads.
 * `compiled`: TypeScript or JSX, which the transform sees only once tsx has compiled it.
 * `syntax`: the file does not parse.
 * `target`: the file is fine, the target is not there (or not one function, or not instrumentable).
 * A target found comes with its function's name and parameters, as the recorder writes them.
 */
export type SourceFinding =
  | { ok: true; detail: string; name: string; params: Param[] }
  | { ok: false; problem: 'compiled' | 'unreadable' | 'syntax' | 'target'; detail: string };

const COMPILED = /\.(?:[cm]?ts|tsx|jsx)$/;

/**
 * Finds the targets of one file as the transform finds them when the file loads, without running
 * anything of it: the file is read, parsed in the format Node gives it, and transformed here, one
 * finding per target in order.
 */
export function inspectSource(file: string, display: string, targets: readonly TargetSpec[]): SourceFinding[] {
  const every = (finding: SourceFinding): SourceFinding[] => targets.map(() => finding);
  if (COMPILED.test(file)) {
    const language = /\.jsx$/.test(file) ? 'JSX' : 'TypeScript';
    return every({ ok: false, problem: 'compiled', detail: `${display} is ${language}, which cannot be parsed as it is: checked when the app runs under tsx; see \`npx fluxloop record status\`` });
  }
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return every({ ok: false, problem: 'unreadable', detail: `cannot read ${display}: ${messageOf(error)}` });
  }
  const format = isCommonJs(file) ? 'cjs' : 'esm';
  // Loaded only now: the parser and the code generator are for the doctor of a project with targets.
  const { transformModule } = require('../instrument/transform/transform') as typeof import('../instrument/transform/transform');
  let reports;
  try {
    reports = transformModule(source, file, format, targets).report.targets;
  } catch (error) {
    return every(parseFailure(display, error));
  }
  return reports.map((r) =>
    r.ok ? { ok: true, detail: `found at ${display}:${r.line}:${r.column}: ${r.source}`, name: r.name, params: r.params } : { ok: false, problem: 'target', detail: `${display}: ${r.reason}` },
  );
}

/** A syntax error, as the parser reports it, at its `FILE:LINE:COL`. */
function parseFailure(display: string, error: unknown): SourceFinding {
  const { loc, description } = error as { loc?: { start: { line: number; column: number } }; description?: string };
  const where = loc ? `${display}:${loc.start.line}:${loc.start.column + 1}` : display;
  return { ok: false, problem: 'syntax', detail: `syntax error at ${where}: ${description ?? messageOf(error)}` };
}
