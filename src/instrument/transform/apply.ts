import { fileURLToPath } from 'node:url';
import type { TargetSpec } from '../../config/types';
import { TRANSFORMED, type TargetReport } from './channels';

/** The format a hook was told a module has, as the transform names it; undefined for what it leaves alone. */
export function formatOf(format: string | null | undefined): 'esm' | 'cjs' | undefined {
  return format === 'module' ? 'esm' : format === 'commonjs' ? 'cjs' : undefined;
}

/**
 * Transforms a target file's source as a hook hands it over, or says through `onUnread` why its
 * targets go unrecorded: a transformed module reports for itself when it runs, one left as it was
 * cannot. Never throws: the module then loads as it is.
 */
export function transformSource(
  source: string | ArrayBuffer | ArrayBufferView,
  file: string,
  format: 'esm' | 'cjs',
  targets: readonly TargetSpec[],
  onUnread: (reports: TargetReport[]) => void,
): string | undefined {
  try {
    const text = typeof source === 'string' ? source : Buffer.from(source as ArrayBuffer).toString('utf8');
    // CommonJS can pass an in-thread hook and then `_compile`: it is transformed once.
    if (text.includes(TRANSFORMED)) return text;
    // Loaded only now: the parser and the code generator are for apps whose targets load.
    const { transformModule } = require('./transform') as typeof import('./transform');
    const { code, report } = transformModule(text, file, format, targets);
    if (code === undefined) onUnread(report.targets);
    return code;
  } catch (error) {
    const reason = `its source could not be transformed: ${(error as Error)?.message ?? String(error)}`;
    onUnread(targets.map((t) => ({ target: t.spec, ok: false, reason })));
    return undefined;
  }
}

/** The path of a file URL, without the query a fresh import adds; undefined for other URLs. */
export function pathOf(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  const bare = new URL(url);
  bare.search = '';
  bare.hash = '';
  return fileURLToPath(bare);
}
