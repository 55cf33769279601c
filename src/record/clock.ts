/**
 * Milliseconds since an arbitrary moment, for durations: the monotonic clock that
 * `performance.now()` reads, read through `process.hrtime`, since loading `node:perf_hooks` takes
 * 1.5 to 2 ms of the start of a process that records.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
