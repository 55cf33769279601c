import fs from 'node:fs';

/**
 * Random bytes for the ids that keep processes apart (a run's id, a process's record ids). Read
 * from `/dev/urandom`, the same source as `node:crypto`'s: loading `node:crypto` costs a recording
 * process several milliseconds of start-up, the read a few microseconds. Where there is no such
 * device (Windows), from `node:crypto`.
 */
export function randomBytes(n: number): Buffer {
  const bytes = Buffer.alloc(n);
  try {
    const fd = fs.openSync('/dev/urandom', 'r');
    try {
      if (fs.readSync(fd, bytes, 0, n, null) === n) return bytes;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // No device: the module below.
  }
  return (require('node:crypto') as typeof import('node:crypto')).randomFillSync(bytes);
}

/** A random (version 4) UUID, as `crypto.randomUUID()` makes one. */
export function randomUUID(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
