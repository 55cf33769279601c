import fs from 'node:fs';
import { readCacheFile, writeCacheFile } from './cache-file';
import { configPath, projectRelative, stateDir } from './project';
import type { RecordingConfig } from './types';

// The parser and the validator are part of what is cached: a new version of fluxloop reads anew.
// A checked section of another shape (one without a key added since) is read anew too.
const { version: packageVersion } = require('../../package.json') as { version: string };
const version = `${packageVersion}+2`;

interface Cached {
  version: string;
  text: string;
  recording: RecordingConfig;
}

/**
 * The `recording` section of `configs/simulation.yaml`, for a process that records. Loading the
 * YAML library is the largest part of a recording process's start-up, so the checked section is
 * kept as JSON in `.fluxloop/recording-config.json` together with the text it came from, and
 * the library is loaded only when that text has changed. A config with a mistake is never
 * cached: it is read, and reported, every time.
 */
export function loadRecordingConfig(root: string): RecordingConfig {
  let text = '';
  try {
    text = fs.readFileSync(configPath(root), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const file = cachePath(root);
  const cached = readCacheFile<Cached>(file);
  if (cached !== undefined && cached.version === version && cached.text === text) return cached.recording;
  const { parseSimulationConfig } = require('./simulation') as typeof import('./simulation');
  const { recording } = parseSimulationConfig(text, projectRelative(root, configPath(root)));
  writeCacheFile(file, { version, text, recording });
  return recording;
}

function cachePath(root: string): string {
  return stateDir(root, 'recording-config.json');
}
