import fs from 'node:fs';
import path from 'node:path';
import { CHILD_LINE_START } from './downstream-format';

/**
 * The files of one recording: the file records go to, and the files it was rotated to when it
 * passed `recording.max_file_mb`. A rotated file sits beside it, named after it with the time of
 * the rotation: `args_recording.jsonl` becomes `args_recording.2026-11-27T22-15-03.123Z.jsonl`
 * (a second rotation in the same millisecond adds `.1`, `.2`). The names sort by time, and
 * nothing else in the folder has their shape.
 */

/** The name `file` is rotated to at `date`; the `n`th, when an earlier one took that name. */
export function rotatedName(file: string, date: Date, n = 0): string {
  const { stem, ext } = parts(file);
  // `:` is not allowed in Windows file names, and is awkward in a shell.
  const time = date.toISOString().replace(/:/g, '-');
  return `${stem}.${time}${n > 0 ? `.${n}` : ''}${ext}`;
}

/** The files `file` was rotated to, oldest first, as absolute paths; none when its folder is missing. */
export function rotatedFiles(file: string): string[] {
  const dir = path.dirname(path.resolve(file));
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const { stem, ext } = parts(path.basename(file));
  const shape = new RegExp(`^${escape(stem)}\\.(\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{3}Z)(?:\\.(\\d+))?${escape(ext)}$`);
  const found: Array<{ name: string; time: string; n: number }> = [];
  for (const name of names) {
    const match = shape.exec(name);
    if (match) found.push({ name, time: match[1]!, n: Number(match[2] ?? 0) });
  }
  found.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.n - b.n));
  return found.map(({ name }) => path.join(dir, name));
}

/** Every file of the recording in the order its records were written: the rotated ones, oldest first, then `file`. */
export function recordingFiles(file: string): string[] {
  return [...rotatedFiles(file), path.resolve(file)];
}

/**
 * The bytes of a file, read in chunks into one buffer: each chunk is good until the next is asked
 * for. A read stream allocates a buffer for every chunk, freed only when the garbage collector
 * gets to it; over a recording of millions of lines, their churn keeps tens of MB of the process's
 * memory held (malloc does not give it back) whatever the size of the file.
 */
export async function* fileChunks(file: string, size = 1 << 16): AsyncGenerator<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(size);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, size, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

const CHILD = Buffer.from(CHILD_LINE_START);

/**
 * The records of a file: its lines with content, less the lines of downstream calls (which belong
 * to a record), read in chunks since recordings can be large; 0 when it is missing. A line is
 * known by its first bytes, which may span two chunks; the rest of it is skipped.
 */
export async function countRecords(file: string): Promise<number> {
  let count = 0;
  // How many bytes of CHILD the current line's content has begun with; -1 before its content.
  let matched = -1;
  let decided = false;
  try {
    for await (const buf of fileChunks(file)) {
      for (let i = 0; i < buf.length; i++) {
        const byte = buf[i]!;
        if (byte === 0x0a) {
          if (!decided && matched >= 0) count++;
          matched = -1;
          decided = false;
        } else if (decided) {
          const nl = buf.indexOf(0x0a, i);
          i = (nl === -1 ? buf.length : nl) - 1;
        } else if (matched >= 0 || (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d)) {
          matched = Math.max(matched, 0);
          if (byte !== CHILD[matched]) {
            count++;
            decided = true;
          } else if (++matched === CHILD.length) {
            decided = true;
          }
        }
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  return !decided && matched >= 0 ? count + 1 : count;
}

/** One file of a recording, counted. */
export interface RecordingFileInfo {
  path: string;
  records: number;
  bytes: number;
}

/** The recording's files that exist, oldest first (the rotated ones, then `file`), each with its records and size. */
export async function describeRecordingFiles(file: string): Promise<RecordingFileInfo[]> {
  const found: RecordingFileInfo[] = [];
  for (const each of recordingFiles(file)) {
    const stat = fs.statSync(each, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile()) continue;
    found.push({ path: each, records: stat.size === 0 ? 0 : await countRecords(each), bytes: stat.size });
  }
  return found;
}

function parts(file: string): { stem: string; ext: string } {
  const ext = path.extname(file);
  return { stem: file.slice(0, file.length - ext.length), ext };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
