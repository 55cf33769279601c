import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where a function was marked: the file and line of the first frame outside fluxloop. */
export interface CallSite {
  file: string;
  line: number;
}

const OURS = path.resolve(__dirname, '..');
// `    at fn (file:///app/agent.js:12:3)` or `    at /app/agent.js:12:3`.
const FRAME_RE = /\(?((?:file:\/\/|\/|[A-Za-z]:[\\/]|\\\\)[^()]*?):(\d+):\d+\)?$/;

/**
 * The caller's place in the app, read from a stack trace: its text rather than V8's structured
 * frames, so that tsx's source maps give the TypeScript file and line. Undefined when no frame
 * names a file (an `eval`, a REPL). Costs a few microseconds, paid once per marked function.
 */
export function callerSite(): CallSite | undefined {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 12;
    const stack = new Error().stack ?? '';
    for (const frame of stack.split('\n').slice(1)) {
      const match = FRAME_RE.exec(frame.trim());
      if (match === null) continue;
      const file = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
      // A compiler's decorator helpers live in the app's dependencies, not in the app.
      if (file.startsWith(OURS + path.sep) || file.includes(`${path.sep}node_modules${path.sep}tslib${path.sep}`)) continue;
      return { file, line: Number(match[2]) };
    }
  } catch {
    // A stack that cannot be read leaves the function named by its name alone.
  } finally {
    Error.stackTraceLimit = limit;
  }
  return undefined;
}
