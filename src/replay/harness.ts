import { parseParamPath, type ParamPath } from '../config/param-path';
import { parseParams } from '../instrument/params';
import type { Provider } from './binding';
import { executeRun, failedRun, type RunOutcome, type RunPlan } from './execute';
import { TargetLoader, type LoadedTarget } from './loader';
import { traceTargets } from './tracing';

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
  /** Recording targets whose calls become observations. */
  traceTargets: string[];
}

const BUILTIN: Record<string, Provider> = { 'builtin:collector.send': 'send', 'builtin:collector.error': 'error' };

/** Gives the function for each run. */
interface Source {
  forRun(): Promise<LoadedTarget>;
}

/** Loads the target and makes runs in this thread. */
export class Harness {
  private constructor(
    private readonly source: Source,
    private readonly providers: ReadonlyMap<ParamPath, Provider>,
  ) {}

  /** With `fn`, runs call it rather than loading `options.target` (the programmatic `replay`). */
  static async create(options: HarnessOptions, fn?: Function): Promise<Harness> {
    // Before anything of the app loads, so that the hooks see its modules.
    traceTargets(options.root, options.traceTargets, options.target);
    const providers = new Map<ParamPath, Provider>();
    for (const [text, spec] of Object.entries(options.providers)) {
      const field = `replay_args.callable_providers.${text}`;
      const provider = BUILTIN[spec] ?? (await new TargetLoader({ root: options.root, target: spec, fresh: false, field }).forRun()).fn;
      providers.set(parseParamPath(text, { file: 'configs/simulation.yaml', field }), provider);
    }
    const source: Source =
      fn === undefined ? new TargetLoader(options) : { forRun: async () => ({ fn, thisArg: undefined, name: fn.name || 'anonymous', params: parseParams(fn) }) };
    return new Harness(source, providers);
  }

  /** The target as a run would get it; throws a TargetError when it cannot be loaded. */
  probe(): Promise<LoadedTarget> {
    return this.source.forRun();
  }

  /** One run; never throws. */
  async run(plan: RunPlan, timeoutMs?: number): Promise<RunOutcome> {
    let target: LoadedTarget;
    try {
      target = await this.source.forRun();
    } catch (error) {
      return failedRun(plan, 'error', error, 0);
    }
    return executeRun(plan, target, this.providers, timeoutMs);
  }
}
