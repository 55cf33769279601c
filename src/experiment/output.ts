import fs from 'node:fs';
import path from 'node:path';
import type { RunResult } from '../replay/execute';

/**
 * A new folder `<base>/<name>_<YYYYmmdd_HHMMSS>`, never one that exists: a second experiment in
 * the same second gets `_2`, `_3`... Made with a plain mkdir, so that two processes racing for
 * the same name cannot both get it.
 */
export function createExperimentDir(base: string, name: string, now = new Date()): string {
  fs.mkdirSync(base, { recursive: true });
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const safeName = name.replace(/[^\w.-]+/g, '-');
  for (let n = 1; ; n++) {
    const dir = path.join(base, `${safeName}_${stamp}${n === 1 ? '' : `_${n}`}`);
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** Appends JSON lines to a file as results arrive, so that an interrupted experiment keeps what it ran. */
export class JsonLines {
  private readonly fd: number;
  constructor(file: string) {
    this.fd = fs.openSync(file, 'a');
  }
  write(values: readonly unknown[]): void {
    if (values.length > 0) fs.writeSync(this.fd, values.map((v) => JSON.stringify(v)).join('\n') + '\n');
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * Writes a JSON array to a file one element at a time, so that a million failed runs are never
 * held in memory (nor in one string, which V8 caps). The file is valid JSON once closed.
 */
export class JsonArray {
  private readonly fd: number;
  private count = 0;
  constructor(file: string) {
    this.fd = fs.openSync(file, 'w');
  }
  write(value: unknown): void {
    fs.writeSync(this.fd, `${this.count++ === 0 ? '[\n' : ',\n'}${JSON.stringify(value, null, 2).replace(/^/gm, '  ')}`);
  }
  close(): void {
    fs.writeSync(this.fd, this.count === 0 ? '[]\n' : '\n]\n');
    fs.closeSync(this.fd);
  }
}

/** The error of each run that did not end ok, for errors.json. */
export function errorEntry(result: RunResult): unknown {
  const { trace_id, iteration, recording_index, recording_line, target, input, status, error, attempts } = result;
  return { trace_id, iteration, recording_index, recording_line, target, input, status, error, attempts };
}

export function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Writes a file through a temporary file and a rename, with its folder made first, so that no
 * reader (an experiment, a CI reporter, a browser) ever sees half of it.
 */
export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}
