import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../config/errors';
import { isConversation, type ConversationResult } from '../conversation-result';
import type { ObservationLine, TraceLine } from './types';

/** An experiment folder as `fluxloop run experiment` wrote it. */
export interface ExperimentData {
  dir: string;
  /** The folder's name, e.g. `support_20261123_101500`. */
  name: string;
  /** `summary.json`; empty when the experiment was interrupted before writing it. */
  summary: Record<string, unknown>;
  /** Each line of traces.jsonl: a run's, or a conversation's (whose observations are in its turns). */
  runs: TraceLine[];
  /** Observations by trace id, in the order they were written (a single run's); only when asked for. */
  observations: Map<string, ObservationLine[]>;
  /** Lines that could not be read, each as `file:line: why`. */
  warnings: string[];
}

/**
 * Each JSON line of `file` that `accept` takes. An interrupted experiment can leave a cut last
 * line, so unreadable lines are reported, not fatal.
 */
function readJsonLines<T>(file: string, shown: string, accept: (value: unknown) => value is T, warnings: string[]): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const values: T[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      warnings.push(`${shown}:${i + 1}: not JSON, skipped${i === lines.length - 1 ? ' (a cut last line: was the experiment interrupted?)' : ''}`);
      return;
    }
    if (accept(value)) values.push(value);
    else warnings.push(`${shown}:${i + 1}: not a ${path.basename(file, '.jsonl').replace(/s$/, '')} line, skipped`);
  });
  return values;
}

const hasTraceId = (value: unknown): value is { trace_id: string } =>
  typeof value === 'object' && value !== null && typeof (value as { trace_id?: unknown }).trace_id === 'string';
/** A run's line, or a conversation's with its turns. */
const isTrace = (value: unknown): value is TraceLine =>
  hasTraceId(value) && typeof (value as TraceLine).status === 'string' && (!isConversation(value as unknown) || Array.isArray((value as ConversationResult).turns));

/** Reads an experiment folder; `shown` is how messages name it. Throws a ConfigError when it is not one. */
export function readExperiment(dir: string, shown: string, withObservations: boolean): ExperimentData {
  const traces = path.join(dir, 'traces.jsonl');
  if (!fs.existsSync(traces)) {
    const why = fs.existsSync(dir) ? 'has no traces.jsonl' : 'does not exist';
    throw new ConfigError(`${shown} ${why}: give the folder of an experiment, e.g. experiments/<name>_<timestamp>`);
  }
  const warnings: string[] = [];
  let summary: Record<string, unknown> = {};
  try {
    summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    warnings.push(`${shown}/summary.json: missing or unreadable; the experiment may have been interrupted`);
  }
  const runs = readJsonLines(traces, `${shown}/traces.jsonl`, isTrace, warnings);
  const observations = new Map<string, ObservationLine[]>();
  if (withObservations) {
    for (const o of readJsonLines(path.join(dir, 'observations.jsonl'), `${shown}/observations.jsonl`, hasTraceId, warnings)) {
      const list = observations.get(o.trace_id);
      if (list) list.push(o as ObservationLine);
      else observations.set(o.trace_id, [o as ObservationLine]);
    }
  }
  return { dir, name: path.basename(path.resolve(dir)), summary, runs, observations, warnings };
}
