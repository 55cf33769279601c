/**
 * Warnings from inside the user's process. They go to stderr and never throw; each key is
 * reported at most a few times, so that a failing disk cannot flood the app's logs.
 */
const counts = new Map<string, number>();
const MAX_PER_KEY = 3;

export function warn(key: string, message: string): void {
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  if (n > MAX_PER_KEY) return;
  const suffix = n === MAX_PER_KEY ? ' (further warnings of this kind are suppressed)' : '';
  try {
    process.stderr.write(`fluxloop: ${message}${suffix}\n`);
  } catch {
    // stderr closed: nothing sensible is left to do.
  }
}
