import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isCommonJs } from '../config/project';

/** A module's exports as loaded; return replacement exports (CommonJS only) or undefined. */
export type OnLoad = (exports: unknown, format: 'esm' | 'cjs') => unknown;

/**
 * Hooks exactly the given files, by absolute real path: import-in-the-middle for `import` (of
 * ESM and of CommonJS alike) and require-in-the-middle for `require`. The ESM loader intercepts
 * only these files (its `include` matches file URLs, while `Hook()` takes paths); every other
 * module of the app loads untouched.
 */
export function hookFiles(files: ReadonlyMap<string, OnLoad>): void {
  if (files.size === 0) return;
  // Loaded only now: an app whose targets are all its own files, which the transform serves, needs none of it.
  const { Hook: ImportHook } = require('import-in-the-middle') as typeof import('import-in-the-middle');
  const paths = [...files.keys()];
  register('import-in-the-middle/hook.mjs', pathToFileURL(__filename), {
    // A file's URL, with or without the query that a fresh import of it adds.
    data: { include: paths.map((p) => new RegExp(`^${escapeRegExp(pathToFileURL(p).href)}(?:\\?[^#]*)?$`)) },
  });
  for (const [file, onLoad] of files) {
    // One hook per file: the callbacks do not say reliably which file they were called for.
    new ImportHook([file], (namespace) => {
      onLoad(namespace, 'esm');
    });
    if (!canBeRequired(file)) continue;
    // Loaded only for a file that `require` can reach: it and its dependencies cost start-up time.
    const { Hook: RequireHook } = require('require-in-the-middle') as typeof import('require-in-the-middle');
    new RequireHook([file], <T>(exports: T): T => {
      const replaced = onLoad(exports, 'cjs');
      return replaced === undefined ? exports : (replaced as T);
    });
  }
}

/**
 * Whether `require` can load the file: not an ES module by extension or by its package's
 * `type`, which Node 20 refuses to require. TypeScript is left to tsx, which may compile any
 * `.ts` file for `require`.
 */
function canBeRequired(file: string): boolean {
  return !/\.m[jt]s$/.test(file) && (/\.tsx?$/.test(file) || isCommonJs(file));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
