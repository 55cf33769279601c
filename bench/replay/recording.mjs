import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * One line as the recorder writes it for `handleMessage(message, context)`, about 220 bytes.
 * Lines are written directly rather than recorded through an app: a million take seconds.
 */
const line = (i) =>
  `{"_version":"1","function":"handleMessage","target":"agent.mjs:handleMessage","iteration":${i},` +
  `"args":["recorded message ${i}",{"userId":"u${i % 97}","locale":"en-GB"}],"kwargs":{},"params":["message","context"],` +
  `"timestamp":"2026-03-01T10:00:00.000Z","meta":{"pid":4242}}\n`;

function* chunks(lines) {
  for (let i = 0; i < lines; ) {
    let chunk = '';
    for (const end = Math.min(i + 10_000, lines); i < end; i++) chunk += line(i);
    yield chunk;
  }
}

/** Writes `lines` recordings to `file`, streamed, so that a file of hundreds of MB is never held whole. */
export async function writeRecording(file, lines) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await pipeline(Readable.from(chunks(lines)), fs.createWriteStream(file));
}
