import fs from 'node:fs';
import path from 'node:path';
import { findModule } from '../config/project';
import { readLastRun } from '../instrument/status';

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
 * The app's entry module, as far as it can be known without running it: package.json `main`, else
 * the script `scripts.start` runs, else the entry script of the last recording run. Its real path.
 */
export function findEntry(root: string): string | undefined {
  let pkg: { main?: unknown; scripts?: { start?: unknown } } = {};
  try {
    pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    // No package.json, or one npm would not read either.
  }
  const start = typeof pkg.scripts?.start === 'string' ? scriptOf(pkg.scripts.start) : undefined;
  const declared = [pkg.main, start].filter((file): file is string => typeof file === 'string');
  for (const file of declared) {
    const found = findModule(path.resolve(root, file));
    if (found !== undefined) return found;
  }
  return readLastRun(root)?.processes.find((p) => p.entry !== undefined)?.entry;
}
