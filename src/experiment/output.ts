import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { RunResult } from '../replay/execute';

// An experiment holds the same arguments as the recording it replays, which is private to its
// owner: so are its folder and every file written in it (and reports written from it elsewhere).
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/**
 * A new folder `<base>/<name>_<YYYYmmdd_HHMMSS>`, never one that exists: a second experiment in
 * the same second gets `_2`, `_3`... Made with a plain mkdir, so that two processes racing for
 * the same name cannot both get it; private to its owner (0700).
 */
export function createExperimentDir(base: string, name: string, now = new Date()): string {
  fs.mkdirSync(base, { recursive: true });
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const safeName = name.replace(/[^\w.-]+/g, '-');
  for (let n = 1; ; n++) {
    const dir = path.join(base, `${safeName}_${stamp}${n === 1 ? '' : `_${n}`}`);
    try {
      fs.mkdirSync(dir, { mode: PRIVATE_DIR });
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** The lines of a file, streamed; none when it is not there. */
export async function* fileLines(file: string): AsyncGenerator<string> {
  if (!fs.existsSync(file)) return;
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) if (line.length > 0) yield line;
}

/** Appends JSON lines to a file as results arrive, so that an interrupted experiment keeps what it ran. */
export class JsonLines {
  private readonly fd: number;
  constructor(file: string) {
    this.fd = fs.openSync(file, 'a', PRIVATE_FILE);
  }
  write(values: readonly unknown[]): void {
    if (values.length > 0) fs.writeSync(this.fd, values.map((v) => JSON.stringify(v)).join('\n') + '\n');
  }
  /** Appends lines already made, each ending in a newline. */
  writeText(text: string): void {
    if (text.length > 0) fs.writeSync(this.fd, text);
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
    this.fd = fs.openSync(file, 'w', PRIVATE_FILE);
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
export function errorEntry(result: Pick<RunResult, 'trace_id' | 'iteration' | 'recording_index' | 'recording_line' | 'target' | 'input' | 'status' | 'error' | 'attempts'>): unknown {
  const { trace_id, iteration, recording_index, recording_line, target, input, status, error, attempts } = result;
  return { trace_id, iteration, recording_index, recording_line, target, input, status, error, attempts };
}

/** Writes a JSON file of an experiment, whole, readable by its owner alone. */
export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', { private: true });
}

/** Makes a folder of an experiment (its `evaluation/`), private to its owner as the experiment's own is. */
export function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
}

/**
 * Writes a file through a temporary file and a rename, with its folder made first, so that no
 * reader (an experiment, a CI reporter, a browser) ever sees half of it. With `private`, the
 * file is its owner's alone (0600), as what is written from an experiment is.
 */
export function writeFileAtomic(file: string, text: string, options: { private?: boolean } = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    // Always a new file ('wx'): a mode only applies to a file made now, and a link planted at that name is not followed.
    fs.rmSync(temporary, { force: true });
    fs.writeFileSync(temporary, text, { flag: 'wx', ...(options.private ? { mode: PRIVATE_FILE } : {}) });
    fs.renameSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}
