import { parseSimulationConfig } from '../config/simulation';
import { DOWNSTREAM_REPLAY_DEFAULTS, type DownstreamReplayConfig, type InputEntry, type Isolation, type ReplayArgsConfig, type SimulationConfig } from '../config/types';
import type { RunResult } from '../replay/execute';
import { planRuns } from './plan';
import { execute, prepare } from './runner';

/** Options of {@link replay}: the parts of `configs/simulation.yaml` an experiment needs, given in code. */
export interface ReplayOptions {
  /** The function to call, or `module:export` / `module:Class.method` loaded from the project. */
  target: Function | string;
  /** Where module paths and the recording file are taken from; the current directory by default. */
  projectDir?: string;
  /** The inputs, each a string or `{ input, metadata }`. */
  inputs: Array<string | InputEntry>;
  /** A JSONL recording to replay; without it, each input goes to the function's input parameter. */
  recordingFile?: string;
  /** Where each input goes in the recorded arguments; required with `recordingFile`. */
  overrideParamPath?: string;
  select?: ReplayArgsConfig['select'];
  /** Only the recordings of this function name or target; by default the target's. */
  function?: string;
  callableProviders?: Record<string, string>;
  /** A path to the `module:function` that makes the live value put there for each run (`replay_args.providers`). */
  providers?: Record<string, string>;
  /** A recorded class name to the `module:Export` its instances are made from again (`replay_args.revive`). */
  revive?: Record<string, string>;
  /** A `module:function` that makes the instance a `module:Class.method` target is called on (`runner.factory`). */
  factory?: string;
  iterations?: number;
  limit?: number;
  /** `shared` by default for a function, `fresh` for a module target. */
  isolation?: Isolation;
  concurrency?: number;
  timeoutMs?: number;
  retries?: number;
  /** How downstream calls are answered (`replay_args.downstream`); by default the LLM is live, HTTP and tools are stubbed. */
  downstream?: Partial<DownstreamReplayConfig>;
  /** The tool functions whose calls are answered from the recording (`recording.downstream.targets`), `module:export` and the other target forms. */
  tools?: string[];
}

/** What {@link replay} gives back: each run's result and the observations of all runs. */
export interface ReplayResult {
  runs: RunResult[];
  observations: unknown[];
}

/**
 * Replays recorded calls (or plain inputs) against a function and returns the results in memory,
 * writing nothing: for driving a replay from vitest or node:test. Throws a ConfigError for
 * options that cannot work (a path that points nowhere, a target that does not load).
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const fn = typeof options.target === 'function' ? options.target : undefined;
  const defaults = parseSimulationConfig('');
  const config: SimulationConfig = {
    ...defaults,
    iterations: options.iterations ?? 1,
    recording: { ...defaults.recording, downstream: { ...defaults.recording.downstream, targets: options.tools ?? [] } },
    runner: {
      ...defaults.runner,
      target: typeof options.target === 'string' ? options.target : undefined,
      factory: options.factory,
      isolation: options.isolation ?? (fn ? 'shared' : defaults.runner.isolation),
      concurrency: options.concurrency ?? defaults.runner.concurrency,
      timeout_ms: options.timeoutMs ?? defaults.runner.timeout_ms,
      retries: options.retries ?? defaults.runner.retries,
    },
    replay_args:
      options.recordingFile === undefined
        ? undefined
        : {
            enabled: true,
            recording_file: options.recordingFile,
            override_param_path: options.overrideParamPath,
            callable_providers: options.callableProviders ?? {},
            providers: options.providers ?? {},
            revive: options.revive ?? {},
            select: options.select ?? 'all',
            function: options.function,
            downstream: { ...DOWNSTREAM_REPLAY_DEFAULTS, ...options.downstream },
          },
  };
  const inputs = options.inputs.map((entry) => (typeof entry === 'string' ? { input: entry, metadata: {} } : { input: entry.input, metadata: entry.metadata ?? {} }));
  const { setup, runs: source, target } = await prepare({ projectDir: options.projectDir, config, fn, inputs, limit: options.limit, downstream: options.downstream }, true);
  const runs: RunResult[] = [];
  const observations: unknown[] = [];
  await execute(setup, source, planRuns(setup, target, options.limit), (run) => {
    runs.push(JSON.parse(run.line) as RunResult);
    for (const line of run.observations.split('\n')) if (line !== '') observations.push(JSON.parse(line));
  });
  return { runs, observations };
}
