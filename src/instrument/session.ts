import { targetIdentity } from '../config/identity';
import { parseTarget } from '../config/targets';
import type { RecordingConfig } from '../config/types';
import { Children } from '../record/downstream/child';
import { randomUUID } from '../record/random';
import { NO_ID, Recorder, type RecordSite } from '../record/recorder';
import { onShutdown } from '../record/shutdown';
import { currentReplay } from '../trace/context';
import { observeCall, type Around } from '../trace/observations';
import { RecordedCall, runInRecordedCall } from '../trace/recording';
import { parseParams } from './params';
import { clearStatus, writeProcessStatus, type TargetStatus } from './status';
import { channelOf, type CallMessage, type TargetReport } from './transform';
import type { CallObserver } from './wrap';

export interface SessionOptions {
  root: string;
  recordingFile: string;
  recording: RecordingConfig;
  /** The entry script, when known; shown in the status. */
  entry?: string;
}

const RUN_ID = 'FLUXLOOP_RUN_ID';

/**
 * One process's recording: the recorder, the state of each target, and the status file that
 * `fluxloop record status` reads. Processes started by a recording process (cluster workers,
 * child processes) inherit its run id, and so count as the same run.
 */
export class Session {
  readonly recorder: Recorder;
  /**
   * Where the downstream taps hand the calls they saw, when `recording.downstream` records any:
   * records then have an `id`, and each recorded call runs as a recorded call.
   */
  readonly children: Children | undefined;
  private readonly targets = new Map<string, TargetStatus>();
  private readonly sites = new Map<string, RecordSite>();
  private readonly runId: string;
  private readonly startedAt = new Date().toISOString();
  private statusTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SessionOptions) {
    const r = options.recording;
    const d = r.downstream;
    const downstream = d !== undefined && (d.http || d.llm || d.targets.length > 0);
    this.recorder = new Recorder({
      ids: downstream,
      file: options.recordingFile,
      maxRecordBytes: r.max_record_bytes,
      encoder: {
        maxDepth: r.max_depth,
        maxArrayLength: r.max_array_length,
        maxStringLength: r.max_string_length,
        redactKeys: r.redact_keys,
        redactPatterns: r.redact_patterns,
      },
      // Dropped records are shown by `record status` while the process still runs.
      writer: {
        onDrop: () => this.statusChanged(),
        ...(r.max_file_mb === undefined ? {} : { maxFileBytes: Math.max(1, Math.round(r.max_file_mb * 1024 * 1024)) }),
      },
    });
    this.children = downstream ? new Children(this.recorder, d, { maxBodyBytes: r.max_record_bytes, maxArrayLength: r.max_array_length }) : undefined;
    const inherited = process.env[RUN_ID];
    this.runId = inherited ?? randomUUID();
    if (!inherited) {
      process.env[RUN_ID] = this.runId;
      tryQuietly(() => clearStatus(options.root));
    }
    onShutdown(() => this.close());
  }

  /** Writes what is left and the status: what the process does at shutdown. */
  close(): void {
    // Before the records: a response still being read at exit is written with what came of it.
    this.children?.close();
    this.recorder.close();
    // Closing counts what a failing file still holds as dropped, before the status says how many.
    this.recorder.writer.close();
    this.writeStatus();
  }

  /** The project the records' targets are relative to. */
  get root(): string {
    return this.options.root;
  }

  /** Adds a configured target, not yet loaded. */
  addTarget(target: string): TargetStatus {
    let status = this.targets.get(target);
    if (!status) {
      status = { target, state: 'not_loaded', calls: 0 };
      this.targets.set(target, status);
      this.statusChanged();
    }
    return status;
  }

  markFailed(target: string, reason: string): void {
    const status = this.addTarget(target);
    if (status.state === 'hooked') return;
    Object.assign(status, { state: 'failed', reason });
    this.statusChanged();
  }

  markHooked(target: string, details?: Pick<TargetStatus, 'mechanism' | 'line' | 'source'>): void {
    const status = this.addTarget(target);
    Object.assign(status, { state: 'hooked', reason: undefined }, details);
    this.statusChanged();
  }

  /** Records the calls that a target's transformed source publishes to its tracing channel. */
  recordTransformed(target: string): void {
    const status = this.addTarget(target);
    status.mechanism = 'transform';
    let first: RecordSite | undefined;
    const method = isMethod(target);
    channelOf(target).start.subscribe((message) => {
      if (currentReplay() !== undefined) return;
      const m = message as CallMessage;
      const site = (m.variant > 0 && this.sites.get(variantKey(target, m.variant))) || (first ??= this.site(target, target));
      const id = this.recorder.record(site, m.arguments, undefined, method ? instanceOf(m.self) : undefined);
      if (status.calls++ === 0) this.statusChanged();
      // A record has an id only when its downstream calls are recorded.
      if (id !== NO_ID) m.around = this.around(id);
    });
  }

  /** What the transform found for a target, reported by its module when it first runs. */
  transformed(report: Extract<TargetReport, { ok: true }>): void {
    if (!this.sites.has(report.target)) this.sites.set(report.target, this.newSite(report.target, report.name, report.params));
    const first = this.sites.get(report.target)!;
    // A target's other functions (a setter beside its getter) have their parameters and share its count.
    report.variants?.forEach((params, i) => {
      const key = variantKey(report.target, i + 1);
      if (!this.sites.has(key)) this.sites.set(key, this.newSite(report.target, report.name, params, first));
    });
    this.markHooked(report.target, { mechanism: 'transform', line: report.line, source: report.source });
  }

  /**
   * The observer that records the calls of `fn` under `target`; one record site per target. A
   * method's records keep the instance it was called on (`Class.method`, or `method` marked in a class).
   */
  observer(target: string, fn: Function, functionName = fn.name || target, method = isMethod(target)): CallObserver {
    const site = this.site(target, functionName, fn);
    const status = this.addTarget(target);
    return (args, self) => {
      // A replay in a recording process (a test driving `replay()`) is traced, not recorded.
      if (currentReplay() !== undefined) return observeCall(target, 'span', args);
      const id = this.recorder.record(site, args, undefined, method ? instanceOf(self) : undefined);
      if (status.calls++ === 0) this.statusChanged();
      if (id !== NO_ID) return this.around(id);
    };
  }

  /** Runs a call as the recorded call numbered `id`: what it calls downstream is recorded as its children. */
  private around(id: number): Around {
    const call = new RecordedCall(this.recorder.idPrefix, id, this.recorder.time);
    return (run) => runInRecordedCall(call, run);
  }

  /** Records a call made explicitly, as FluxLoop's `record_call_args`. */
  recordCall(target: string, kwargs: object): void {
    if (currentReplay() !== undefined) return;
    const name = target.slice(target.lastIndexOf(':') + 1) || target;
    const status = this.addTarget(target);
    this.recorder.record(this.site(target, name), [], kwargs);
    if (status.calls++ === 0) this.markHooked(target);
  }

  private site(target: string, functionName: string, fn?: Function): RecordSite {
    let site = this.sites.get(target);
    if (!site) {
      site = this.newSite(target, functionName, fn ? parseParams(fn) : []);
      this.sites.set(target, site);
    }
    return site;
  }

  /** A record site, whose records name the target by its identity, whatever form the config gave it in. */
  private newSite(target: string, functionName: string, params: readonly unknown[], countedBy?: RecordSite): RecordSite {
    return this.recorder.site(targetIdentity(this.options.root, target), functionName, params, countedBy);
  }

  private statusChanged(): void {
    this.statusTimer ??= setTimeout(() => {
      this.statusTimer = undefined;
      this.writeStatus();
    }, 200).unref();
  }

  private writeStatus(): void {
    tryQuietly(() =>
      writeProcessStatus(this.options.root, {
        pid: process.pid,
        run_id: this.runId,
        entry: this.options.entry,
        recording_file: this.options.recordingFile,
        started_at: this.startedAt,
        updated_at: new Date().toISOString(),
        targets: [...this.targets.values()],
        dropped_records: this.recorder.writer.dropped,
      }),
    );
  }
}

/** Whether a target names a method (`module:Class.method`, `module:object.method`). */
function isMethod(target: string): boolean {
  try {
    return parseTarget(target).member !== undefined;
  } catch {
    return false;
  }
}

/**
 * The instance a method was called on, when it is a class's: an object literal (a module's
 * singleton) is replayed as the module's own live object, and has no state to keep.
 */
function instanceOf(self: unknown): object | undefined {
  if (typeof self !== 'object' || self === null) return undefined;
  try {
    const proto: unknown = Object.getPrototypeOf(self);
    return proto === Object.prototype || proto === null ? undefined : self;
  } catch {
    return undefined;
  }
}

/** The record site of a target's other function (a setter beside its getter). */
function variantKey(target: string, variant: number): string {
  return `${target}\u0000${variant}`;
}

function tryQuietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Status is a convenience for the CLI; recording must not suffer for it.
  }
}
