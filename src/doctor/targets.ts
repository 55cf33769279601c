import path from 'node:path';
import { findModule, projectRelative } from '../config/project';
import { parseTarget } from '../config/targets';
import type { SimulationConfig } from '../config/types';
import { check, type Check } from './check';
import { configLabel, type DoctorContext } from './context';
import { findEntries, type Entry } from './entry';
import { probeModule, type Finding, type ProbeOutcome, type ProbeTarget } from './probe';

/** One configured target to check. */
interface Item {
  id: string;
  title: string;
  /** Where it is configured: `recording.targets[1]`, `runner.target`, `runner.factory`. */
  field: string;
  target: ProbeTarget;
  file: string;
  /** The module's real path; undefined when no file matches. */
  resolved?: string;
  recording: boolean;
}

function itemsOf(root: string, config: SimulationConfig): Item[] {
  const item = (id: string, label: string, field: string, spec: string, mode: ProbeTarget['mode']): Item => {
    const { exportName, member, file } = parseTarget(spec);
    const target: ProbeTarget = member === undefined ? { spec, exportName, mode } : { spec, exportName, member, mode };
    const recording = id === 'recording-target';
    return { id: `${id}:${spec}`, title: `${label} ${spec}`, field, target, file, resolved: findModule(path.resolve(root, file)), recording };
  };
  const items = config.recording.targets.map((spec, i) => item('recording-target', 'target', `recording.targets[${i}]`, spec, 'function'));
  const { target, factory } = config.runner;
  if (factory !== undefined) items.push(item('runner-factory', 'runner.factory', 'runner.factory', factory, 'function'));
  // With a factory, runner.target names a method of the instance it makes: known only at run time.
  if (target !== undefined) items.push(item('runner-target', 'runner.target', 'runner.target', target, factory === undefined ? 'function' : 'module'));
  return items;
}

/** 5 and 6. Each target resolves to a function; no recording target is in the app's entry module. */
export async function checkTargets(ctx: DoctorContext, timeoutMs: number): Promise<Check[]> {
  const config = configLabel(ctx);
  if (!ctx.config.ok) {
    return [
      check('targets', 'recording targets', 'skip', `${config} does not load`),
      check('entry-module', 'entry module', 'skip', `the targets are in ${config}, which does not load`),
    ];
  }
  const items = itemsOf(ctx.root, ctx.config.value);
  const entries = findEntries(ctx.root);
  const entryOf = (item: Item) => (item.recording ? entries.find((e) => e.file === item.resolved) : undefined);

  // One child process per module, all at once, each bounded by the timeout.
  const byFile = new Map<string, Item[]>();
  for (const item of items) {
    if (item.resolved !== undefined && entryOf(item) === undefined) byFile.set(item.resolved, [...(byFile.get(item.resolved) ?? []), item]);
  }
  const outcomes = new Map<Item, Extract<ProbeOutcome, { loaded: false }> | Finding>();
  await Promise.all(
    [...byFile].map(async ([file, group]) => {
      const display = projectRelative(ctx.root, file);
      const outcome = await probeModule(ctx.root, { file, display, targets: group.map((i) => i.target) }, timeoutMs);
      group.forEach((item, i) => outcomes.set(item, outcome.loaded ? outcome.findings[i]! : outcome));
    }),
  );

  const checks: Check[] = [];
  if (ctx.config.value.recording.targets.length === 0) {
    checks.push(check('targets', 'recording targets', 'warn', `none in ${config}: nothing is recorded`, `list your functions under recording.targets in ${config}, e.g. "- app/agent.js:handleMessage"`));
  }
  for (const item of items) checks.push(targetCheck(ctx, item, entryOf(item) !== undefined, outcomes.get(item)));
  checks.push(checkEntryModule(ctx, items, entries));
  return checks;
}

/** One target's line: where its module is, whether it loads, and what its name points at. */
function targetCheck(ctx: DoctorContext, item: Item, inEntry: boolean, finding: Extract<ProbeOutcome, { loaded: false }> | Finding | undefined): Check {
  const where = `${item.field} in ${configLabel(ctx)}`;
  if (item.resolved === undefined) {
    return check(item.id, item.title, 'fail', `module not found: ${item.file} (looked for it with .js, .mjs, .cjs, .ts and index files)`, `correct the path at ${where}; paths are relative to the project root`);
  }
  const file = projectRelative(ctx.root, item.resolved);
  if (inEntry || finding === undefined) {
    return check(item.id, item.title, 'skip', `not loaded: ${file} is the app's entry module, and loading it would start the app (see entry module)`);
  }
  if ('loaded' in finding) {
    const cause = 'cause' in finding ? finding.cause : 'error';
    const fix = {
      timeout: `make importing ${file} finish: move start-up work (servers, loops, top-level await) out of its top level`,
      exit: `keep ${file} from calling process.exit when it is imported: move that into a function`,
      error:
        /\.[cm]?tsx?$/.test(file) && !withTsx()
          ? 'TypeScript needs tsx in the CLI\'s process: `NODE_OPTIONS="--import tsx" npx fluxloop doctor`'
          : `fix the error ${file} throws when it is imported`,
    }[cause];
    return check(item.id, item.title, 'fail', finding.error, fix);
  }
  if (finding.ok) return check(item.id, item.title, 'ok', finding.detail);
  if (finding.problem === 'missing') {
    const add = item.target.member === undefined ? `export it from ${item.file}` : `give "${item.target.exportName}" a method "${item.target.member}"`;
    return check(item.id, item.title, 'fail', finding.detail, `${add}, or correct the name at ${where}`);
  }
  return check(item.id, item.title, 'fail', finding.detail, `point ${where} at a function: module:export, module:object.method or module:Class.method`);
}

/** Whether this process (and so the probe's child) loads TypeScript through tsx. */
function withTsx(): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => /\btsx\b/.test(arg));
}

/** 6. Loader hooks cannot reach a function of the entry module: nothing imports it. */
function checkEntryModule(ctx: DoctorContext, items: Item[], entries: Entry[]): Check {
  const title = 'entry module';
  if (entries.length === 0) {
    return check('entry-module', title, 'skip', 'entry file unknown: package.json has no main or scripts.start, and nothing has been recorded yet');
  }
  const show = (entry: Entry) => `${projectRelative(ctx.root, entry.file)} (${entry.sources.join(', ')})`;
  const inEntry = items.filter((item) => item.recording && entries.some((e) => e.file === item.resolved));
  if (inEntry.length === 0) return check('entry-module', title, 'ok', `no recording target in ${entries.map(show).join(', ')}`);
  const entry = entries.find((e) => e.file === inEntry[0]!.resolved)!;
  const names = [...new Set(inEntry.map((item) => item.target.exportName))];
  return check(
    'entry-module',
    title,
    'warn',
    `${inEntry.map((item) => item.target.spec).join(', ')} ${inEntry.length === 1 ? 'is' : 'are'} in ${show(entry)}, the app's entry module: loader hooks cannot reach it, so it is never recorded`,
    `move ${names.join(', ')} into its own module that ${projectRelative(ctx.root, entry.file)} imports, and point recording.targets there`,
  );
}
