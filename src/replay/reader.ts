import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { ConfigError } from '../config/errors';
import { functionName } from '../config/identity';
import type { Param } from '../instrument/params';
import type { ChildRecord } from '../record/downstream-format';
import { fileChunks, recordingFiles } from '../record/files';
import { warn } from '../record/warn';
import { TransientMap } from './transient-map';

/** One recorded call, whatever shape it was written in. Values are still in the recorder's encoded (tagged JSON) form. */
export interface ReplayRecord {
  /** 0-based position among the valid records, in the order they were written: across the rotated files too (see `selectRecordings`). */
  index: number;
  /** 1-based line number in `file`. */
  line: number;
  /** The file the record was read from, as shown in messages (project-relative): the recording file, or one it was rotated to. */
  file?: string;
  /** The function name: `function`, else derived from `target` (`functionName`), else 'anonymous'. */
  function: string;
  /** `target` as recorded, when there is one. */
  target?: string;
  /** Positional arguments, encoded; [] when the record has none (Python records). */
  args: unknown[];
  /** Keyword arguments, encoded; {} when absent. */
  kwargs: Record<string, unknown>;
  /** The instance a method was called on (its class and own fields), encoded, when the recorder kept it. */
  this?: unknown;
  /** Parameter descriptions written by our recorder, when present (array). */
  params?: Param[];
  iteration?: number;
  /** The call's id, which its downstream calls name as their `parent`; absent in records made before fluxloop recorded downstream calls. */
  id?: string;
  /** The downstream calls it made, ordered by `seq` (see `selectRecordings`); absent when the record has no `id`. */
  downstream?: ChildRecord[];
  timestamp?: string;
  /** Which of the three accepted shapes it was. */
  shape: 'node' | 'python' | 'minimal';
}

export interface ReadOptions {
  /** The path shown in warnings and errors (project-relative), default: the file path. */
  displayPath?: string;
  /** The index of the file's first valid record: where the records of the files before it end. */
  firstIndex?: number;
  /** Called for each skipped line; default writes via warn() from ../record/warn (rate limited). */
  onSkip?: (skip: { line: number; reason: string; message: string }) => void;
}

export type Select = 'all' | 'first' | 'last' | number;

export interface SelectOptions extends ReadOptions {
  select?: Select;
  /** Keep only the records this accepts (see `recordingMatch`). */
  match?: (record: ReplayRecord) => boolean;
}

/** A recording file that is missing or cannot be read: the user's to fix, so no stack and exit code 2. */
export class RecordingFileError extends ConfigError {
  override name = 'RecordingFileError';

  constructor(message: string, displayPath: string) {
    super(message, { file: displayPath });
  }
}

const NOT_JSON = 'not valid JSON';

/**
 * Streams the records of a JSONL file, one at a time, skipping blank lines silently and malformed
 * ones with a warning "FILE:LINE: reason". Lines of downstream calls (`"parent"`) are not records:
 * they are passed over, unnumbered. Throws RecordingFileError when the file is missing or
 * unreadable (not when it is empty: an empty file simply yields nothing).
 */
export async function* readRecordings(file: string, options: ReadOptions = {}): AsyncGenerator<ReplayRecord> {
  for await (const entry of readEntries(file, options)) if (entry.record !== undefined) yield entry.record;
}

/** A line of a recording file: a record, or a downstream call, with the length of its text. */
interface Entry {
  record?: ReplayRecord;
  child?: ChildRecord;
  size: number;
}

/** The records and the downstream calls of one file, in the file's order. */
async function* readEntries(file: string, options: ReadOptions): AsyncGenerator<Entry> {
  const display = options.displayPath ?? file;
  // One warning key per file, so that a broken file does not hide the problems of the next one.
  const onSkip = options.onSkip ?? ((skip) => warn(`replay:${display}`, skip.message));
  let index = options.firstIndex ?? 0;
  for await (const lines of readLines(file, display)) {
    for (const { text, line, unterminated, overlong } of lines) {
      if (!overlong && text.trim() === '') continue;
      const json = line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
      const parsed = overlong ? `longer than ${MAX_LINE / 1e6} million characters` : parseLine(json, line, index, display);
      if (parsed === CHILD_LINE) continue;
      if (typeof parsed === 'string') {
        // Only a writer that died mid-line leaves the file without its last newline.
        const reason = unterminated && parsed === NOT_JSON ? `${NOT_JSON} (a partial line? the app may have been killed while writing)` : parsed;
        onSkip({ line, reason, message: `${display}:${line}: ${reason}` });
        continue;
      }
      if ('parent' in parsed) {
        yield { child: parsed, size: text.length };
        continue;
      }
      index++;
      yield { record: parsed, size: text.length };
    }
  }
}

interface Line {
  text: string;
  line: number;
  /** The file's last line, with no newline after it. */
  unterminated: boolean;
  /** Longer than MAX_LINE: its text was dropped as it was read. */
  overlong: boolean;
}

// The recorder writes records of at most 1 MB; a file without line breaks must not fill memory.
const MAX_LINE = 64_000_000;

/**
 * The lines of a file, read in chunks so that memory stays flat however large it is, and handed
 * out a chunk's worth at a time: one await per line costs more than parsing it. The split is on
 * "\n" only: a "\r" left before it is JSON white space, and JSON strings never hold a
 * raw line break, so no record is cut in two.
 */
async function* readLines(file: string, display: string): AsyncGenerator<Line[]> {
  // The start of the current line, in pieces: joining once keeps a line spanning many chunks linear.
  const parts: string[] = [];
  let length = 0;
  let line = 0;
  const take = (tail: string, unterminated: boolean): Line => {
    const overlong = length + tail.length > MAX_LINE;
    const text = overlong ? '' : parts.length > 0 ? parts.join('') + tail : tail;
    parts.length = 0;
    length = 0;
    return { text, line: ++line, unterminated, overlong };
  };
  // The decoder keeps a character split between two chunks whole.
  const decoder = new StringDecoder('utf8');
  try {
    for await (const bytes of fileChunks(file)) {
      const text = decoder.write(bytes);
      const lines: Line[] = [];
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        lines.push(take(text.slice(start, end), false));
        start = end + 1;
      }
      if (lines.length > 0) yield lines;
      if (start === text.length) continue;
      length += text.length - start;
      if (length <= MAX_LINE) parts.push(text.slice(start));
      else parts.length = 0;
    }
    const rest = decoder.end();
    length += rest.length;
    if (length <= MAX_LINE && rest.length > 0) parts.push(rest);
  } catch (error) {
    throw fileError(error as NodeJS.ErrnoException, display);
  }
  if (length > 0) yield [take('', true)];
}

function fileError(error: NodeJS.ErrnoException, display: string): Error {
  switch (error.code) {
    case 'ENOENT':
      return new RecordingFileError(
        'recording file not found; record some calls first: fluxloop record enable, then run your app with node --import fluxloop/register',
        display,
      );
    case 'EISDIR':
      return new RecordingFileError('is a folder, not a recording file; give the path of a .jsonl file', display);
    case 'EACCES':
    case 'EPERM':
      return new RecordingFileError('recording file cannot be read (permission denied)', display);
    case undefined:
      return error;
    default:
      // The system's message would name the absolute path; the code alone says what went wrong.
      return new RecordingFileError(`recording file cannot be read (${error.code})`, display);
  }
}

/** Parses one line into a record, or returns a reason string why it is not a record. Exported for tests and for callers that already have lines. */
export function parseRecordLine(text: string, line: number, index: number, file?: string): ReplayRecord | string {
  const parsed = parseLine(text, line, index, file);
  return parsed === CHILD_LINE || (typeof parsed === 'object' && 'parent' in parsed) ? 'a downstream call, not a record' : parsed;
}

/** A downstream call's line that is not one fluxloop wrote: passed over, as every child line is, but not kept. */
const CHILD_LINE = Symbol('child line');
const CHILD_KINDS: ReadonlySet<unknown> = new Set(['http', 'llm', 'tool']);

function parseLine(text: string, line: number, index: number, file?: string): ReplayRecord | ChildRecord | typeof CHILD_LINE | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
  if (!isObject(value)) return 'not a JSON object';
  if (value.parent !== undefined) return childOf(value);
  const fn = nonEmpty(value.function);
  const target = nonEmpty(value.target);
  if (fn === undefined && target === undefined) return 'no "function" or "target" name';
  const { args, kwargs } = value;
  if (args !== undefined && !Array.isArray(args)) return '"args" is not an array';
  if (kwargs !== undefined && !isObject(kwargs)) return '"kwargs" is not an object';
  if (args === undefined && kwargs === undefined) return 'no "args" or "kwargs"';

  const record: ReplayRecord = {
    index,
    line,
    function: fn ?? functionName(target!),
    args: args ?? [],
    kwargs: kwargs ?? {},
    shape: shapeOf(value, fn),
  };
  if (file !== undefined) record.file = file;
  if (target !== undefined) record.target = target;
  if (isObject(value.this)) record.this = value.this;
  if (Array.isArray(value.params)) record.params = value.params as Param[];
  if (typeof value.iteration === 'number') record.iteration = value.iteration;
  const id = nonEmpty(value.id);
  if (id !== undefined) record.id = id;
  if (typeof value.timestamp === 'string') record.timestamp = value.timestamp;
  return record;
}

/** A downstream call's line, as `ChildRecord`; one without the fields a stub needs is passed over. */
function childOf(value: Record<string, unknown>): ChildRecord | typeof CHILD_LINE {
  const { parent, seq, kind, name } = value;
  if (typeof parent !== 'string' || typeof seq !== 'number' || !CHILD_KINDS.has(kind) || typeof name !== 'string') return CHILD_LINE;
  // The line's bookkeeping is not the call's.
  const { _version, timestamp, meta, ...child } = value;
  return child as unknown as ChildRecord;
}

function shapeOf(value: Record<string, unknown>, fn: string | undefined): ReplayRecord['shape'] {
  if (value.args === undefined) return fn === undefined ? 'python' : 'minimal';
  const ours = value.params !== undefined || value.meta !== undefined || value._version !== undefined;
  return ours && fn !== undefined ? 'node' : 'minimal';
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The records of a recording in the order they were written: those of the files it was rotated to
 * (`recording.max_file_mb`), oldest first, then those of `file`. `index` runs on across the files,
 * so that it names one record; `line` and `file` say where each is. `file` may be missing once it
 * has been rotated; when no file of the recording exists, this throws as `readRecordings` does.
 */
export async function* readRecordingSet(file: string, options: ReadOptions = {}): AsyncGenerator<ReplayRecord> {
  for await (const entry of readEntrySet(file, options)) if (entry.record !== undefined) yield entry.record;
}

/** The records and downstream calls of every file of a recording, as `readRecordingSet` reads them. */
async function* readEntrySet(file: string, options: ReadOptions): AsyncGenerator<Entry> {
  const display = options.displayPath ?? file;
  const files = recordingFiles(file);
  let next = options.firstIndex ?? 0;
  for (const [i, each] of files.entries()) {
    const current = i === files.length - 1;
    if (current && files.length > 1 && !fs.existsSync(each)) return;
    const shown = current ? display : besides(display, file, each);
    for await (const entry of readEntries(each, { ...options, displayPath: shown, firstIndex: next })) {
      if (entry.record !== undefined) next = entry.record.index + 1;
      yield entry;
    }
  }
}

/** How `rotated`, which sits beside `file`, is shown when `file` is shown as `display`. */
function besides(display: string, file: string, rotated: string): string {
  const base = path.basename(file);
  return display.endsWith(base) ? display.slice(0, display.length - base.length) + path.basename(rotated) : rotated;
}

/**
 * How long a selected record waits for its downstream calls: they are written as they end, after
 * it, between the lines of calls that ran at the same time (in a later rotated file, too). Past
 * this many lines, or with this much text held, the oldest record goes on with the calls found.
 */
const CHILD_WINDOW_LINES = 20_000;
const MAX_HELD_CHARS = 64_000_000;

/**
 * The selected records, streamed: `all` (default), `first`, `last` (keeps only the latest match in
 * memory), or N (the first N matches; stops reading early). The rotated files of the recording are
 * read first (see `readRecordingSet`). Index/line fields keep the files' numbering. A selected
 * record with an `id` comes with its downstream calls (`downstream`, ordered by `seq`); only those
 * of selected records are kept, so memory stays flat on a file of any size.
 */
export async function* selectRecordings(file: string, options: SelectOptions = {}): AsyncGenerator<ReplayRecord> {
  const { select = 'all', match } = options;
  if (typeof select === 'number' && !(Number.isInteger(select) && select > 0)) {
    throw new RangeError(`select must be 'all', 'first', 'last' or a positive integer, not ${select}`);
  }
  const limit = select === 'first' ? 1 : typeof select === 'number' ? select : Infinity;
  let count = 0;
  /** Selected records waiting for their downstream calls, in the file's order, with the line they were read at. */
  const held: Array<{ record: ReplayRecord; at: number; size: number }> = [];
  const byId = new TransientMap<{ record: ReplayRecord; size: number }>();
  let heldChars = 0;
  let lines = 0;
  let last: { record: ReplayRecord; size: number } | undefined;
  const release = (record: ReplayRecord, size: number): ReplayRecord => {
    heldChars -= size;
    if (record.id !== undefined) byId.delete(record.id);
    record.downstream?.sort((a, b) => a.seq - b.seq);
    return record;
  };
  for await (const entry of readEntrySet(file, options)) {
    lines++;
    const { record, child } = entry;
    if (child !== undefined) {
      const parent = byId.get(child.parent);
      if (parent === undefined) continue;
      parent.record.downstream!.push(child);
      parent.size += entry.size;
      heldChars += entry.size;
    } else if (record !== undefined && count < limit && (match === undefined || match(record))) {
      if (record.id !== undefined) record.downstream = [];
      const kept = { record, at: lines, size: entry.size };
      heldChars += entry.size;
      if (record.id !== undefined) byId.set(record.id, kept);
      if (select === 'last') {
        if (last !== undefined) release(last.record, last.size);
        last = kept;
        continue;
      }
      held.push(kept);
      count++;
    }
    while (held.length > 0 && (held[0]!.record.id === undefined || lines - held[0]!.at >= CHILD_WINDOW_LINES || heldChars > MAX_HELD_CHARS)) {
      const { record: done, size } = held.shift()!;
      yield release(done, size);
    }
    // Returning closes the file: the lines after the last wanted record's calls are never read.
    if (count >= limit && held.length === 0) return;
  }
  for (const { record, size } of held) yield release(record, size);
  if (last !== undefined) yield release(last.record, last.size);
}
