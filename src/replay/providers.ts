import { ConfigError, formatLocation } from '../config/errors';
import { configLocation } from '../config/locations';
import { parseParamPath, type ParamPath } from '../config/param-path';
import type { ReplayArgsConfig } from '../config/types';
import type { Param } from '../instrument/params';
import { warn } from '../record/warn';
import { decodeCall, type ProvidedValue, type Provider } from './binding';
import { Collectors } from './collectors';
import { RunTimeout, type RecordingRef, type RunPlan } from './execute';
import { TargetLoader } from './loader';
import { existingText, locate, type CallArgs } from './paths';

/** What a `replay_args.providers` function is called with, once per run. */
export interface ProviderContext {
  /** The path the value goes to, as configured. */
  path: string;
  /** The run's input and its metadata. */
  input: string;
  metadata: Record<string, unknown>;
  iteration: number;
  traceId: string;
  /** Which recording the run replays. */
  recording: Pick<RecordingRef, 'index' | 'line' | 'target' | 'function'>;
}

/** A loaded `replay_args.providers` entry. */
export interface ValueProvider {
  path: ParamPath;
  /** `module:function`, for messages. */
  spec: string;
  fn: Function;
  thisArg: unknown;
}

const BUILTIN: Record<string, Provider> = { 'builtin:collector.send': 'send', 'builtin:collector.error': 'error' };
const FILE = 'configs/simulation.yaml';

/** `replay_args.callable_providers`, each `module:function` loaded once, through the loader that loads the target. */
export async function loadCallableProviders(root: string, specs: Record<string, string>): Promise<Map<ParamPath, Provider>> {
  const providers = new Map<ParamPath, Provider>();
  for (const [text, spec] of Object.entries(specs)) {
    const field = `replay_args.callable_providers.${text}`;
    const provider = BUILTIN[spec] ?? (await new TargetLoader({ root, target: spec, fresh: false, field }).forRun()).fn;
    providers.set(parseParamPath(text, { file: FILE, field }), provider);
  }
  return providers;
}

/**
 * `replay_args.providers`, each function loaded once (so TypeScript and a project's modules load as
 * the target does) and called for every run, so that each run gets a value of its own.
 */
export async function loadValueProviders(root: string, specs: Record<string, string>): Promise<ValueProvider[]> {
  const providers: ValueProvider[] = [];
  for (const [text, spec] of Object.entries(specs)) {
    const field = `replay_args.providers.${text}`;
    const { fn, thisArg, cls } = await new TargetLoader({ root, target: spec, fresh: false, field }).forRun();
    // A class's method is called on one instance, made when the provider loads.
    const owner = cls === undefined ? thisArg : Reflect.construct(cls, []);
    providers.push({ path: parseParamPath(text, { file: FILE, field }), spec, fn, thisArg: owner });
  }
  return providers;
}

/** A provider that threw or rejected: the run is an error that names it. */
export class ProviderError extends Error {
  override name = 'ProviderError';
}

/**
 * Calls each provider for one run and gives the values by path, for `decodeCall` to put in place.
 * Throws a ProviderError naming the provider that failed, or a RunTimeout past `timeoutMs`.
 */
export async function provideValues(providers: readonly ValueProvider[], plan: RunPlan, timeoutMs?: number): Promise<Map<ParamPath, ProvidedValue>> {
  const values = new Map<ParamPath, ProvidedValue>();
  const recording = plan.recording;
  if (recording === undefined) return values;
  const { index, line, target, function: fn } = recording;
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  for (const provider of providers) {
    const context: ProviderContext = {
      path: provider.path.text,
      input: plan.input.input,
      metadata: plan.input.metadata,
      iteration: plan.iteration,
      traceId: plan.traceId,
      recording: { index, line, target, function: fn },
    };
    let value: unknown;
    try {
      value = await bounded(Promise.resolve().then(() => Reflect.apply(provider.fn, provider.thisArg, [context])), deadline, timeoutMs);
    } catch (error) {
      if (error instanceof RunTimeout) throw error;
      throw providerError(provider, error);
    }
    values.set(provider.path, { provider: provider.spec, value });
  }
  return values;
}

function providerError(provider: ValueProvider, cause: unknown): ProviderError {
  const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : `threw ${String(cause)}`;
  const error = new ProviderError(`provider ${provider.spec} (replay_args.providers.${provider.path.text}) failed: ${why}`, { cause });
  // Where the provider threw is what helps; where it was called from does not.
  error.stack = cause instanceof Error ? cause.stack : undefined;
  return error;
}

async function bounded<T>(promise: Promise<T>, deadline: number | undefined, timeoutMs: number | undefined): Promise<T> {
  if (deadline === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RunTimeout(timeoutMs!)), Math.max(0, deadline - performance.now()));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One selected recording, as the check before the runs sees it. */
export interface CheckedRecording {
  index: number;
  line: number;
  /** The file it was read from, when not the one the check was given (a rotated file). */
  file?: string;
  target?: string;
  function?: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** A provider path that resolves in none of the recordings seen. */
export interface UnresolvedPath {
  kind: 'providers' | 'callable_providers';
  /** The path, as configured. */
  text: string;
  /** `replay_args.callable_providers.args.1.send`. */
  field: string;
  /** What is wrong, with the paths that do exist in the first recording. */
  message: string;
}

/**
 * Checks the provider paths against the selected recordings before any run. A `providers` path that
 * resolves in none of them is a ConfigError at its key, listing the paths that exist; a
 * `callable_providers` path that resolves in none is a warning, since such a path is skipped.
 */
export class ProviderPaths {
  private readonly pending: Array<{ kind: 'providers' | 'callable_providers'; text: string; path: ParamPath }>;
  /** The first recording seen, and the paths that exist in it: with the parameters' names for a provider, without for a callable provider. */
  private first: { recording: CheckedRecording; paths: Record<'providers' | 'callable_providers', string> } | undefined;

  constructor(
    private readonly replay: ReplayArgsConfig,
    /** The recording file as shown in messages. */
    private readonly display: string,
  ) {
    const entries = (kind: 'providers' | 'callable_providers') =>
      Object.keys(replay[kind] ?? {}).map((text) => ({ kind, text, path: parseParamPath(text, { file: FILE, field: `replay_args.${kind}.${text}` }) }));
    this.pending = [...entries('providers'), ...entries('callable_providers')];
  }

  /** Whether every path has resolved somewhere, so that the recordings left need not be decoded. */
  get done(): boolean {
    return this.pending.length === 0;
  }

  /** Marks the paths that resolve in this recording (`call`, when the caller decoded it already); `params` are the recorded function's. */
  see(recording: CheckedRecording, params: readonly Param[], call: CallArgs = decodeCall(recording, new Collectors(), new Map())): void {
    if (this.done) return;
    this.first ??= { recording, paths: { providers: existingText(call, params), callable_providers: existingText(call, []) } };
    // A callable provider is put in place without the parameters' names, so it is checked without them too.
    const resolves = (entry: (typeof this.pending)[number]) => locate(entry.path, call, entry.kind === 'providers' ? params : []) !== undefined;
    for (let i = this.pending.length - 1; i >= 0; i--) if (resolves(this.pending[i]!)) this.pending.splice(i, 1);
  }

  /** After every selected recording was seen (`count` of them): the paths found in none, in the config's order. */
  unresolved(count: number): UnresolvedPath[] {
    const first = this.first;
    if (first === undefined) return [];
    const where = describe(first.recording, this.display);
    return this.pending.map(({ kind, text }) => ({
      kind,
      text,
      field: `replay_args.${kind}.${text}`,
      message: `${text} points nowhere in any of the ${count} selected recording${count === 1 ? '' : 's'}; paths that exist in ${where}: ${first.paths[kind]}`,
    }));
  }

  /** After every selected recording was seen: throws for a provider path found in none, warns for a callable provider's. */
  async finish(count: number): Promise<void> {
    const unresolved = this.unresolved(count);
    if (unresolved.length === 0) return;
    for (const entry of unresolved) {
      const section = this.replay[entry.kind];
      const location = (section && configLocation(section, entry.text)) ?? { file: FILE, field: entry.field };
      if (entry.kind === 'providers') throw new ConfigError(entry.message, location);
      warn(`replay:${entry.field}`, `${formatLocation(location)}: ${entry.message}; this callable provider is never used`);
    }
  }
}

function describe(recording: CheckedRecording, display: string): string {
  return `recording #${recording.index} (${recording.file ?? display}:${recording.line}, ${recording.target ?? recording.function})`;
}
