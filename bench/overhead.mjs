import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeProject, removeProject, runNode, simulationYaml, statusTargets } from './lib/project.mjs';
import { number, ratio, verdict } from './lib/stats.mjs';

const CHILD = fileURLToPath(new URL('./overhead/child.mjs', import.meta.url));
const AGENT = fs.readFileSync(fileURLToPath(new URL('./overhead/agent.mjs', import.meta.url)), 'utf8');

// The same function three times: in a project file, which the source transform rewrites; in an
// installed package, whose exports the patcher wraps; and in a file no target names, the baseline.
const RECORDED = {
  transformed: { target: 'agent.mjs:handle', mechanism: 'transform', label: 'fluxloop, transformed target (project file)' },
  wrapped: { target: 'node_modules/bench-agent/agent.mjs:handle', mechanism: 'patch', label: 'fluxloop, wrapped target (package)' },
  // Shown, not held to the targets below: a method's record also keeps its instance, which a replay calls it on.
  method: { target: 'agent.mjs:Agent.handle', mechanism: 'transform', label: 'fluxloop, a method with its instance kept (project file)' },
};
/** The variants held to the floor and to OpenTelemetry. */
const FUNCTIONS = ['transformed', 'wrapped'];
const FILES = {
  'agent.mjs': AGENT,
  'bare.mjs': AGENT,
  'node_modules/bench-agent/agent.mjs': AGENT,
  'node_modules/bench-agent/package.json': '{ "name": "bench-agent", "version": "1.0.0", "main": "agent.mjs" }\n',
  'configs/simulation.yaml': simulationYaml(Object.values(RECORDED).map((r) => r.target)),
};

const SIZES = [
  { size: 'small', label: 'small arguments', calls: 200_000 },
  { size: 'large', label: '10 KB nested object', calls: 4_000 },
];

/** Benchmark 1: what recording one call costs, transformed and wrapped, next to the floor and to an OpenTelemetry span. */
export async function overhead({ quick }) {
  const dir = makeProject('overhead', FILES);
  const trials = quick ? 3 : 15;
  const rows = [];
  const checks = [];
  try {
    for (const { size, label, calls } of SIZES) {
      const n = quick ? Math.ceil(calls / 20) : calls;
      const on = await measure(dir, size, n, trials, 'true');
      checkRecorded(dir, on);
      const off = await measure(dir, size, n, trials, 'false');
      if (off.recording || !off.untouched) throw new Error('recording off: a target was transformed or wrapped');
      const base = on.ns.unwrapped;
      const cost = (name) => on.ns[name] - base;
      const row = (name, ns, extra) => [`${label}: ${name}`, number(ns, 1), number(ns - base, 1), ...extra];
      const ratios = (name) => [ratio(cost(name), cost('floor')), ratio(cost(name), cost('otel'))];
      rows.push(
        row('unwrapped', base, ['', '']),
        row('floor (JSON.stringify + append)', on.ns.floor, ratios('floor')),
        ...Object.entries(RECORDED).map(([name, r]) => row(r.label, on.ns[name], ratios(name))),
        row('OpenTelemetry span', on.ns.otel, ratios('otel')),
        [`${label}: fluxloop, recording off`, number(off.ns.disabled, 1), 'none: untouched', '—', '—'],
      );
      for (const name of FUNCTIONS) {
        checks.push(
          verdict(cost(name) <= 1.5 * cost('floor'), `${label}: a ${name} target costs ${ratio(cost(name), cost('floor'))} the floor (target ≤ 1.5×)`),
          verdict(cost(name) <= 0.25 * cost('otel'), `${label}: a ${name} target costs ${ratio(cost(name), cost('otel'))} an OpenTelemetry span (target ≤ 0.25×)`),
        );
      }
      checks.push(
        verdict(cost('transformed') <= cost('wrapped'), `${label}: a transformed target costs ${ratio(cost('transformed'), cost('wrapped'))} a wrapped one (target ≤ 1.0×)`),
      );
    }
    checks.push(verdict(true, 'recording off: both functions are the originals, neither transformed nor wrapped (1.00×)'));
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

/**
 * That each recorded variant recorded its own target, by its own mechanism: the child has checked
 * that every trial wrote one record per call, all of one target, and says which.
 */
function checkRecorded(dir, on) {
  if (!on.recording) throw new Error(`recording on: no recording session started\n${on.stderr}`);
  const status = statusTargets(dir);
  for (const [name, { target, mechanism }] of Object.entries(RECORDED)) {
    const got = `${on.targets[name] ?? 'no records'} by ${status[target]?.mechanism ?? 'no mechanism'}`;
    if (got !== `${target} by ${mechanism}`) throw new Error(`${name}: expected the records of ${target} by ${mechanism}, got ${got}`);
  }
}

// What this measures is the recorder's work on the app's thread, not the disk: on a disk that
// writes less than the benchmark records, the figure would be the disk's. The sustained benchmark
// writes to a real file.
const MEMORY_DIR = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

async function measure(dir, size, calls, trials, record) {
  const file = path.join(MEMORY_DIR, `fluxloop-bench-${process.pid}.jsonl`);
  const { stdout, stderr } = await runNode(dir, ['--import', 'fluxloop/register', CHILD, size, String(calls), String(trials)], {
    env: { FLUXLOOP_RECORD_ARGS: record, FLUXLOOP_RECORDING_FILE: file },
  }).finally(() => fs.rmSync(file, { force: true }));
  return { ...JSON.parse(stdout.trim().split('\n').pop()), stderr };
}
