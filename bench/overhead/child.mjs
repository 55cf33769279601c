// Runs inside `node --import fluxloop/register` in the throwaway project of overhead.mjs, whose
// agent.mjs (transformed), node_modules/bench-agent/agent.mjs (wrapped) and bare.mjs (not a
// target) hold the same function. Prints one JSON object: nanoseconds per call of each variant,
// and what the recorded variants wrote.
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { interleave } from '../lib/stats.mjs';
import { largeArgs, smallArgs } from './args.mjs';

// By path: this script lives outside the project, so a package name would not resolve from here.
const load = async (file) => (await import(pathToFileURL(path.resolve(file)).href)).handle;
const unwrapped = await load('bare.mjs');
const transformed = await load('agent.mjs');
const wrapped = await load('node_modules/bench-agent/agent.mjs');
const agent = new (await import(pathToFileURL(path.resolve('agent.mjs')).href)).Agent();
// As many arguments as the caller gives: an `undefined` second one would be recorded, and costs more.
const method = (...args) => agent.handle(...args);
const session = globalThis[Symbol.for('fluxloop.session')];
const recording = session != null;
// A rewritten or wrapped function's source is no longer the bare copy's.
const untouched = transformed.toString() === unwrapped.toString() && wrapped.toString() === unwrapped.toString();

// The floor: what any recorder must do at least, serialize the arguments and keep the text.
let lines = [];
function floor(...args) {
  lines.push(JSON.stringify(args));
  if (lines.length === 4096) lines = [];
  return unwrapped.apply(this, args);
}

// OpenTelemetry's way: a span per call, with the arguments as an attribute, batched to an
// exporter that drops them.
const provider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor({ export: (spans, done) => done({ code: 0 }), shutdown: async () => {} })],
});
trace.setGlobalTracerProvider(provider);
const tracer = trace.getTracer('bench');
function otel(...args) {
  const span = tracer.startSpan('handle', { attributes: { 'code.function': 'handle', 'fluxloop.args': JSON.stringify(args) } });
  try {
    return unwrapped.apply(this, args);
  } finally {
    span.end();
  }
}

const variants = recording ? { unwrapped, floor, transformed, wrapped, method, otel } : { unwrapped, disabled: transformed };
const RECORDED = new Set(['transformed', 'wrapped', 'method']);
const [size, callsText, trialsText] = process.argv.slice(2);
const calls = Number(callsText);
const args = size === 'small' ? smallArgs() : largeArgs();
const CHUNK = 500;
/** The target that each recorded variant's records named. */
const targets = {};

/** ns per call over `calls` calls, with the work each variant leaves for later (flushes) included. */
async function measure(name) {
  const fn = variants[name];
  const [a, b] = args;
  const started = process.hrtime.bigint();
  for (let done = 0; done < calls; done += CHUNK) {
    const chunk = Math.min(CHUNK, calls - done);
    if (args.length === 2) for (let i = 0; i < chunk; i++) fn(a, b);
    else for (let i = 0; i < chunk; i++) fn(a);
    // Lets the recorder's and the span processor's timers run, as they would in an app.
    await yieldLoop();
  }
  if (RECORDED.has(name)) session.recorder.flush();
  if (name === 'otel') await provider.forceFlush();
  const ns = Number(process.hrtime.bigint() - started) / calls;
  if (RECORDED.has(name)) takeRecords(name);
  return ns;
}

/**
 * Untimed: checks that the trial wrote one record per call, all naming one target, and empties
 * the file, which only grows, so that it stays in memory.
 */
function takeRecords(name) {
  const file = session.recorder.writer.file;
  const text = fs.readFileSync(file, 'utf8');
  fs.truncateSync(file, 0);
  const target = JSON.parse(text.slice(0, text.indexOf('\n'))).target;
  const records = count(text, '\n');
  const named = count(text, `"target":${JSON.stringify(target)},`);
  if (records !== calls || named !== calls) throw new Error(`${name}: ${records} records, ${named} of ${target}, for ${calls} calls`);
  targets[name] = target;
}

function count(text, needle) {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

const names = Object.keys(variants);
for (const name of names) await measure(name); // warm-up: every variant optimized before timing
const medians = await interleave(names, Number(trialsText), measure);
console.log(JSON.stringify({ recording, untouched, targets, ns: Object.fromEntries(medians) }));
