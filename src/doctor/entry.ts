import fs from 'node:fs';
import path from 'node:path';
import { findModule } from '../config/project';
import { readLastRun } from '../instrument/status';

/** A file known to be the app's entry module, and how it is known. */
export interface Entry {
  /** The module's real path. */
  file: string;
  sources: string[];
}

const RUNNERS = new Set(['node', 'node.exe', 'tsx', 'ts-node', 'nodemon']);
// Node flags whose value is the next word.
const VALUE_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--env-file', '--conditions', '-C', '--input-type', '--title', '--watch-path']);
const NO_SCRIPT = new Set(['-e', '--eval', '-p', '--print']);

/** The script a `node …` command runs: the first word after the runner that is not a flag. */
function scriptOf(command: string): string | undefined {
  const words = command.split(/\s+/).filter(Boolean);
  let i = words.findIndex((word) => RUNNERS.has(path.basename(word)));
  if (i === -1) return undefined;
  for (i++; i < words.length; i++) {
    const word = words[i]!;
    if (['&&', '||', ';', '|'].includes(word) || NO_SCRIPT.has(word)) return undefined;
    if (word.startsWith('-')) {
      if (VALUE_FLAGS.has(word)) i++;
      continue;
    }
    return word.replace(/^['"]|['"]$/g, '');
  }
  return undefined;
}

/**
 * The app's entry modules, as far as they can be known without running it: package.json `main`
 * and the script `scripts.start` runs, and the entry scripts of the last recording run.
 */
export function findEntries(root: string): Entry[] {
  const found = new Map<string, string[]>();
  const add = (file: string | undefined, source: string) => {
    if (file !== undefined) found.set(file, [...(found.get(file) ?? []), source]);
  };
  let pkg: { main?: unknown; scripts?: { start?: unknown } } = {};
  try {
    pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    // No package.json, or one npm would not read either.
  }
  if (typeof pkg.main === 'string') add(findModule(path.resolve(root, pkg.main)), 'package.json main');
  const start = typeof pkg.scripts?.start === 'string' ? scriptOf(pkg.scripts.start) : undefined;
  if (start !== undefined) add(findModule(path.resolve(root, start)), 'package.json scripts.start');
  for (const process of readLastRun(root)?.processes ?? []) {
    if (process.entry !== undefined && !found.get(process.entry)?.includes('the last recording run')) add(process.entry, 'the last recording run');
  }
  return [...found].map(([file, sources]) => ({ file, sources }));
}
