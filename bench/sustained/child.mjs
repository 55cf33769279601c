// Runs inside `node --import fluxloop/register`: calls the recorded agent at a steady rate for a
// while, measuring how late the event loop gets, and prints one JSON object.
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const { handle } = await import(pathToFileURL(path.resolve('agent.mjs')).href);
const [rate, seconds] = process.argv.slice(2).map(Number);
const total = rate * seconds;
// At most a millisecond's worth of calls per turn: a load generator that falls behind must not
// make up for it in one long burst, which would show as the recorder's delay.
const batch = Math.ceil(rate / 1000);
const options = { userId: 'u_1042', locale: 'en-US', stream: false };

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const started = performance.now();
let calls = 0;
await new Promise((resolve) => {
  const turn = () => {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (const stop = Math.min(due, calls + batch); calls < stop; calls++) handle(`Where is my order #${calls}?`, options);
    if (calls < total) setImmediate(turn);
    else resolve();
  };
  turn();
});
const elapsed = (performance.now() - started) / 1000;
delay.disable();
console.log(
  JSON.stringify({
    // A recording process has a session; the target itself is transformed in place, not wrapped.
    recording: globalThis[Symbol.for('fluxloop.session')] != null,
    calls,
    seconds: elapsed,
    p99Ms: delay.percentile(99) / 1e6,
    maxMs: delay.max / 1e6,
  }),
);
