import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/errors';
import { readJsonFile, summaryOfLine, Totals, type PlanFile } from './folder';
import { planDifference } from './identity';
import { fileLines, JsonArray, JsonLines, makePrivateDir, writeJson } from './output';
import type { ExperimentSummary } from './runner';
import { CallsTally } from './tally';

/** A shard folder, read for the merge. */
interface ShardFolder {
  dir: string;
  plan: PlanFile;
  summary: ExperimentSummary;
}

/** How a shard ended, the worst first: the merge ends as its worst shard did. */
const WORST_FIRST: Array<ExperimentSummary['ended']> = ['failed', 'interrupted', 'stopped', 'completed'];

function readShard(dir: string): ShardFolder {
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new ConfigError(`${dir} is not an experiment folder`);
  const plan = readJsonFile<PlanFile>(path.join(dir, 'plan.json'));
  if (plan?.hash === undefined) throw new ConfigError(`${dir} has no plan.json: it is not an experiment folder, or was made by a fluxloop that could not merge`);
  const summary = readJsonFile<ExperimentSummary>(path.join(dir, 'summary.json'));
  if (summary === undefined) throw new ConfigError(`${dir} has no summary.json: its run never finished; go on with it first (run experiment --resume ${dir})`);
  return { dir, plan, summary };
}

/** Checks that `shards` are every share of one plan, each once; says what is wrong otherwise. */
function checkShards(shards: ShardFolder[]): void {
  const [first] = shards;
  for (const shard of shards) {
    if (shard.plan.hash !== first!.plan.hash) throw new ConfigError(`${shard.dir} is of another plan than ${first!.dir} (${planDifference(first!.plan, shard.plan)} differ): shards of different plans cannot be merged`);
    if (shard.plan.shard === null) throw new ConfigError(`${shard.dir} holds the whole plan, not a shard (run experiment --shard i/n makes shards)`);
  }
  const count = first!.plan.shard!.count;
  const seen = new Map<number, string>();
  for (const { dir, plan } of shards) {
    if (plan.shard!.count !== count) throw new ConfigError(`${dir} is shard ${plan.shard!.index}/${plan.shard!.count}, but ${first!.dir} is one of ${count}`);
    const twice = seen.get(plan.shard!.index);
    if (twice !== undefined) throw new ConfigError(`${twice} and ${dir} are both shard ${plan.shard!.index}/${count}`);
    seen.set(plan.shard!.index, dir);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new ConfigError(`shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${count}`).join(', ')} missing: the merge would lack their runs`);
}

/**
 * Merges the shard folders of one plan (`run experiment --shard i/n`) into one experiment folder
 * at `output`, as one process would have written it: summary, plan, traces, observations and
 * errors. Refuses shards of different plans, a shard twice, or a missing one.
 */
export async function mergeExperiments(dirs: string[], output: string): Promise<{ dir: string; summary: ExperimentSummary }> {
  const shards = dirs.map((dir) => readShard(path.resolve(dir)));
  checkShards(shards);
  const dir = path.resolve(output);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new ConfigError(`--output ${output} is not empty: the merge writes a new folder`);
  makePrivateDir(dir);
  const traces = new JsonLines(path.join(dir, 'traces.jsonl'));
  const observations = new JsonLines(path.join(dir, 'observations.jsonl'));
  const errors = new JsonArray(path.join(dir, 'errors.json'));
  const totals = new Totals();
  const tally = new CallsTally({});
  try {
    for (const shard of shards) {
      for await (const line of fileLines(path.join(shard.dir, 'traces.jsonl'))) {
        traces.writeText(`${line}\n`);
        totals.add(summaryOfLine(line));
      }
      for await (const line of fileLines(path.join(shard.dir, 'observations.jsonl'))) observations.writeText(`${line}\n`);
      for (const entry of readJsonFile<unknown[]>(path.join(shard.dir, 'errors.json')) ?? []) errors.write(entry);
      tally.addSummary(shard.summary);
    }
  } finally {
    traces.close();
    observations.close();
    errors.close();
  }
  const summaries = shards.map((s) => s.summary);
  const first = summaries[0]!;
  const startedAt = summaries.map((s) => s.started_at).sort()[0]!;
  writeJson(path.join(dir, 'plan.json'), { ...shards[0]!.plan, shard: null, started_at: startedAt } satisfies PlanFile);
  const total = totals.durations.length;
  const { shard: _shard, resumes: _resumes, ...base } = first;
  const sum = (pick: (s: ExperimentSummary) => number) => summaries.reduce((n, s) => n + pick(s), 0);
  const summary: ExperimentSummary = {
    ...base,
    ...tally.summary(),
    ended: WORST_FIRST.find((ended) => summaries.some((s) => s.ended === ended))!,
    started_at: startedAt,
    finished_at: summaries.map((s) => s.finished_at).sort().at(-1)!,
    // The shards ran side by side: the merge took as long as the longest.
    total_time_ms: Math.max(...summaries.map((s) => s.total_time_ms)),
    total_runs: total,
    planned_runs: sum((s) => s.planned_runs),
    counts: totals.counts,
    success_rate: total === 0 ? 0 : totals.counts.ok / total,
    runs_with_warnings: totals.warned,
    stray_errors: sum((s) => s.stray_errors),
    duration_ms: totals.durations.stats(),
    merged_from: shards.map((s) => path.basename(s.dir)),
    ...(first.conversations === undefined ? {} : { conversations: { ...first.conversations, turns: totals.turns, by_termination_reason: totals.endings } }),
  };
  // What a shard said of how it ended, kept where only some shards say it.
  for (const key of ['interrupted_by', 'failure', 'stopped'] as const) {
    const said = summaries.find((s) => s[key] !== undefined)?.[key];
    if (said === undefined) delete summary[key];
    else (summary as unknown as Record<string, unknown>)[key] = said;
  }
  writeJson(path.join(dir, 'summary.json'), summary);
  return { dir, summary };
}
