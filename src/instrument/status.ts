import fs from 'node:fs';
import path from 'node:path';
import { stateDir } from '../config/project';

/**
 * What each recording process knows about its targets, for `fluxloop record status`.
 * One file per process under `.fluxloop/status/`, so that cluster workers never race on one file;
 * the processes of one run share a `run_id` through the environment they inherit.
 */
export type TargetState = 'hooked' | 'not_loaded' | 'failed';

export interface TargetStatus {
  target: string;
  state: TargetState;
  /** Why a target is not hooked: file not found, export missing, not a function. */
  reason?: string;
  calls: number;
  /** How it is recorded: its file's source transformed at load, or its module's exports patched. */
  mechanism?: 'transform' | 'patch';
  /** Where a transformed target's function begins, and that line's text. */
  line?: number;
  source?: string;
}

export interface ProcessStatus {
  pid: number;
  run_id: string;
  entry?: string;
  recording_file: string;
  started_at: string;
  updated_at: string;
  targets: TargetStatus[];
  /** Records the writer dropped because the file could not take them (a full disk, a refused path). */
  dropped_records?: number;
}

export interface RunStatus {
  run_id: string;
  updated_at: string;
  processes: ProcessStatus[];
  /** One row per target, calls summed over the processes; the best state any process reached. */
  targets: TargetStatus[];
  /** Records dropped, summed over the processes. */
  dropped_records: number;
}

export function statusDir(root: string): string {
  return stateDir(root, 'status');
}

/** Removes the status of earlier runs; called by the first process of a run. */
export function clearStatus(root: string): void {
  fs.rmSync(statusDir(root), { recursive: true, force: true });
}

export function writeProcessStatus(root: string, status: ProcessStatus): void {
  const dir = statusDir(root);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${status.pid}.json`);
  // Written whole then renamed, so that a reader never sees half a file.
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(status, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

const STATE_RANK: Record<TargetState, number> = { failed: 0, not_loaded: 1, hooked: 2 };

/** The newest run's status, or undefined when no process has recorded here yet. */
export function readLastRun(root: string): RunStatus | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(statusDir(root)).filter((n) => n.endsWith('.json'));
  } catch {
    return undefined;
  }
  const all: ProcessStatus[] = [];
  for (const name of names) {
    try {
      all.push(JSON.parse(fs.readFileSync(path.join(statusDir(root), name), 'utf8')) as ProcessStatus);
    } catch {
      // A status file of a process that died mid-write is not worth failing over.
    }
  }
  if (all.length === 0) return undefined;
  const newest = all.reduce((a, b) => (a.updated_at >= b.updated_at ? a : b));
  const processes = all.filter((p) => p.run_id === newest.run_id);
  const byTarget = new Map<string, TargetStatus>();
  for (const p of processes) {
    for (const t of p.targets) {
      const seen = byTarget.get(t.target);
      if (!seen) byTarget.set(t.target, { ...t });
      else {
        seen.calls += t.calls;
        if (STATE_RANK[t.state] > STATE_RANK[seen.state]) Object.assign(seen, { ...t, calls: seen.calls });
      }
    }
  }
  const dropped = processes.reduce((sum, p) => sum + (p.dropped_records ?? 0), 0);
  return { run_id: newest.run_id, updated_at: newest.updated_at, processes, targets: [...byTarget.values()], dropped_records: dropped };
}
