import path from 'node:path';
import { findModule, projectRelative, typeScriptTwin } from '../config/project';
import { parseTarget } from '../config/targets';
import type { SimulationConfig, TargetSpec } from '../config/types';
import type { Param } from '../instrument/params';
import { servedByTransform } from '../instrument/mechanism';
import { INSTALL_TSX, needsCompiler, projectTsx } from '../replay/typescript';
import { check, type Check } from './check';
import { configLabel, type DoctorContext } from './context';
import { probeModule, type Finding, type ProbeOutcome, type ProbeTarget } from './probe';
import { checkInstance } from './instance';
import { inspectSource, type SourceFinding } from './source';

/** One configured target to check. */
interface Item {
  id: string;
  title: string;
  /** Where it is configured: `recording.targets[1]`, `recording.downstream.targets[0]`, `runner.target`, `runner.factory`. */
  field: string;
  spec: TargetSpec;
  target: ProbeTarget;
  /** The module's real path; undefined when no file matches. */
  resolved?: string;
  /** Recorded through a transform of its file's source, which reaches any function: checked in the source, not the exports. */
  inSource: boolean;
}

/** What was found for a target: in its file's source, or in its module's exports by a probe. */
type Outcome = { source: SourceFinding } | { exports: Extract<ProbeOutcome, { loaded: false }> | Finding };

function itemsOf(root: string, config: SimulationConfig): Item[] {
  const item = (id: string, label: string, field: string, text: string, mode: ProbeTarget['mode']): Item => {
    const spec = parseTarget(text);
    const target: ProbeTarget = spec.member === undefined ? { spec: text, exportName: spec.exportName, mode } : { spec: text, exportName: spec.exportName, member: spec.member, mode };
    const resolved = findModule(path.resolve(root, spec.file));
    // Replay loads runner.target and runner.factory through their module's exports, whatever records them.
    const inSource = (id === 'recording-target' || id === 'downstream-target') && resolved !== undefined && servedByTransform(spec, resolved);
    return { id: `${id}:${text}`, title: `${label} ${text}`, field, spec, target, resolved, inSource };
  };
  const items = config.recording.targets.map((spec, i) => item('recording-target', 'target', `recording.targets[${i}]`, spec, 'function'));
  // A tool is recorded and answered by the mechanism a recording target of its file would be.
  config.recording.downstream.targets.forEach((spec, i) => items.push(item('downstream-target', 'tool', `recording.downstream.targets[${i}]`, spec, 'function')));
  const { target, factory } = config.runner;
  if (factory !== undefined) items.push(item('runner-factory', 'runner.factory', 'runner.factory', factory, 'function'));
  // With a factory, runner.target names a method of the instance it makes: known only at run time.
  if (target !== undefined) items.push(item('runner-target', 'runner.target', 'runner.target', target, factory === undefined ? 'function' : 'module'));
  return items;
}

function byFile(items: Item[]): Map<string, Item[]> {
  const files = new Map<string, Item[]>();
  for (const item of items) if (item.resolved !== undefined) files.set(item.resolved, [...(files.get(item.resolved) ?? []), item]);
  return files;
}

/** What was found for one configured target: its check, and what later checks need of it. */
export interface TargetState {
  /** Where it is configured: `recording.targets[1]`, `runner.target`, `runner.factory`. */
  field: string;
  spec: TargetSpec;
  /** ok: the function is there; skip: TypeScript, known only when the app runs; fail: it cannot be recorded or loaded. */
  check: Check;
  /** The function's parameters as replay and the recorder read them, when it was found. */
  params?: Param[];
  /** The function's own name, when its source was read (a line target's function has one too). */
  name?: string;
  /** A method of a class's prototype, which a replay calls on an instance. */
  onPrototype?: boolean;
}

/**
 * 5. Each target resolves to one function. The project's own files and line targets are read as
 * the transform will read them, nothing run; installed packages' targets, runner.target and
 * runner.factory are looked up in their module's exports, which a child process loads.
 * Undefined when the config does not load.
 */
export async function inspectTargets(ctx: DoctorContext, timeoutMs: number): Promise<TargetState[] | undefined> {
  if (!ctx.config.ok) return undefined;
  const items = itemsOf(ctx.root, ctx.config.value);
  const outcomes = new Map<Item, Outcome>();
  // One read per file, all its targets at once, as the transform sees them when the file loads.
  for (const [file, group] of byFile(items.filter((i) => i.inSource))) {
    inspectSource(file, projectRelative(ctx.root, file), group.map((i) => i.spec)).forEach((finding, i) => outcomes.set(group[i]!, { source: finding }));
  }
  // One child process per module, all at once, each bounded by the timeout.
  await Promise.all(
    [...byFile(items.filter((i) => !i.inSource))].map(async ([file, group]) => {
      const display = projectRelative(ctx.root, file);
      const outcome = await probeModule(ctx.root, { file, display, targets: group.map((i) => i.target) }, timeoutMs);
      group.forEach((item, i) => outcomes.set(item, { exports: outcome.loaded ? outcome.findings[i]! : outcome }));
    }),
  );
  const config = configLabel(ctx);
  return items.map((item): TargetState => {
    const where = `${item.field} in ${config}`;
    const outcome = outcomes.get(item);
    const state = { field: item.field, spec: item.spec };
    if (item.resolved === undefined || outcome === undefined) {
      const twin = typeScriptTwin(path.resolve(ctx.root, item.spec.file));
      const hint = twin === undefined ? '' : `; did you mean ${projectRelative(ctx.root, twin)}?`;
      const detail = `module not found: ${item.spec.file} (looked for it with .js, .mjs, .cjs, .ts and index files)${hint}`;
      return { ...state, check: check(item.id, item.title, 'fail', detail, `correct the path at ${where}; paths are relative to the project root`) };
    }
    const file = projectRelative(ctx.root, item.resolved);
    if ('source' in outcome) {
      const found = outcome.source;
      return { ...state, check: sourceCheck(item, found, file, where), ...(found.ok ? { params: found.params, name: found.name } : {}) };
    }
    const found = outcome.exports;
    const extra = 'ok' in found && found.ok ? { ...(found.params ? { params: found.params } : {}), ...(found.onPrototype ? { onPrototype: true } : {}) } : {};
    return { ...state, check: exportsCheck(ctx.root, item, found, file, where), ...extra };
  });
}

/** The checks of the targets, in the config's order. */
export async function checkTargets(ctx: DoctorContext, states: TargetState[] | undefined): Promise<Check[]> {
  const config = configLabel(ctx);
  if (!ctx.config.ok || states === undefined) return [check('targets', 'recording targets', 'skip', `${config} does not load`)];
  const checks: Check[] = [];
  if (ctx.config.value.recording.targets.length === 0) {
    checks.push(check('targets', 'recording targets', 'warn', `none in ${config}: nothing is recorded`, `list your functions under recording.targets in ${config}, e.g. "- app/agent.js:handleMessage"`));
  }
  for (const state of states) {
    checks.push(state.check);
    // A class's method runs on an instance made from each recording: the recordings must keep it.
    if (state.field === 'runner.target' && state.onPrototype) checks.push(await checkInstance(ctx, state.spec));
  }
  return checks;
}

/** A target the transform records: where it is in its file, or why the transform would not find it there. */
function sourceCheck(item: Item, finding: SourceFinding, file: string, where: string): Check {
  if (finding.ok) return check(item.id, item.title, 'ok', finding.detail);
  const fix = {
    compiled: undefined,
    unreadable: `make ${file} readable`,
    syntax: `fix the syntax error in ${file}`,
    target:
      item.spec.line !== undefined
        ? `correct or remove ${where}: the line one function begins on, or LINE:COLUMN when several do`
        : `correct or remove the name at ${where}: a function, Object.method or Class.method at the top level of ${file}, exported or not, or FILE:LINE`,
  }[finding.problem];
  return check(item.id, item.title, finding.problem === 'compiled' ? 'skip' : 'fail', finding.detail, fix);
}

/** A target reached through its module's exports: whether the module loads, and what its name points at. */
function exportsCheck(root: string, item: Item, finding: Extract<ProbeOutcome, { loaded: false }> | Finding, file: string, where: string): Check {
  if ('loaded' in finding) {
    const cause = 'cause' in finding ? finding.cause : 'error';
    const fix = {
      timeout: `make importing ${file} finish: move start-up work (servers, loops, top-level await) out of its top level`,
      exit: `keep ${file} from calling process.exit when it is imported: move that into a function`,
      error: needsCompiler(file) && projectTsx(root) === undefined ? INSTALL_TSX : `fix the error ${file} throws when it is imported`,
    }[cause];
    return check(item.id, item.title, 'fail', finding.error, fix);
  }
  if (finding.ok) return check(item.id, item.title, 'ok', finding.detail);
  if (finding.problem === 'missing') {
    const add = item.target.member === undefined ? `export it from ${item.spec.file}` : `give "${item.target.exportName}" a method "${item.target.member}"`;
    return check(item.id, item.title, 'fail', finding.detail, `${add}, or correct the name at ${where}`);
  }
  return check(item.id, item.title, 'fail', finding.detail, `point ${where} at a function: module:export, module:object.method or module:Class.method`);
}
