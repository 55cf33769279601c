import type { Command } from 'commander';
import { mergeExperiments } from '../experiment/merge';
import { print } from './output';

/** `fluxloop merge experiments`: the shards of a CI matrix, made one experiment. */
export function registerMerge(program: Command): void {
  const merge = program.command('merge').description('merge experiment folders');
  merge
    .command('experiments')
    .argument('<dirs...>', 'the shard folders of one plan (run experiment --shard i/n), every shard once')
    .requiredOption('--output <dir>', 'the folder to write the merged experiment into (new, or empty)')
    .option('--json', 'print the merged summary as JSON on stdout')
    .description('merge the shards of one plan into one experiment folder, which evaluate and the report then read as any other')
    .action(async (dirs: string[], options: { output: string; json?: boolean }) => {
      const { dir, summary } = await mergeExperiments(dirs, options.output);
      if (options.json) return print(JSON.stringify(summary, null, 2));
      const { ok, error, timeout } = summary.counts;
      print(`Merged ${dirs.length} shards into ${dir}: ${summary.total_runs} of ${summary.planned_runs} runs (ok ${ok}, error ${error}, timeout ${timeout}), ${summary.ended}`);
    });
}
