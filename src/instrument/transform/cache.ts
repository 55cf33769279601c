import fs from 'node:fs';
import path from 'node:path';
import { readCacheFile, writeCacheFile } from '../../config/cache-file';
import type { TargetSpec } from '../../config/types';
import type { ModuleReport } from './channels';

type Transformed = { code?: string; report: ModuleReport };

interface Entry extends Transformed {
  stamp: string;
  file: string;
  format: string;
  targets: string[];
  source: string;
}

let stamp: string | undefined;

/**
 * The transform of a target file, kept in `.fluxloop/transform/` with the source it came from:
 * loading the parser and parsing are most of a recording app's start-up, and a file that has not
 * changed since the last start needs neither. One entry per file and set of targets, replaced
 * when the source changes; a new build of fluxloop transforms anew.
 */
export function transformCached(dir: string | undefined, source: string, file: string, format: 'esm' | 'cjs', targets: readonly TargetSpec[], transform: () => Transformed): Transformed {
  if (dir === undefined) return transform();
  const specs = targets.map((t) => t.spec);
  const name = path.join(dir, `${hash([file, format, ...specs].join('\0'))}.json`);
  const cached = readCacheFile<Entry>(name);
  stamp ??= stampOf();
  if (cached?.stamp === stamp && cached.file === file && cached.format === format && cached.source === source && cached.targets.join('\0') === specs.join('\0')) {
    return { code: cached.code, report: cached.report };
  }
  const result = transform();
  writeCacheFile(name, { stamp, file, format, targets: specs, source, ...result } satisfies Entry);
  return result;
}

/** This build of the transform: its version, and when its code was written (a build in development keeps its version). */
function stampOf(): string {
  const { version } = require('../../../package.json') as { version: string };
  try {
    // By its path from here rather than `require.resolve`, which in the bundled start (see
    // scripts/bundle-start.mjs) would resolve from the bundle's place.
    return `${version} ${fs.statSync(path.join(__dirname, 'transform.js')).mtimeMs}`;
  } catch {
    return version;
  }
}

/** FNV-1a, for a file name: entries hold what they were made from, so a collision only misses. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
