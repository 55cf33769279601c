import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { countRecords, recordingFiles, rotatedFiles, rotatedName } from '../../src/record/files';
import { RecordWriter } from '../../src/record/writer';

// The writer under faults: a disk that fills (fs.writeSync mocked to write what fits, then fail
// with ENOSPC), a file deleted or renamed away, a planted symbolic link or FIFO.

const realWriteSync = fs.writeSync.bind(fs);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-writer-'));
}

function tempFile(): string {
  return path.join(tempDir(), 'recordings', 'calls.jsonl');
}

/** A writer that writes only when told to, and keeps everything in memory until then. */
function manual(file: string, maxBufferedBytes = 1e9, onDrop?: (n: number) => void): RecordWriter {
  return new RecordWriter(file, { flushIntervalMs: 60_000, eagerFlushBytes: Infinity, maxBufferedBytes, onDrop });
}

function rotating(file: string, maxFileBytes: number): RecordWriter {
  return new RecordWriter(file, { flushIntervalMs: 60_000, eagerFlushBytes: Infinity, maxFileBytes });
}

function line(i: number, pad = 10): string {
  return `${JSON.stringify({ i, pad: 'é'.repeat(pad) })}\n`;
}

function enospc(): Error {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/**
 * A disk with `space` bytes left: a write gets what fits (a short count, as write(2) gives), and
 * the next one fails with ENOSPC. `only` limits the disk to writes on one fd.
 */
function fillableDisk(space = Infinity) {
  const disk = { space, writes: 0, only: undefined as number | undefined };
  vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buffer: Buffer, offset = 0, length?: number) => {
    disk.writes++;
    const wanted = length ?? buffer.length - offset;
    if (disk.only !== undefined && fd !== disk.only) return realWriteSync(fd, buffer, offset, wanted);
    if (disk.space <= 0) throw enospc();
    const written = realWriteSync(fd, buffer, offset, Math.min(wanted, disk.space));
    disk.space -= written;
    return written;
  }) as typeof fs.writeSync);
  return disk;
}

let stderr: string[];
beforeEach(() => {
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
    stderr.push(String(chunk));
    return true;
  }) as typeof process.stderr.write);
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A tiny deterministic generator, so that a failing sequence can be run again. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

/**
 * The complete records of a file in order. A line must be JSON; the one exception is a torn line
 * at the very end of a file without a newline, which must be the start of the line that follows it.
 */
function records(bytes: Buffer): { complete: string[]; fragment: Buffer } {
  const end = bytes.lastIndexOf(0x0a) + 1;
  const parts = bytes.subarray(0, end).toString('utf8').split('\n').slice(0, -1);
  for (const part of parts) expect(() => JSON.parse(part), `not JSON: ${part.slice(0, 80)}`).not.toThrow();
  // Bytes, not text: a tear can split a character.
  return { complete: parts.map((p) => `${p}\n`), fragment: bytes.subarray(end) };
}

/** Whether `fragment` is the start of one of the lines. */
function startsOneOf(lines: string[], fragment: Buffer): boolean {
  return lines.some((l) => Buffer.from(l).subarray(0, fragment.length).equals(fragment));
}

describe('RecordWriter: partial writes', () => {
  it('writes only the rest after a short write', () => {
    const file = tempFile();
    let calls = 0;
    // Every write(2) takes at most 7 bytes: every line is split, several times.
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buffer: Buffer, offset = 0, length?: number) => {
      calls++;
      return realWriteSync(fd, buffer, offset, Math.min(7, length ?? buffer.length - offset));
    }) as typeof fs.writeSync);
    const writer = manual(file);
    const written = Array.from({ length: 40 }, (_, i) => line(i, i));
    for (const l of written) writer.write(l);
    writer.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(written.join(''));
    expect(calls).toBeGreaterThan(written.length);
  });

  it('resumes after ENOSPC in the middle of a line: every line exactly once, in order, each JSON', () => {
    const file = tempFile();
    const disk = fillableDisk(100);
    const writer = manual(file);
    const written = Array.from({ length: 20 }, (_, i) => line(i, 20));
    for (const l of written.slice(0, 10)) writer.write(l);
    writer.flush();
    // Torn: the disk took 100 bytes, part of a line.
    expect(fs.statSync(file).size).toBe(100);
    expect(fs.readFileSync(file, 'utf8').endsWith('\n')).toBe(false);
    expect(stderr.join('')).toMatch(/cannot write to .*calls\.jsonl: ENOSPC/);
    for (const l of written.slice(10)) writer.write(l);
    writer.flush();
    disk.space = 37;
    writer.flush();
    disk.space = Infinity;
    writer.flush();
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toBe(written.join(''));
    expect(records(Buffer.from(text)).complete.map((l) => JSON.parse(l).i)).toEqual([...Array(20).keys()]);
    // Nothing was dropped, so nothing is said about drops.
    expect(stderr.join('')).not.toMatch(/fluxloop: dropped/);
    expect(writer.dropped).toBe(0);
    writer.close();
  });

  it('tears at every byte of a line and still writes each line once (random sequences)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = random(seed);
      const file = tempFile();
      const disk = fillableDisk(0);
      const writer = manual(file);
      const written: string[] = [];
      for (let step = 0; step < 30; step++) {
        for (let k = next(6); k > 0; k--) {
          written.push(line(written.length, next(60)));
          writer.write(written[written.length - 1]!);
        }
        // Sometimes no room at all, sometimes a few bytes, sometimes plenty.
        disk.space = [0, 1, next(40), next(400), 5000][next(5)]!;
        writer.flush();
      }
      disk.space = Infinity;
      writer.close();
      expect(fs.readFileSync(file, 'utf8'), `seed ${seed}`).toBe(written.join(''));
      vi.mocked(fs.writeSync).mockRestore();
    }
  });

  it('never glues a line to another writer\'s line when that writer wrote after a torn line', () => {
    const file = tempFile();
    const disk = fillableDisk();
    const a = manual(file);
    a.write(line(1, 30));
    a.flush(); // opens the file
    disk.only = (a as unknown as { fd: number }).fd;
    disk.space = 20;
    a.write(line(2, 30));
    a.write(line(3, 30));
    a.flush();
    // a's line 2 is torn after 20 bytes when a second process writes.
    const torn = Buffer.from(line(2, 30)).subarray(0, 20);
    expect(fs.readFileSync(file)).toEqual(Buffer.concat([Buffer.from(line(1, 30)), torn]));
    const b = manual(file);
    b.write(line(100, 5));
    b.write(line(101, 5));
    b.close();
    disk.space = Infinity;
    a.close();
    // b ended the torn line before its own; a then wrote its line 2 again whole rather than its rest.
    const expected = [line(1, 30), `${torn.toString('latin1')}\n`, line(100, 5), line(101, 5), line(2, 30), line(3, 30)];
    expect(fs.readFileSync(file)).toEqual(Buffer.concat(expected.map((t, i) => Buffer.from(t, i === 1 ? 'latin1' : 'utf8'))));
    // So every record is whole, once; the torn start stands alone on its line.
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(text.filter(isJson).map((l) => JSON.parse(l).i)).toEqual([1, 100, 101, 2, 3]);
    expect(text.filter((l) => !isJson(l))).toHaveLength(1);
  });

  it('does not write a line twice when only its newline was missing and another writer ended it', () => {
    const file = tempFile();
    const disk = fillableDisk();
    const a = manual(file);
    a.write(line(1));
    a.flush();
    disk.only = (a as unknown as { fd: number }).fd;
    const torn = line(2);
    disk.space = Buffer.byteLength(torn) - 1;
    a.write(torn);
    a.flush();
    expect(fs.readFileSync(file, 'utf8')).toBe(line(1) + torn.slice(0, -1));
    const b = manual(file);
    b.write(line(100));
    b.close();
    disk.space = Infinity;
    a.write(line(3));
    a.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(line(1) + torn + line(100) + line(3));
  });

  it('starts on a line of its own after a torn line left by an earlier process', () => {
    const file = tempFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${line(0)}{"i":1,"pad":"é`);
    const writer = manual(file);
    writer.write(line(2));
    writer.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(`${line(0)}{"i":1,"pad":"é\n${line(2)}`);
  });
});

describe('RecordWriter: a full disk', () => {
  it('keeps a bounded queue, then drops whole records, counts them and says so once', () => {
    const file = tempFile();
    const disk = fillableDisk(0);
    const counts: number[] = [];
    const writer = manual(file, 1000, (n) => counts.push(n));
    const written = Array.from({ length: 100 }, (_, i) => line(i, 20));
    for (const l of written) writer.write(l);
    // Held in memory: the bound, and not a record more.
    const queued = 100 - writer.dropped;
    expect(writer.dropped).toBeGreaterThan(0);
    const held = Buffer.byteLength(written.slice(0, queued).join(''));
    expect(held).toBeGreaterThanOrEqual(1000);
    expect(held - Buffer.byteLength(written[queued - 1]!)).toBeLessThan(1000);
    expect(counts[counts.length - 1]).toBe(writer.dropped);
    // Further flushes while full neither lose nor repeat anything, nor warn again.
    writer.flush();
    writer.flush();
    expect(stderr.filter((m) => /cannot write/.test(m))).toHaveLength(1);
    expect(stderr.join('')).not.toMatch(/fluxloop: dropped/);

    disk.space = Infinity;
    writer.flush();
    // The oldest records, whole and in order; the newest were dropped.
    expect(fs.readFileSync(file, 'utf8')).toBe(written.slice(0, queued).join(''));
    const drops = stderr.filter((m) => /fluxloop: dropped/.test(m));
    expect(drops).toEqual([`fluxloop: dropped ${100 - queued} records that could not be written to ${file} (ENOSPC: no space left on device, write)\n`]);

    // Writing again: nothing more is dropped or said.
    writer.write(line(200));
    writer.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(written.slice(0, queued).join('') + line(200));
    expect(stderr.filter((m) => /fluxloop: dropped/.test(m))).toHaveLength(1);
    expect(writer.dropped).toBe(100 - queued);
  });

  it('counts what it still holds as dropped when it closes on a full disk, and leaves no torn line', () => {
    const file = tempFile();
    const disk = fillableDisk(Infinity);
    const writer = manual(file);
    writer.write(line(0));
    writer.flush();
    disk.space = 30;
    for (let i = 1; i <= 5; i++) writer.write(line(i));
    writer.close();
    // Line 1 was torn by the full disk: it is cut off, so the file ends on a whole line.
    expect(fs.readFileSync(file, 'utf8')).toBe(line(0));
    expect(writer.dropped).toBe(5);
    expect(stderr.filter((m) => /fluxloop: dropped/.test(m))).toEqual([`fluxloop: dropped 5 records that could not be written to ${file} (ENOSPC: no space left on device, write)\n`]);
    // The next process appends whole lines.
    disk.space = Infinity;
    const next = manual(file);
    next.write(line(9));
    next.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(line(0) + line(9));
  });

  it('retries on its own timer once the disk has room again', async () => {
    const file = tempFile();
    const disk = fillableDisk(0);
    const writer = new RecordWriter(file, { flushIntervalMs: 5 });
    writer.write(line(0));
    writer.write(line(1));
    await vi.waitFor(() => expect(stderr.join('')).toMatch(/ENOSPC/));
    disk.space = Infinity;
    await vi.waitFor(() => expect(fs.readFileSync(file, 'utf8')).toBe(line(0) + line(1)));
    writer.close();
  });

  it('never throws into the caller, whatever the file system throws', () => {
    const file = tempFile();
    vi.spyOn(fs, 'writeSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    });
    vi.spyOn(fs, 'fstatSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, fstat'), { code: 'EIO' });
    });
    const writer = new RecordWriter(file, { flushIntervalMs: 60_000, maxBufferedBytes: 200 });
    expect(() => {
      for (let i = 0; i < 50; i++) writer.write(line(i));
      writer.flush();
      writer.close();
    }).not.toThrow();
    expect(writer.dropped).toBe(50);
  });

  // The path is looked at with lstat; with rotation on, the size with fstat too.
  it.each([
    ['without rotation', (file: string) => manual(file), 0],
    ['with rotation', (file: string) => rotating(file, 1e9), 1],
  ])('checks the file once per flush, never per record, %s', (_, make, fstats) => {
    const file = tempFile();
    const writer = make(file);
    writer.write(line(0));
    writer.flush();
    const lstat = vi.spyOn(fs, 'lstatSync');
    const fstat = vi.spyOn(fs, 'fstatSync');
    for (let i = 1; i <= 1000; i++) writer.write(line(i));
    expect(lstat).not.toHaveBeenCalled();
    expect(fstat).not.toHaveBeenCalled();
    writer.flush();
    expect(lstat).toHaveBeenCalledTimes(1);
    expect(fstat).toHaveBeenCalledTimes(fstats);
    writer.close();
  });
});

describe('RecordWriter: a file deleted or rotated', () => {
  it('reopens a deleted file at the next flush, and says so once', () => {
    const file = tempFile();
    const writer = manual(file);
    writer.write(line(0));
    writer.flush();
    fs.unlinkSync(file);
    writer.write(line(1));
    writer.write(line(2));
    writer.flush();
    expect(fs.readFileSync(file, 'utf8')).toBe(line(1) + line(2));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    fs.rmSync(path.dirname(file), { recursive: true });
    writer.write(line(3));
    writer.close();
    // Its folder gone too: made again.
    expect(fs.readFileSync(file, 'utf8')).toBe(line(3));
    expect(stderr.filter((m) => /deleted or replaced/.test(m))).toEqual([`fluxloop: ${file} was deleted or replaced while recording; records now go to a new file at that path\n`]);
  });

  it('follows a rotation: the renamed file keeps what was written, the new one at the path gets the rest', () => {
    const file = tempFile();
    const writer = manual(file);
    writer.write(line(0));
    writer.flush();
    fs.renameSync(file, `${file}.1`);
    writer.write(line(1));
    writer.flush();
    // logrotate's create: a new file already at the path.
    fs.renameSync(file, `${file}.2`);
    fs.writeFileSync(file, '');
    writer.write(line(2));
    writer.close();
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe(line(0));
    expect(fs.readFileSync(`${file}.2`, 'utf8')).toBe(line(1));
    expect(fs.readFileSync(file, 'utf8')).toBe(line(2));
  });

  it('ends a torn line in the renamed file, and writes a torn line whole into the new file after a deletion', () => {
    const file = tempFile();
    const disk = fillableDisk();
    const writer = manual(file);
    writer.write(line(0));
    writer.flush();
    disk.space = 10;
    writer.write(line(1));
    writer.flush();
    fs.renameSync(file, `${file}.1`);
    disk.space = Infinity;
    writer.write(line(2));
    writer.flush();
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe(line(0) + line(1));
    expect(fs.readFileSync(file, 'utf8')).toBe(line(2));

    disk.space = 10;
    writer.write(line(3));
    writer.flush();
    fs.unlinkSync(file);
    disk.space = Infinity;
    writer.write(line(4));
    writer.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(line(3) + line(4));
  });

  it('keeps every record across random rotations while the disk tears lines', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const next = random(seed * 7919);
      const file = tempFile();
      const disk = fillableDisk(Infinity);
      const writer = manual(file);
      const written: string[] = [];
      let rotations = 0;
      for (let step = 0; step < 25; step++) {
        for (let k = 1 + next(5); k > 0; k--) {
          written.push(line(written.length, next(40)));
          writer.write(written[written.length - 1]!);
        }
        disk.space = [0, next(30), next(300), Infinity][next(4)]!;
        writer.flush();
        if (next(4) === 0 && fs.existsSync(file)) fs.renameSync(file, `${file}.${++rotations}`);
      }
      disk.space = Infinity;
      writer.close();
      const files = [...Array.from({ length: rotations }, (_, i) => `${file}.${i + 1}`), file].filter((f) => fs.existsSync(f));
      const seen: string[] = [];
      files.forEach((f, n) => {
        const { complete, fragment } = records(fs.readFileSync(f));
        seen.push(...complete);
        // A rotated file may end in a torn line whose whole is in the next file; the last ends whole.
        if (n === files.length - 1) expect(fragment.length, `seed ${seed}`).toBe(0);
        else if (fragment.length > 0) expect(startsOneOf(written, fragment), `seed ${seed}`).toBe(true);
      });
      expect(seen, `seed ${seed}`).toEqual(written);
      vi.mocked(fs.writeSync).mockRestore();
    }
  });
});

describe('RecordWriter: rotation at maxFileBytes', () => {
  /** A writer like `manual`, rotating past `max` bytes. */
  /** Every line of the recording, file by file, oldest first; each file must end whole. */
  const filesOf = (file: string) =>
    recordingFiles(file)
      .filter((f) => fs.existsSync(f))
      .map((f) => {
        const { complete, fragment } = records(fs.readFileSync(f));
        expect(fragment.length, f).toBe(0);
        return { file: f, lines: complete, size: fs.statSync(f).size };
      });

  it('renames the file to a timestamped one beside it once a flush takes it past the size, and goes on in a new file', () => {
    const file = tempFile();
    const lines = Array.from({ length: 30 }, (_, i) => line(i));
    // The first flush (10 lines) stays under the size, the second passes it.
    const writer = rotating(file, Buffer.byteLength(lines.slice(0, 15).join('')));
    for (const l of lines.slice(0, 10)) writer.write(l);
    writer.flush();
    expect(rotatedFiles(file)).toEqual([]);
    for (const l of lines.slice(10, 20)) writer.write(l);
    writer.flush();
    const [rotated] = rotatedFiles(file);
    expect(path.basename(rotated!)).toMatch(/^calls\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.jsonl$/);
    expect(path.dirname(rotated!)).toBe(path.dirname(file));
    expect(fs.readFileSync(rotated!, 'utf8')).toBe(lines.slice(0, 20).join(''));
    // The new file is made by the next flush that has something to write.
    expect(fs.existsSync(file)).toBe(false);
    for (const l of lines.slice(20)) writer.write(l);
    writer.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(lines.slice(20).join(''));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
    expect(stderr).toEqual([]);
  });

  it('two writers on one file: every line once, each file rotated by one of them only, past the size, and no warning', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed * 104729);
      const file = tempFile();
      const max = 200 + next(400);
      const writers = [rotating(file, max), rotating(file, max)];
      const written: string[] = [];
      for (let step = 0; step < 60; step++) {
        const writer = writers[next(2)]!;
        for (let k = 1 + next(6); k > 0; k--) {
          written.push(line(written.length, next(20)));
          writer.write(written[written.length - 1]!);
        }
        if (next(2) === 0) writer.flush();
      }
      for (const writer of writers) writer.close();
      const files = filesOf(file);
      // Each writer's lines keep their order, and no line is lost or written twice.
      expect(files.flatMap((f) => f.lines).sort(), `seed ${seed}`).toEqual([...written].sort());
      // Only a file past the size is rotated: one that another writer had rotated first never is.
      for (const f of files.slice(0, -1)) expect(f.size, `seed ${seed}: ${f.file}`).toBeGreaterThanOrEqual(max);
      expect(files.length, `seed ${seed}`).toBeGreaterThan(2);
      expect(stderr, `seed ${seed}`).toEqual([]);
    }
  });

  it('leaves alone a file that another writer put at the path after rotating the one this writer filled', () => {
    const file = tempFile();
    const a = rotating(file, 100);
    const b = rotating(file, 100);
    a.write(line(0));
    a.flush();
    b.write(line(1));
    b.flush();
    // While b writes its next lines, a rotates the full file and starts a new one at the path.
    const realWrite = fs.writeSync;
    let once = true;
    vi.spyOn(fs, 'writeSync').mockImplementation(((...args: Parameters<typeof fs.writeSync>) => {
      if (once) {
        once = false;
        vi.mocked(fs.writeSync).mockRestore();
        a.write(line(2));
        a.write(line(3));
        a.write(line(4));
        a.flush();
        a.write(line(5));
        a.flush();
      }
      return (realWrite as (...a: unknown[]) => number)(...args);
    }) as typeof fs.writeSync);
    b.write(line(6));
    b.write(line(7));
    b.flush();
    // b's lines went to the file it had open, now rotated; it found that file gone from the path and
    // did not rotate the new one.
    const files = filesOf(file);
    expect(files.map((f) => f.lines)).toEqual([[line(0), line(1), line(2), line(3), line(4), line(6), line(7)], [line(5)]]);
    b.write(line(8));
    b.close();
    a.close();
    expect(filesOf(file).map((f) => f.lines)).toEqual([[line(0), line(1), line(2), line(3), line(4), line(6), line(7)], [line(5), line(8)]]);
    expect(stderr).toEqual([]);
  });

  it('waits while another writer holds the lock, and takes over a lock left by a process that died', () => {
    const file = tempFile();
    const writer = rotating(file, 50);
    writer.write(line(0));
    writer.write(line(1));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.lock`, '');
    writer.flush();
    expect(rotatedFiles(file)).toEqual([]);
    // Older than any rotation takes: removed at this flush, and the file rotated at the next.
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(`${file}.lock`, old, old);
    writer.write(line(2));
    writer.flush();
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
    writer.write(line(3));
    writer.close();
    expect(filesOf(file).map((f) => f.lines)).toEqual([[line(0), line(1), line(2), line(3)]]);
    expect(rotatedFiles(file)).toHaveLength(1);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('says once why it cannot rotate, and keeps writing to the file', () => {
    const file = tempFile();
    const writer = rotating(file, 10);
    const rename = vi.spyOn(fs, 'renameSync').mockImplementation(() => {
      throw Object.assign(new Error('EACCES: permission denied, rename'), { code: 'EACCES' });
    });
    for (let i = 0; i < 5; i++) {
      writer.write(line(i));
      expect(() => writer.flush()).not.toThrow();
    }
    writer.close();
    expect(rename).toHaveBeenCalled();
    expect(fs.readFileSync(file, 'utf8')).toBe([0, 1, 2, 3, 4].map((i) => line(i)).join(''));
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
    expect(stderr.filter((m) => m.includes('cannot rotate'))[0]).toBe(`fluxloop: cannot rotate ${file}: EACCES: permission denied, rename; records go on into it\n`);
  });

  it('names rotated files so that they sort by time, and finds only those of its file', () => {
    const dir = tempDir();
    const file = path.join(dir, 'calls.jsonl');
    const at = new Date('2026-11-27T22:15:03.123Z');
    expect(rotatedName(file, at)).toBe(path.join(dir, 'calls.2026-11-27T22-15-03.123Z.jsonl'));
    expect(rotatedName(file, at, 2)).toBe(path.join(dir, 'calls.2026-11-27T22-15-03.123Z.2.jsonl'));
    expect(rotatedName(path.join(dir, 'calls'), at)).toBe(path.join(dir, 'calls.2026-11-27T22-15-03.123Z'));
    const names = [
      'calls.2026-11-27T22-15-03.123Z.10.jsonl',
      'calls.2026-11-27T22-15-03.123Z.jsonl',
      'calls.2026-11-27T22-15-03.123Z.2.jsonl',
      'calls.2025-01-01T00-00-00.000Z.jsonl',
      'calls.jsonl',
      'calls.jsonl.lock',
      'calls.2026-11-27.jsonl',
      'other.2026-11-27T22-15-03.123Z.jsonl',
      'calls.2026-11-27T22-15-03.123Z.jsonl.bak',
    ];
    for (const name of names) fs.writeFileSync(path.join(dir, name), '');
    expect(rotatedFiles(file).map((f) => path.basename(f))).toEqual([
      'calls.2025-01-01T00-00-00.000Z.jsonl',
      'calls.2026-11-27T22-15-03.123Z.jsonl',
      'calls.2026-11-27T22-15-03.123Z.2.jsonl',
      'calls.2026-11-27T22-15-03.123Z.10.jsonl',
    ]);
    expect(recordingFiles(file).at(-1)).toBe(file);
    expect(rotatedFiles(path.join(dir, 'missing', 'calls.jsonl'))).toEqual([]);
  });
});

describe('RecordWriter: what it refuses to write to', () => {
  it('refuses a symbolic link: the file it points to keeps its content and mode', () => {
    const file = tempFile();
    const victim = path.join(tempDir(), 'victim');
    fs.writeFileSync(victim, 'precious\n', { mode: 0o644 });
    fs.chmodSync(victim, 0o644);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.symlinkSync(victim, file);
    const writer = manual(file);
    for (let i = 0; i < 3; i++) writer.write(line(i));
    expect(() => writer.close()).not.toThrow();
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.statSync(victim).mode & 0o777).toBe(0o644);
    expect(fs.lstatSync(file).isSymbolicLink()).toBe(true);
    expect(writer.dropped).toBe(3);
    const text = stderr.join('');
    expect(text).toContain(`fluxloop: refusing to write records to ${file}: it is a symbolic link`);
    expect(text).toContain(`fluxloop: dropped 3 records that could not be written to ${file}`);
  });

  it('refuses a FIFO without waiting for a reader, and a directory', (ctx) => {
    const dir = path.join(tempDir(), 'recordings');
    fs.mkdirSync(dir);
    try {
      execFileSync('mkfifo', [path.join(dir, 'fifo.jsonl')]);
    } catch {
      ctx.skip('mkfifo is not available here');
    }
    const fifo = new RecordWriter(path.join(dir, 'fifo.jsonl'), { flushIntervalMs: 60_000 });
    fifo.write(line(0));
    fifo.close();
    expect(fifo.dropped).toBe(1);
    fs.mkdirSync(path.join(dir, 'dir.jsonl'));
    const folder = new RecordWriter(path.join(dir, 'dir.jsonl'), { flushIntervalMs: 60_000 });
    folder.write(line(0));
    folder.close();
    expect(folder.dropped).toBe(1);
    const text = stderr.join('');
    expect(text).toContain(`refusing to write records to ${path.join(dir, 'fifo.jsonl')}: it is not a regular file`);
    expect(text).toContain(`refusing to write records to ${path.join(dir, 'dir.jsonl')}: it is a directory`);
  });

  it('makes its own file 0600, and leaves the mode of a file it does not own', (ctx) => {
    const file = tempFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const ours = manual(file);
    ours.write(line(0));
    ours.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    if (process.getuid?.() !== 0) ctx.skip('giving a file to another user needs root');
    const other = `${file}.other`;
    fs.writeFileSync(other, '', { mode: 0o666 });
    fs.chmodSync(other, 0o666);
    fs.chownSync(other, 65534, 65534);
    const writer = manual(other);
    writer.write(line(0));
    writer.close();
    expect(fs.readFileSync(other, 'utf8')).toBe(line(0));
    expect(fs.statSync(other).mode & 0o777).toBe(0o666);
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('countRecords', () => {
  it('counts the records, not the lines of their downstream calls, wherever a chunk of the file ends', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-count-'));
    const record = (n: number) => JSON.stringify({ _version: '1', function: 'f', target: 'a.js:f', iteration: n, id: `ab-${n}`, args: ['x'.repeat(n % 97)] });
    const child = (n: number) => JSON.stringify({ _version: '1', parent: `ab-${n}`, seq: 0, kind: 'http', name: 'GET x/'.padEnd(n % 89, '.') });
    const lines: string[] = [];
    for (let n = 0, size = 0; size < 300_000; n++) {
      lines.push(child(n), record(n), child(n), '  ', `{"function":"py${n}"}`);
      size += lines.slice(-5).join('\n').length;
    }
    // The stream reads 64 KiB a chunk: the start of a child line is cut at each place in turn.
    for (const shift of [0, 3, 11, 24, 25, 26]) {
      const file = path.join(dir, `rec-${shift}.jsonl`);
      const text = `${'x'.repeat(65_536 - shift - 1)}\n${lines.join('\n')}`;
      fs.writeFileSync(file, text);
      const expected = 1 + lines.filter((l) => l.trim() !== '' && !l.startsWith('{"_version":"1","parent":')).length;
      expect(await countRecords(file)).toBe(expected);
    }
    expect(await countRecords(path.join(dir, 'missing.jsonl'))).toBe(0);
  });
});

