import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Observation } from '../trace/observations';
import type { AnyTraceEvaluation, TraceLine } from './evaluation/types';
import { OtlpRunExport, type OtlpExportResult } from './otlp';

export interface OtlpFolderOptions {
  /** The collector's traces endpoint, as `otlpTracesUrl` gives it. */
  url: string;
  /** The experiment folder. */
  dir: string;
  /** The runs' verdicts, as `evaluate experiment` made them; matched to runs by trace id. */
  evaluations?: Iterable<AnyTraceEvaluation>;
  timeoutMs?: number;
}

// The queue is let drain this often, so that a folder of many runs is not dropped for want of room.
const FLUSH_EVERY = 200;

/**
 * Exports every run of an experiment folder, with its verdict when given: traces.jsonl and
 * observations.jsonl read line by line, side by side, as the runner writes them (each run's
 * observations just after the one before's). Never throws: what goes wrong is the warning.
 */
export async function exportExperimentFolder(options: OtlpFolderOptions): Promise<OtlpExportResult> {
  const { dir } = options;
  const verdicts = new Map<string, AnyTraceEvaluation>();
  for (const e of options.evaluations ?? []) verdicts.set(e.trace_id, e);
  const exporter = new OtlpRunExport({ url: options.url, experiment: experimentName(dir), timeoutMs: options.timeoutMs });
  const observations = jsonLines<Observation>(path.join(dir, 'observations.jsonl'));
  try {
    let next = (await observations.next()).value;
    // Runs met so far: an observation of one of them met later is out of place, and passed over.
    const seen = new Set<string>();
    let count = 0;
    for await (const run of jsonLines<TraceLine>(path.join(dir, 'traces.jsonl'))) {
      if (typeof run?.trace_id !== 'string') continue;
      seen.add(run.trace_id);
      const own: Observation[] = [];
      while (next !== undefined) {
        if (next.trace_id === run.trace_id) own.push(next);
        else if (!seen.has(next.trace_id)) break;
        next = (await observations.next()).value;
      }
      exporter.addParsed(run, own, verdicts.get(run.trace_id));
      if (++count % FLUSH_EVERY === 0) await exporter.flush();
    }
  } catch (error) {
    const result = await exporter.close();
    return { exported: result.exported, warning: `OTLP export of ${dir} stopped: ${(error as Error)?.message ?? String(error)}` };
  } finally {
    await observations.return(undefined);
  }
  return exporter.close();
}

/** The experiment's name as summary.json has it (the config's `name`, as `run experiment` exports it), else the folder's. */
function experimentName(dir: string): string {
  try {
    const { name } = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { name?: unknown };
    if (typeof name === 'string' && name !== '') return name;
  } catch {
    // An interrupted experiment may have no summary.
  }
  return path.basename(path.resolve(dir));
}

/** Each line of `file` that parses as JSON (a cut last line does not); nothing when there is no file. */
async function* jsonLines<T>(file: string): AsyncGenerator<T, undefined> {
  if (!fs.existsSync(file)) return undefined;
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let value: T;
      try {
        value = JSON.parse(line) as T;
      } catch {
        continue;
      }
      yield value;
    }
  } finally {
    lines.close();
  }
  return undefined;
}
