import path from 'node:path';
import type { Command } from 'commander';
import { projectRelative } from '../config/project';
import { loadSimulationConfig } from '../config/simulation';
import { formatDateTime, formatPercent } from '../experiment/format';
import { listInputs } from '../experiment/inputs';
import { listExperiments, type ExperimentEntry } from '../experiment/list';
import { integerAtLeast } from './arguments';
import { colors, cut, existingProjectRootOf, print, table } from './output';

const rate = (value: number | null) => (value === null ? colors.dim('–') : formatPercent(value));

/** `6/6`, or `3/6 interrupted`; a folder without summary.json is running or broken, which one it cannot tell. */
function runsCell(e: ExperimentEntry): string {
  if (e.total_runs === null || e.planned_runs === null) return colors.dim('no summary.json');
  const runs = `${e.total_runs}/${e.planned_runs}`;
  return e.ended === 'completed' || e.ended === null ? runs : `${runs} ${colors.yellow(e.ended)}`;
}

function printExperiments(root: string, base: string, experiments: ExperimentEntry[]): void {
  if (experiments.length === 0) {
    print(`No experiment in ${projectRelative(root, base)} yet: \`fluxloop run experiment\` makes one.`);
    return;
  }
  const header = ['name', 'when', 'runs', 'success', 'pass'].map((h) => colors.dim(h));
  const rows = experiments.map((e) => [e.name, e.started_at === null ? colors.dim('–') : formatDateTime(e.started_at), runsCell(e), rate(e.success_rate), rate(e.pass_rate)]);
  print(...table([header, ...rows]));
}

function printInputs(root: string, listing: ReturnType<typeof listInputs>): void {
  const shown = projectRelative(root, listing.file);
  if (!listing.exists) {
    print(`${shown} does not exist: \`fluxloop generate inputs\` writes it; until then experiments run base_inputs.`);
    return;
  }
  print(colors.bold(`${shown}: ${listing.inputs.length} input${listing.inputs.length === 1 ? '' : 's'}`));
  const header = ['line', 'input', 'metadata'].map((h) => colors.dim(h));
  const rows = listing.inputs.map((i) => [String(i.line), JSON.stringify(cut(i.input, 60)), i.metadata === null ? '' : colors.dim(cut(JSON.stringify(i.metadata), 60))]);
  print(...table([header, ...rows], '  '));
}

/** Registers `fluxloop list experiments` and `fluxloop list inputs`. */
export function registerList(program: Command): void {
  const list = program.command('list').description('list the experiments and the inputs of the project');

  list
    .command('experiments')
    .description('the newest experiment folders under output_directory: when, runs, success rate, and the pass rate once evaluated')
    .option('--limit <n>', 'list at most n (default: 10)', integerAtLeast(1))
    .option('--json', 'print one JSON object, with each folder\'s files')
    .action((options: { limit?: number; json?: boolean }, command: Command) => {
      const root = existingProjectRootOf(command);
      const base = path.resolve(root, loadSimulationConfig(root).output_directory);
      const experiments = listExperiments(base, options.limit ?? 10);
      if (options.json) print(JSON.stringify({ output_directory: base, experiments }, null, 2));
      else printExperiments(root, base, experiments);
    });

  list
    .command('inputs')
    .description('the inputs of inputs_file (default: inputs/generated.yaml), each with its line')
    .option('--json', 'print one JSON object')
    .action((options: { json?: boolean }, command: Command) => {
      const root = existingProjectRootOf(command);
      const listing = listInputs(root, loadSimulationConfig(root));
      if (options.json) print(JSON.stringify(listing, null, 2));
      else printInputs(root, listing);
    });
}
