import fs from 'node:fs';
import path from 'node:path';

/** A cache file's content, or undefined when there is none or it cannot be read. */
export function readCacheFile<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Writes a cache file, or nothing: a cache that cannot be written is only slower next time. */
export function writeCacheFile(file: string, value: unknown): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written aside and renamed, so that a process starting meanwhile never reads half a file.
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(value));
    fs.renameSync(temp, file);
  } catch {
    // Only a cache.
  }
}
