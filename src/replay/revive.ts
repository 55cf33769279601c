import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { findModule } from '../config/project';
import { TargetError, TargetLoader } from './loader';

/** The prototype of a recorded class, found by the class's name; undefined when it is not known. */
export type Revive = (className: string) => object | undefined;

/**
 * Loads the classes of `replay_args.revive` (`HumanMessage: '@langchain/core/messages:HumanMessage'`),
 * once: a project file through the target loader, a package as the app itself would get it, by
 * `import` for an ES module app and by `require` for a CommonJS one, so that its classes are the
 * app's and not the other build's.
 */
export async function loadRevived(root: string, specs: Record<string, string>, esm: boolean): Promise<Map<string, object>> {
  const classes = new Map<string, object>();
  for (const [name, spec] of Object.entries(specs)) {
    const field = `replay_args.revive.${name}`;
    const colon = spec.lastIndexOf(':');
    const [specifier, exportName] = [spec.slice(0, colon), spec.slice(colon + 1)];
    const fail = (why: string) => new TargetError(`${spec}: ${why}`, { file: 'configs/simulation.yaml', field });
    let cls: unknown;
    if (findModule(path.resolve(root, specifier)) !== undefined) {
      cls = (await new TargetLoader({ root, target: spec, fresh: false, field }).forRun()).fn;
    } else {
      const exports = await importPackage(root, specifier, esm).catch((error: Error) => {
        throw fail(`cannot load ${specifier} from the project: ${error.message}`);
      });
      cls = exportName === 'default' && !(exportName in exports) ? exports : exports[exportName];
    }
    if (typeof cls !== 'function' || typeof cls.prototype !== 'object' || cls.prototype === null) throw fail(`${exportName} is not a class`);
    classes.set(name, cls.prototype);
  }
  return classes;
}

async function importPackage(root: string, specifier: string, esm: boolean): Promise<Record<string, unknown>> {
  const from = path.join(root, 'package.json');
  if (!esm) return createRequire(from)(specifier) as Record<string, unknown>;
  // Resolved from the project, as Node would for the app: our own import() would resolve from fluxloop's folder.
  const { resolve } = await import('import-meta-resolve');
  return (await import(resolve(specifier, pathToFileURL(from).href))) as Record<string, unknown>;
}

/**
 * The classes a run can revive: those of `replay_args.revive` first, then the classes the target's
 * own module exports, by export name and by class name. The module's exports are read at the
 * first instance met, and only then.
 */
export function reviver(configured: ReadonlyMap<string, object>, exports: unknown): Revive {
  let own: Map<string, object> | undefined;
  return (name) => configured.get(name) ?? (own ??= classesOf(exports)).get(name);
}

function classesOf(exports: unknown): Map<string, object> {
  const classes = new Map<string, object>();
  const add = (key: string, value: unknown) => {
    if (typeof value !== 'function' || typeof value.prototype !== 'object' || value.prototype === null) return;
    if (!classes.has(key)) classes.set(key, value.prototype as object);
    if (value.name !== '' && !classes.has(value.name)) classes.set(value.name, value.prototype as object);
  };
  try {
    // `module.exports = class Bot {}`: the module is the class.
    if (typeof exports === 'function') add(exports.name, exports);
    if (typeof exports === 'object' && exports !== null) for (const key of Object.keys(exports)) add(key, (exports as Record<string, unknown>)[key]);
  } catch {
    // A module whose exports cannot be read revives nothing of its own.
  }
  return classes;
}
