import path from 'node:path';
import type { ParamPath } from '../config/param-path';
import { findModule, isCommonJs } from '../config/project';
import { parseTarget } from '../config/targets';
import { parseParams } from '../instrument/params';
import type { Provider } from './binding';
import type { RedactRules } from '../record/redact-json';
import { DOWNSTREAM_REPLAY_DEFAULTS, type DownstreamReplayConfig } from '../config/types';
import { installIntercepts } from './intercept';
import { executeRun, failedRun, runRedaction, RunTimeout, type RunOutcome, type RunPlan, type RecordingLimits, type RunRedaction } from './execute';
import { TargetLoader, type LoadedTarget } from './loader';
import { loadCallableProviders, loadValueProviders, provideValues, type ValueProvider } from './providers';
import { loadRevived, reviver, type Revive } from './revive';
import { traceTargets } from './tracing';
import { typeScriptFirst } from './typescript';

/** What a harness needs: plain data, so that a worker can build its own. */
export interface HarnessOptions {
  root: string;
  /** `module:export` or `module:Class.method`. */
  target: string;
  factory?: string;
  /** Import the target afresh for every run. */
  fresh: boolean;
  /** `replay_args.callable_providers`. */
  providers: Record<string, string>;
  /** `replay_args.providers`: a live value per run at each path. */
  values?: Record<string, string>;
  /** `replay_args.revive`: recorded class names, and the `module:Export` to make their instances from. */
  revive?: Record<string, string>;
  /** Recording targets whose calls become observations. */
  traceTargets: string[];
  /** `recording.redact_keys` and `redact_patterns`, applied to everything a run writes; the built-in rules alone without. */
  redact?: RedactRules;
  /** The recording's caps, which the run's downstream calls are cut by before they are compared with the recorded ones. */
  limits?: RecordingLimits;
  /** How downstream calls are answered (`replay_args.downstream`, with `--downstream` over it); the defaults without. */
  downstream?: DownstreamReplayConfig;
  /** `recording.downstream.targets`: the tool functions whose calls are answered as the recording's. */
  downstreamTargets?: string[];
}

/** Whether the target's module is an ES module: its packages are then imported, as it imports them. */
function isEsmTarget(root: string, target: string): boolean {
  const file = findModule(path.resolve(root, parseTarget(target).file));
  return file === undefined || !isCommonJs(file);
}

/** Gives the function for each run. */
interface Source {
  forRun(): Promise<LoadedTarget>;
}

/** Loads the target and makes runs in this thread. */
export class Harness {
  private constructor(
    private readonly source: Source,
    private readonly callables: ReadonlyMap<ParamPath, Provider>,
    private readonly values: readonly ValueProvider[],
    private readonly revived: ReadonlyMap<string, object>,
    private readonly redaction: RunRedaction,
    private readonly downstream: DownstreamReplayConfig,
  ) {}

  /** With `fn`, runs call it rather than loading `options.target` (the programmatic `replay`). */
  static async create(options: HarnessOptions, fn?: Function): Promise<Harness> {
    // tsx first, then the tracing hooks, before anything of the app loads: the hooks see its
    // modules as tsx compiled them, as they do when the app records under `--import tsx`.
    await typeScriptFirst(options);
    traceTargets(options.root, options.traceTargets, options.target, options.downstreamTargets);
    installIntercepts();
    const callables = await loadCallableProviders(options.root, options.providers);
    const values = await loadValueProviders(options.root, options.values ?? {});
    const revived = await loadRevived(options.root, options.revive ?? {}, fn !== undefined || isEsmTarget(options.root, options.target));
    const source: Source =
      fn === undefined ? new TargetLoader(options) : { forRun: async () => ({ fn, thisArg: undefined, name: fn.name || 'anonymous', params: parseParams(fn), exports: undefined }) };
    return new Harness(source, callables, values, revived, runRedaction(options.redact, options.limits), options.downstream ?? DOWNSTREAM_REPLAY_DEFAULTS);
  }

  /** The classes a run of `target` revives: those of `replay_args.revive`, then those its module exports. */
  reviver(target: LoadedTarget): Revive {
    return reviver(this.revived, target.exports);
  }

  /** How the harness masks what runs write. */
  get masking(): RunRedaction {
    return this.redaction;
  }

  /** The target as a run would get it, loaded afresh under `fresh`; throws a TargetError when it cannot be loaded. */
  probe(): Promise<LoadedTarget> {
    return this.source.forRun();
  }

  /** One run; never throws. */
  async run(plan: RunPlan, timeoutMs?: number, onCall?: () => void): Promise<RunOutcome> {
    let target: LoadedTarget;
    try {
      target = await this.source.forRun();
    } catch (error) {
      return failedRun(plan, 'error', error, 0, this.redaction);
    }
    return this.runOn(target, plan, timeoutMs, onCall);
  }

  /** One run on a target already loaded (by {@link probe}): the turns of a conversation share one; never throws. */
  async runOn(target: LoadedTarget, plan: RunPlan, timeoutMs?: number, onCall?: () => void): Promise<RunOutcome> {
    let providers = this.callables;
    let left = timeoutMs;
    // A run known to fail, or one without a recording to put values in, needs no provider called.
    if (this.values.length > 0 && plan.recording !== undefined && plan.error === undefined) {
      const started = performance.now();
      try {
        // Values first, so that a callable provider's path can reach into a provided object.
        providers = new Map<ParamPath, Provider>([...(await provideValues(this.values, plan, timeoutMs)), ...this.callables]);
      } catch (error) {
        return failedRun(plan, error instanceof RunTimeout ? 'timeout' : 'error', error, performance.now() - started, this.redaction);
      }
      // The providers' time counts against the run's timeout.
      if (left !== undefined) left = Math.max(1, left - (performance.now() - started));
    }
    return executeRun(plan, target, providers, left, this.reviver(target), this.redaction, onCall, this.downstream);
  }
}
