import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { findModule } from '../config/project';
import { parseTarget } from '../config/targets';

type Register = (options?: { tsconfig?: string }) => unknown;

/** What installing tsx in the project takes, as every message about it says. */
export const INSTALL_TSX = 'install tsx in the project (npm i -D tsx)';

/** Whether a module is TypeScript, which Node cannot load as it is (Node's own type stripping aside). */
export function needsCompiler(file: string): boolean {
  return /\.(?:[cm]?ts|tsx)$/.test(file);
}

/** Whether Node strips types itself (22.18 and 23.6 on): TypeScript without enums, parameter properties and the like loads with no compiler. */
export function nodeStripsTypes(): boolean {
  return Boolean((process.features as { typescript?: unknown }).typescript);
}

/** The project's own tsx: its `package.json`, resolved from the project root; undefined when it has none. */
export function projectTsx(root: string): string | undefined {
  try {
    return createRequire(path.join(root, 'package.json')).resolve('tsx/package.json');
  } catch {
    return undefined;
  }
}

// Per thread: a worker thread has its own module state, and registers tsx for its own loader.
let registered: Promise<boolean> | undefined;

/**
 * Makes `import()` and `require()` of TypeScript work in this thread, through the project's tsx
 * (its version and its settings, as the app runs with it), registered with tsx's documented APIs
 * (`tsx/esm/api`, `tsx/cjs/api`) once. False when the project has no tsx.
 */
export function ensureTypeScript(root: string): Promise<boolean> {
  return (registered ??= register(root));
}

async function register(root: string): Promise<boolean> {
  if (projectTsx(root) === undefined) return false;
  // Resolved as `import` resolves it from the project: `require` would get tsx's CommonJS build of
  // `tsx/esm/api`, which points Node 20's loader at a file that build does not have.
  const { resolve } = await import('import-meta-resolve');
  const from = pathToFileURL(path.join(root, 'package.json')).href;
  const api = (subpath: string) => import(resolve(`tsx/${subpath}`, from)) as Promise<{ register: Register }>;
  const [esm, cjs] = await Promise.all([api('esm/api'), api('cjs/api')]);
  // tsx reads the tsconfig of the current directory; the app runs from the project root, the CLI may not.
  const tsconfig = path.join(root, 'tsconfig.json');
  const options = process.env.TSX_TSCONFIG_PATH === undefined && fs.existsSync(tsconfig) ? { tsconfig } : {};
  esm.register(options);
  withTsconfig(options.tsconfig, () => cjs.register());
  return true;
}

/** The modules a replay loads, as configured: `HarnessOptions` or any part of it. */
export interface ReplayModules {
  root: string;
  target: string;
  factory?: string;
  providers?: Record<string, string>;
  values?: Record<string, string>;
  revive?: Record<string, string>;
  traceTargets?: readonly string[];
}

/**
 * Registers tsx, where any module the replay loads is TypeScript, before anything else hooks the
 * loader: the hooks that make recording targets observations then see what tsx compiled, as they
 * do when the app records under `--import tsx`. Registered later, tsx would hand them TypeScript.
 */
export async function typeScriptFirst(modules: ReplayModules): Promise<void> {
  const { root, target, factory, providers = {}, values = {}, revive = {}, traceTargets = [] } = modules;
  const specs = [target, ...(factory === undefined ? [] : [factory]), ...Object.values(providers), ...Object.values(values), ...Object.values(revive), ...traceTargets];
  if (specs.some((spec) => isTypeScriptTarget(root, spec))) await ensureTypeScript(root);
}

function isTypeScriptTarget(root: string, spec: string): boolean {
  let file: string | undefined;
  try {
    file = findModule(path.resolve(root, parseTarget(spec).file));
  } catch {
    // A spec that does not parse is reported where it is loaded.
  }
  return file !== undefined && needsCompiler(file);
}

/** tsx's CommonJS API takes its tsconfig from the environment only, read when it registers; the app's environment is left as it was. */
function withTsconfig(tsconfig: string | undefined, register: () => unknown): void {
  if (tsconfig === undefined) {
    register();
    return;
  }
  process.env.TSX_TSCONFIG_PATH = tsconfig;
  try {
    register();
  } finally {
    delete process.env.TSX_TSCONFIG_PATH;
  }
}
