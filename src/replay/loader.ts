import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../config/errors';
import { findModule, isCommonJs, projectRelative, typeScriptTwin } from '../config/project';
import { describeValue, listExports, parseTarget } from '../config/targets';
import type { TargetSpec } from '../config/types';
import { parseParams, type Param } from '../instrument/params';
import { ensureTypeScript, INSTALL_TSX, needsCompiler, nodeStripsTypes } from './typescript';

/** The function a run calls, with the `this` it is called with. */
export interface LoadedTarget {
  fn: Function;
  thisArg: unknown;
  /** The target spec, or `factory().method`: the root observation's name. */
  name: string;
  params: Param[];
  /** The target's module, whose exported classes a run can revive. */
  exports: unknown;
  /**
   * For a `Class.method` target without a factory: the class. Each run calls the method on an
   * instance made from its recording's `this` (`thisArg` is then undefined).
   */
  cls?: Function;
}

export interface LoaderOptions {
  root: string;
  /** `module:export`, `module:export.method` or `module:Class.method` (a new instance per run). */
  target: string;
  /** `module:function` that makes the instance whose method `target` names, per run. */
  factory?: string;
  /** Import the target's module afresh for every run, so that no state leaks from one run into the next. */
  fresh: boolean;
  /** Where configuration errors point; `runner.target` by default. */
  field?: string;
}

/** A target that cannot be loaded: a config error, so the CLI exits 2 with the reason. */
export class TargetError extends ConfigError {}

let generation = 0;

/**
 * Loads the replayed function. `fresh` re-evaluates the target's module for each run: CommonJS
 * through the require cache, ESM through a cache-busting query (ESM has no cache to clear, so
 * each fresh copy stays in memory; modules the target imports are shared, as in any reload).
 */
export class TargetLoader {
  private readonly target: TargetSpec;
  private readonly factory: TargetSpec | undefined;
  private sharedModule: Promise<unknown> | undefined;

  constructor(private readonly options: LoaderOptions) {
    this.target = parseTarget(options.target, { file: 'configs/simulation.yaml', field: options.field ?? 'runner.target' });
    this.factory = options.factory === undefined ? undefined : parseTarget(options.factory, { file: 'configs/simulation.yaml', field: 'runner.factory' });
  }

  /** The function for one run, with its own instance where the target is a class method or the runner has a factory. */
  async forRun(): Promise<LoadedTarget> {
    const exports = await this.module(this.target);
    if (this.factory !== undefined) {
      const make = exportOf(await this.module(this.factory), this.factory, 'runner.factory');
      if (typeof make !== 'function') throw this.error(`runner.factory ${this.factory.spec} is not a function`, 'runner.factory');
      const instance = await make();
      return this.method(instance, this.target.member ?? this.target.exportName, `${this.factory.exportName}().${this.target.member ?? this.target.exportName}`, exports);
    }
    const exported = exportOf(exports, this.target, this.options.field ?? 'runner.target');
    const { member } = this.target;
    if (member === undefined) {
      if (typeof exported !== 'function') throw this.error(`${this.target.spec} is ${describeValue(exported)}, not a function`);
      return { fn: exported, thisArg: undefined, name: this.target.spec, params: parseParams(exported), exports };
    }
    const isClass = typeof exported === 'function' && typeof (exported as { prototype?: Record<string, unknown> }).prototype?.[member] === 'function';
    // A class's method is called on an instance each run makes; an object's, on the module's own object.
    if (isClass) return { ...this.method(exported.prototype, member, this.target.spec, exports), thisArg: undefined, cls: exported };
    return this.method(exported, member, this.target.spec, exports);
  }

  private method(owner: unknown, member: string, name: string, exports: unknown): LoadedTarget {
    const fn = owner === null || owner === undefined ? undefined : (owner as Record<string, unknown>)[member];
    if (typeof fn !== 'function') throw this.error(`${name} is ${describeValue(fn)}, not a method`);
    return { fn, thisArg: owner, name, params: parseParams(fn), exports };
  }

  private module(spec: TargetSpec): Promise<unknown> {
    if (spec === this.target && !this.options.fresh) return (this.sharedModule ??= this.importFile(spec));
    return this.importFile(spec, spec === this.target);
  }

  private async importFile(spec: TargetSpec, fresh = false): Promise<unknown> {
    const field = spec === this.factory ? 'runner.factory' : undefined;
    const configured = path.resolve(this.options.root, spec.file);
    const file = findModule(configured);
    if (file === undefined) {
      const twin = typeScriptTwin(configured);
      const hint = twin === undefined ? '' : `; did you mean ${projectRelative(this.options.root, twin)}?`;
      throw this.error(`module not found: ${spec.file} (looked for ${path.relative(this.options.root, configured) || '.'} with .js, .mjs, .cjs, .ts and index files)${hint}`, field);
    }
    // Without tsx, a Node that strips types may still load it; one that does not, cannot.
    const compiled = needsCompiler(file) ? await ensureTypeScript(this.options.root) : true;
    if (!compiled && !nodeStripsTypes()) throw this.error(`${spec.file} is TypeScript: ${INSTALL_TSX}`, field);
    try {
      if (isCommonJs(file)) {
        if (!fresh) return require(file);
        delete require.cache[file];
        const exports: unknown = require(file);
        // Each fresh copy is also listed among this module's children, which would keep every
        // copy alive for as long as the process runs.
        const child = module.children.findIndex((m) => m.filename === file);
        if (child >= 0) module.children.splice(child, 1);
        return exports;
      }
      return await import(pathToFileURL(file).href + (fresh ? `?fluxloop_run=${++generation}` : ''));
    } catch (error) {
      const hint = compiled ? '' : `; ${spec.file} is TypeScript that Node cannot run as it is: ${INSTALL_TSX}`;
      throw this.error(`cannot load ${spec.file}: ${(error as Error).message}${hint}`, field);
    }
  }

  private error(message: string, field = this.options.field ?? 'runner.target'): TargetError {
    return new TargetError(message, { file: 'configs/simulation.yaml', field });
  }
}

/** The export a spec names; `default` of CommonJS is module.exports itself unless it is compiled ESM with a default. */
function exportOf(exports: unknown, spec: TargetSpec, field: string): unknown {
  const bag = (exports ?? {}) as Record<string, unknown>;
  if (spec.exportName === 'default' && !('default' in bag)) return exports;
  if (!(spec.exportName in bag)) {
    throw new TargetError(`export "${spec.exportName}" not found in ${spec.file} (exports: ${listExports(bag)})`, {
      file: 'configs/simulation.yaml',
      field,
    });
  }
  return bag[spec.exportName];
}
