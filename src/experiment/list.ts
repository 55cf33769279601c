import fs from 'node:fs';
import path from 'node:path';

/** An experiment folder as `fluxloop list experiments` shows it; null where its summary.json does not say. */
export interface ExperimentEntry {
  /** The folder, absolute. */
  dir: string;
  /** The folder's name. */
  name: string;
  /** The experiment's name (`name` in the config). */
  experiment: string | null;
  started_at: string | null;
  finished_at: string | null;
  ended: string | null;
  total_runs: number | null;
  planned_runs: number | null;
  success_rate: number | null;
  /** From evaluation/summary.json, once the experiment was evaluated. */
  pass_rate: number | null;
  /** report.html, absolute, once written. */
  report: string | null;
  /** Every file of the folder, recursively, absolute and sorted. */
  files: string[];
}

/** The time a folder's experiment last wrote to it, or undefined when the folder holds no experiment. */
function writtenAt(dir: string): number | undefined {
  return fs.statSync(path.join(dir, 'traces.jsonl'), { throwIfNoEntry: false })?.mtimeMs;
}

/**
 * The experiment folders under `base`, written last first: the folders that hold a traces.jsonl,
 * which an experiment opens before its first run, so that one still running counts.
 */
export function experimentFolders(base: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .map((name) => ({ dir: path.join(base, name), at: writtenAt(path.join(base, name)) }))
    .filter((f): f is { dir: string; at: number } => f.at !== undefined)
    // Two written in the same millisecond: the later name, as names end with their start time.
    .sort((a, b) => b.at - a.at || (a.dir < b.dir ? 1 : -1))
    .map((f) => f.dir);
}

/** A JSON file's object; undefined when it is missing, cut or not an object (a run in progress, a broken folder). */
function readObject(file: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function filesUnder(dir: string): string[] {
  // By hand rather than readdir's `recursive`, whose entries name their folder only from Node 20.12.
  const walk = (folder: string): string[] => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      // Removed while it was listed: a folder being deleted has no files to show.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries.flatMap((entry) => {
      const full = path.join(folder, entry.name);
      return entry.isDirectory() ? walk(full) : entry.isFile() ? [full] : [];
    });
  };
  return walk(dir).sort();
}

/** One experiment folder, read from its summary.json and evaluation/summary.json. */
export function describeExperiment(dir: string): ExperimentEntry {
  const summary = readObject(path.join(dir, 'summary.json')) ?? {};
  const evaluation = readObject(path.join(dir, 'evaluation', 'summary.json')) ?? {};
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  const files = filesUnder(dir);
  const report = path.join(dir, 'report.html');
  return {
    dir,
    name: path.basename(dir),
    experiment: text(summary.name),
    started_at: text(summary.started_at),
    finished_at: text(summary.finished_at),
    ended: text(summary.ended),
    total_runs: number(summary.total_runs),
    planned_runs: number(summary.planned_runs),
    success_rate: number(summary.success_rate),
    pass_rate: number(evaluation.pass_rate),
    report: files.includes(report) ? report : null,
    files,
  };
}

/** The newest `limit` experiments under `base` (the config's output_directory, absolute), newest first. */
export function listExperiments(base: string, limit = 10): ExperimentEntry[] {
  return experimentFolders(base).slice(0, limit).map(describeExperiment);
}
