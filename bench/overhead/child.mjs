// Runs inside `node --import fluxloop/register` in a throwaway project whose simulation.yaml
// targets agent.mjs:handle. Prints one JSON object: nanoseconds per call of each variant.
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { interleave } from '../lib/stats.mjs';
import { largeArgs, smallArgs } from './args.mjs';

const { handle } = await import(pathToFileURL(path.resolve('agent.mjs')).href);
const original = handle[Symbol.for('fluxloop.original')];
const session = globalThis[Symbol.for('fluxloop.session')];
const recording = original !== undefined;
const unwrapped = original ?? handle;

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

const variants = recording ? { unwrapped, floor, fluxloop: handle, otel } : { unwrapped, disabled: handle };
const [size, callsText, trialsText] = process.argv.slice(2);
const calls = Number(callsText);
const args = size === 'small' ? smallArgs() : largeArgs();
const CHUNK = 500;

/** ns per call over `calls` calls, with the work each variant leaves for later (flushes) included. */
async function measure(name) {
  const fn = variants[name];
  const [a, b] = args;
  const started = process.hrtime.bigint();
  for (let done = 0; done < calls; done += CHUNK) {
    if (args.length === 2) for (let i = 0; i < CHUNK; i++) fn(a, b);
    else for (let i = 0; i < CHUNK; i++) fn(a);
    // Lets the recorder's and the span processor's timers run, as they would in an app.
    await yieldLoop();
  }
  if (name === 'fluxloop') session.recorder.flush();
  if (name === 'otel') await provider.forceFlush();
  const ns = Number(process.hrtime.bigint() - started) / calls;
  // The file only grows; emptied between trials so that it stays in memory, untimed.
  if (name === 'fluxloop') fs.truncateSync(session.recorder.writer.file, 0);
  return ns;
}

const names = Object.keys(variants);
for (const name of names) await measure(name); // warm-up: every variant optimized before timing
const medians = await interleave(names, Number(trialsText), measure);
console.log(JSON.stringify({ recording, sameFunction: handle === unwrapped, ns: Object.fromEntries(medians) }));
