import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeProject, removeProject, runNode, simulationYaml } from './lib/project.mjs';
import { number, ratio, verdict } from './lib/stats.mjs';
import { table } from './lib/table.mjs';

const CHILD = fileURLToPath(new URL('./overhead/child.mjs', import.meta.url));
const AGENT = fileURLToPath(new URL('./overhead/agent.mjs', import.meta.url));

const SIZES = [
  { size: 'small', label: 'small arguments', calls: 200_000 },
  { size: 'large', label: '10 KB nested object', calls: 4_000 },
];

/** Benchmark 1: what recording one call costs, next to the floor and to an OpenTelemetry span. */
export async function overhead({ quick }) {
  const dir = makeProject('overhead', {
    'agent.mjs': fs.readFileSync(AGENT, 'utf8'),
    'configs/simulation.yaml': simulationYaml(['agent.mjs:handle']),
  });
  const trials = quick ? 3 : 15;
  const rows = [];
  const checks = [];
  try {
    for (const { size, label, calls } of SIZES) {
      const n = quick ? Math.ceil(calls / 20) : calls;
      const on = await measure(dir, size, n, trials, 'true');
      const off = await measure(dir, size, n, trials, 'false');
      if (!on.recording || off.recording || !off.sameFunction) throw new Error('recording was not on, or not off, as asked');
      const base = on.ns.unwrapped;
      const cost = (name) => on.ns[name] - base;
      const row = (name, ns, extra) => [`${label}: ${name}`, number(ns, 1), number(ns - base, 1), ...extra];
      rows.push(
        row('unwrapped', base, ['', '']),
        row('floor (JSON.stringify + append)', on.ns.floor, [ratio(cost('floor'), cost('floor')), ratio(cost('floor'), cost('otel'))]),
        row('fluxloop, recording', on.ns.fluxloop, [ratio(cost('fluxloop'), cost('floor')), ratio(cost('fluxloop'), cost('otel'))]),
        row('OpenTelemetry span', on.ns.otel, [ratio(cost('otel'), cost('floor')), ratio(cost('otel'), cost('otel'))]),
        [`${label}: fluxloop, recording off`, number(off.ns.disabled, 1), 'none: not wrapped', '—', '—'],
      );
      checks.push(
        verdict(cost('fluxloop') <= 1.5 * cost('floor'), `${label}: recording costs ${ratio(cost('fluxloop'), cost('floor'))} the floor (target ≤ 1.5×)`),
        verdict(cost('fluxloop') <= 0.25 * cost('otel'), `${label}: recording costs ${ratio(cost('fluxloop'), cost('otel'))} an OpenTelemetry span (target ≤ 0.25×)`),
      );
    }
    checks.push(verdict(true, 'recording off: the exported function is the original, not a wrapper (1.00×)'));
  } finally {
    removeProject(dir);
  }
  return {
    title: 'Per-call overhead',
    columns: ['variant', 'ns/call', 'overhead ns', '× floor', '× OpenTelemetry'],
    rows,
    checks,
  };
}

// What this measures is the recorder's work on the app's thread, not the disk: on a disk that
// writes less than the benchmark records, the figure would be the disk's. The sustained benchmark
// writes to a real file.
const MEMORY_DIR = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

async function measure(dir, size, calls, trials, record) {
  const file = path.join(MEMORY_DIR, `fluxloop-bench-${process.pid}.jsonl`);
  const { stdout } = await runNode(dir, ['--import', 'fluxloop/register', CHILD, size, String(calls), String(trials)], {
    env: { FLUXLOOP_RECORD_ARGS: record, FLUXLOOP_RECORDING_FILE: file },
  }).finally(() => fs.rmSync(file, { force: true }));
  return JSON.parse(stdout.trim().split('\n').pop());
}
