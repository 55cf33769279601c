import path from 'node:path';
import type { TargetSpec } from '../config/types';

/**
 * Which mechanism records a target. The project's own files are transformed as they load, so any
 * function in them can be reached (the entry module, internal functions, inline handlers) and
 * stays the very function it was. Installed packages are reached through their exports by the
 * patcher, which leaves their source alone; a line target names source, so it is transformed
 * wherever it is.
 */
export function servedByTransform(target: TargetSpec, file: string): boolean {
  return target.line !== undefined || !file.split(path.sep).includes('node_modules');
}
