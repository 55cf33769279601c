import { pathToFileURL } from 'node:url';
import type { TargetSpec } from '../../config/types';
import { transformCached } from './cache';
import { TRANSFORMED, type TargetReport } from './channels';

/** What every hook works from: the target files, where their transforms are kept, and who hears of a file left as it was. */
export interface TransformPlan {
  /** The targets of each file, by the file's absolute real path. */
  files: ReadonlyMap<string, readonly TargetSpec[]>;
  /** `.fluxloop/transform` of the project; none, no cache. */
  cacheDir?: string;
  onUnread: (reports: TargetReport[]) => void;
}

/** The format a hook was told a module has, as the transform names it; undefined for what it leaves alone. */
export function formatOf(format: string | null | undefined): 'esm' | 'cjs' | undefined {
  return format === 'module' ? 'esm' : format === 'commonjs' ? 'cjs' : undefined;
}

/**
 * Finds the target file a module URL names, with or without the query a fresh import adds: by
 * the URLs of the target files, made once, so that the app's other modules cost a string look-up.
 */
export function fileFinder(plan: TransformPlan): (url: string) => string | undefined {
  const byUrl = new Map([...plan.files.keys()].map((file) => [pathToFileURL(file).href, file]));
  return (url) => byUrl.get(url.split(/[?#]/, 1)[0]!);
}

/**
 * Transforms a target file's source as a hook hands it over, or says through `onUnread` why its
 * targets go unrecorded: a transformed module reports for itself when it runs, one left as it was
 * cannot. Never throws: the module then loads as it is.
 */
export function transformSource(plan: TransformPlan, file: string, source: string | ArrayBuffer | ArrayBufferView, format: 'esm' | 'cjs'): string | undefined {
  const targets = plan.files.get(file)!;
  try {
    const text = typeof source === 'string' ? source : Buffer.from(source as ArrayBuffer).toString('utf8');
    // CommonJS can pass an in-thread hook and then `_compile`: it is transformed once.
    if (text.includes(TRANSFORMED)) return text;
    const { code, report } = transformCached(plan.cacheDir, text, file, format, targets, () => {
      // Loaded only now: the parser and the code generator are for target files not seen before.
      const { transformModule } = require('./transform') as typeof import('./transform');
      return transformModule(text, file, format, targets);
    });
    if (code === undefined) plan.onUnread(report.targets);
    return code;
  } catch (error) {
    const reason = `its source could not be transformed: ${(error as Error)?.message ?? String(error)}`;
    plan.onUnread(targets.map((t) => ({ target: t.spec, ok: false, reason })));
    return undefined;
  }
}
