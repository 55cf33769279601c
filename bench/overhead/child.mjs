// One variant of the per-call benchmark, in a process of its own, in the throwaway project of
// overhead.mjs, whose agent.mjs (transformed), node_modules/bench-agent/agent.mjs (wrapped) and
// bare.mjs (not a target) hold the same function. The recorded variants and `off` run under
// `--import fluxloop/register`, the others under plain node. Arguments: the variant, the size
// (a key of args.mjs's SIZES), the calls per round, the timed rounds, and `same` (each call's
// arguments are one state) or `new` (each call's are a state of its own, with text never recorded
// before, made before the round). Prints one JSON object: the median nanoseconds per call of the
// rounds, and what the process checked.
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { median } from '../lib/stats.mjs';
import { argsOf, SIZES } from './args.mjs';

const [variant, size, callsText, roundsText, text = 'same'] = process.argv.slice(2);
const calls = Number(callsText);
const args = argsOf(size);
let seed = 0;
/** The arguments of each call of the next round, when each call has its own. */
const nextRound = text === 'new' ? () => Array.from({ length: calls }, () => argsOf(size, ++seed)) : () => undefined;

// By path: this script lives outside the project, so a package name would not resolve from here.
const load = (file) => import(pathToFileURL(path.resolve(file)).href);
const bare = (await load('bare.mjs')).handle;
const session = globalThis[Symbol.for('fluxloop.session')];
const RECORDED = new Set(['transformed', 'wrapped', 'method']);
if (RECORDED.has(variant) !== (session != null)) throw new Error(`${variant}: recording is ${session == null ? 'off' : 'on'}`);

// The floor's and pino's lines are kept in memory, and let go once they come to a megabyte, as a
// writer hands its batch to the file: kept longer, they would be promoted by the garbage
// collector, which would make the floor dearer than it must be.
const KEEP_BYTES = 1 << 20;
let lines = [];
let held = 0;
function keep(line) {
  lines.push(line);
  held += line.length;
  if (held >= KEEP_BYTES) {
    lines = [];
    held = 0;
  }
}

/** The function each variant calls, and the work it leaves for later, done at the end of a round. */
async function setUp() {
  switch (variant) {
    case 'unwrapped':
      return { fn: bare };
    case 'floor':
      // What any recorder must do at least: the arguments' JSON in a line with a timestamp, kept.
      return {
        fn(...a) {
          keep('{"timestamp":"' + new Date().toISOString() + '","args":' + JSON.stringify(a) + '}\n');
          return bare.apply(this, a);
        },
      };
    case 'otel': {
      // OpenTelemetry's way: a span per call with the arguments' JSON as an attribute, batched to
      // an exporter that drops them.
      const { trace } = await import('@opentelemetry/api');
      const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
      const provider = new BasicTracerProvider({
        spanProcessors: [new BatchSpanProcessor({ export: (spans, done) => done({ code: 0 }), shutdown: async () => {} })],
      });
      trace.setGlobalTracerProvider(provider);
      const tracer = trace.getTracer('bench');
      return {
        fn(...a) {
          const span = tracer.startSpan('handle', { attributes: { 'code.function': 'handle', 'fluxloop.args': JSON.stringify(a) } });
          try {
            return bare.apply(this, a);
          } finally {
            span.end();
          }
        },
        finish: () => provider.forceFlush(),
      };
    }
    case 'pino': {
      // A pino logger with its defaults (level, time, pid, hostname), the arguments logged as an
      // object, to a destination stream (an object with `write`, pino's DestinationStream) that
      // keeps the lines in memory as the floor does: no system call per line, nor a worker thread.
      const { pino } = await import('pino');
      const logger = pino({}, { write: keep });
      return {
        fn(...a) {
          logger.info({ args: a }, 'handle');
          return bare.apply(this, a);
        },
      };
    }
    case 'transformed':
      return recorded((await load('agent.mjs')).handle);
    case 'wrapped':
      return recorded((await load('node_modules/bench-agent/agent.mjs')).handle);
    case 'method': {
      const agent = new (await load('agent.mjs')).Agent();
      // As many arguments as the caller gives: an `undefined` second one would be recorded, and costs more.
      return recorded((...a) => agent.handle(...a));
    }
    case 'off': {
      // Recording off: both targets must be the originals, their source the bare copy's, neither
      // rewritten nor wrapped.
      const transformed = (await load('agent.mjs')).handle;
      const wrapped = (await load('node_modules/bench-agent/agent.mjs')).handle;
      if (transformed.toString() !== bare.toString() || wrapped.toString() !== bare.toString()) throw new Error('recording off: a target was transformed or wrapped');
      return { fn: transformed };
    }
    default:
      throw new Error(`unknown variant "${variant}"`);
  }
}

function recorded(fn) {
  // The records are flushed within the round: writing them is part of what a record costs.
  return { fn, finish: () => session.recorder.flush(), check: checkRecords };
}

// What every record's arguments must be: the arguments as JSON gives them back, nothing cut or
// shrunk; and the bytes a record holds when it has them as JSON.stringify writes them.
const expectation = (a) => ({ args: JSON.parse(JSON.stringify(a)), holding: Buffer.from(`"args":${JSON.stringify(a)}`) });
const same = expectation(args);
const NEWLINE = 0x0a;
let target;

/**
 * Untimed: that the round wrote one record per call, all of one target, each holding the
 * arguments unchanged; then empties the file, which only grows, so that it stays small. The
 * records are searched as bytes: decoding megabytes of UTF-8, or parsing every record, would take
 * longer than the round.
 */
function checkRecords(list) {
  const file = process.env.FLUXLOOP_RECORDING_FILE;
  const bytes = fs.readFileSync(file);
  fs.truncateSync(file, 0);
  let records = 0;
  let named;
  for (let start = 0; start < bytes.length; records++) {
    const end = bytes.indexOf(NEWLINE, start);
    if (end === -1) throw new Error(`${variant}: a record without its end of line`);
    const line = bytes.subarray(start, end);
    start = end + 1;
    if (named === undefined) {
      target ??= JSON.parse(line.toString()).target;
      named = Buffer.from(`"target":${JSON.stringify(target)}`);
    }
    if (line.indexOf(named) === -1) throw new Error(`${variant}: records of ${target} and of another target: ${line.toString('utf8', 0, 300)}…`);
    // Records are written in the order of the calls. Any other text is parsed, since the same
    // values can be written otherwise (escapes, key order).
    const { args: expected, holding } = list === undefined ? same : expectation(list[records]);
    if (line.indexOf(holding) === -1 && !isDeepStrictEqual(JSON.parse(line.toString()).args, expected)) {
      throw new Error(`${variant}: a record's arguments differ from the call's (${size}): ${line.toString('utf8', 0, 300)}…`);
    }
  }
  if (records !== calls) throw new Error(`${variant}: ${records} records for ${calls} calls`);
}

// Calls between two turns of the event loop, which lets the recorder's, the span processor's and
// the app's timers run as they would: at most 500, and at most about 256 KB of arguments, so that
// the large arguments do not pile up in a span processor's queue or a writer's buffer.
const CHUNK = Math.max(1, Math.min(500, Math.floor(256_000 / SIZES[size])));

/** ns per call over `calls` calls, with the work each variant leaves for later (flushes) included. */
async function round({ fn, finish }, list) {
  const [a, b] = args;
  const started = process.hrtime.bigint();
  for (let done = 0; done < calls; done += CHUNK) {
    const chunk = Math.min(CHUNK, calls - done);
    if (list !== undefined) for (let i = 0; i < chunk; i++) fn(list[done + i][0]);
    else if (args.length === 2) for (let i = 0; i < chunk; i++) fn(a, b);
    else for (let i = 0; i < chunk; i++) fn(a);
    await yieldLoop();
  }
  await finish?.();
  return Number(process.hrtime.bigint() - started) / calls;
}

const setup = await setUp();
// A round first, untimed, so that the variant is optimized before it is timed.
let list = nextRound();
await round(setup, list);
setup.check?.(list);
const rounds = [];
for (let r = 0; r < Number(roundsText); r++) {
  list = nextRound();
  rounds.push(await round(setup, list));
  setup.check?.(list);
}
console.log(JSON.stringify({ variant, size, ns: median(rounds), rounds, target }));
