import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeProject, removeProject, runNode, simulationYaml, statusTargets } from './lib/project.mjs';
import { interleave, number, ratio, verdict } from './lib/stats.mjs';
import { SIZES } from './overhead/args.mjs';

const CHILD = fileURLToPath(new URL('./overhead/child.mjs', import.meta.url));
const AGENT = fs.readFileSync(fileURLToPath(new URL('./overhead/agent.mjs', import.meta.url)), 'utf8');

// The same function three times: in a project file, which the source transform rewrites; in an
// installed package, whose exports the patcher wraps; and in a file no target names, the baseline.
const RECORDED = {
  transformed: { target: 'agent.mjs:handle', mechanism: 'transform', label: 'fluxloop, transformed target (project file)' },
  wrapped: { target: 'node_modules/bench-agent/agent.mjs:handle', mechanism: 'patch', label: 'fluxloop, wrapped target (package)' },
  // Shown, not held to the goals below: a method's record also keeps its instance, which a replay calls it on.
  method: { target: 'agent.mjs:Agent.handle', mechanism: 'transform', label: 'fluxloop, a method with its instance kept (project file)' },
};
/** The variants held to the floor and to OpenTelemetry. */
const FUNCTIONS = ['transformed', 'wrapped'];
/** The variants measured again with new text in every call. */
const NEW_TEXT = ['unwrapped', 'floor', ...FUNCTIONS];

const FILES = {
  'agent.mjs': AGENT,
  'bare.mjs': AGENT,
  'node_modules/bench-agent/agent.mjs': AGENT,
  'node_modules/bench-agent/package.json': '{ "name": "bench-agent", "version": "1.0.0", "main": "agent.mjs" }\n',
  // The recorder's other caps (20,000 characters a string, 1,000 items an array, depth 12) are
  // the defaults, which the arguments stay within; but a record of the 1 MB arguments passes the
  // default max_record_bytes (1,000,000), and would be shrunk. Set above it, every record holds
  // the arguments whole, which the child checks. recording.downstream stays on, as users have it.
  'configs/simulation.yaml': simulationYaml(
    Object.values(RECORDED).map((r) => r.target),
    { max_record_bytes: 4_000_000 },
  ),
};

const REGISTER = ['--import', 'fluxloop/register'];
/**
 * Every variant runs in a process of its own: one variant's calls leave nothing (JIT feedback,
 * garbage, a loaded SDK) in another's. The recorded ones and `off` run as users run fluxloop;
 * the others under plain node, as the app would without it.
 */
const VARIANTS = {
  unwrapped: { label: 'unwrapped' },
  floor: { label: 'floor: the JSON in a line with a timestamp, in memory' },
  ...Object.fromEntries(Object.entries(RECORDED).map(([name, { label }]) => [name, { label, args: REGISTER, env: { FLUXLOOP_RECORD_ARGS: 'true' } }])),
  otel: { label: 'OpenTelemetry span' },
  pino: { label: 'pino, to an in-memory stream' },
  off: { label: 'fluxloop, recording off', args: REGISTER, env: { FLUXLOOP_RECORD_ARGS: 'false' } },
};

/**
 * Calls per round at each size, which takes the floor some tens of milliseconds; the timed rounds
 * a process makes after its untimed first; and the processes of each variant at each size. Each
 * process's figure is the median of its rounds, and each row's the median of its processes'.
 */
const CALLS = { '100 B': 40_000, '1 KB': 10_000, '10 KB': 1_000, '100 KB': 120, '1 MB': 16 };
const ROUNDS = 3;
const TRIALS = 9;

/**
 * Benchmark 1: what recording one call costs, transformed and wrapped, at five sizes of
 * arguments, next to the floor, an OpenTelemetry span and a pino log line.
 */
export async function overhead({ quick }) {
  const dir = makeProject('overhead', FILES);
  const rows = [];
  const checks = [];
  try {
    for (const size of Object.keys(SIZES)) {
      const calls = quick ? Math.ceil(CALLS[size] / 20) : CALLS[size];
      const names = Object.keys(VARIANTS);
      const run = (name) => measure(dir, name, size, calls, quick ? 1 : ROUNDS);
      const ns = quick ? await twoAtATime(names, run) : await interleave(names, TRIALS, run);
      // The overhead is each variant's ns/call less the unwrapped call's, measured in a process of
      // its own like every other variant: measured inside each variant's process instead, the
      // bare function would be called from two sites and among that variant's garbage.
      const base = ns.get('unwrapped');
      const cost = (name) => ns.get(name) - base;
      const ratios = (name) => [ratio(cost(name), cost('floor')), ratio(cost(name), cost('otel')), ratio(cost(name), cost('pino'))];
      rows.push(
        ...names.map((name) => [
          `${size}: ${VARIANTS[name].label}`,
          nanoseconds(ns.get(name)),
          name === 'unwrapped' ? '' : nanoseconds(cost(name)),
          ...(name === 'unwrapped' || name === 'off' ? ['', '', ''] : ratios(name)),
        ]),
      );
      for (const name of FUNCTIONS) {
        checks.push(verdict(cost(name) <= cost('floor'), `${size}: a ${name} target costs ${ratio(cost(name), cost('floor'))} the floor (goal ≤ 1.0×)`));
      }
      if (size === '100 B') {
        for (const name of FUNCTIONS) {
          checks.push(verdict(cost(name) <= 0.25 * cost('otel'), `${size}: a ${name} target costs ${ratio(cost(name), cost('otel'))} an OpenTelemetry span (goal ≤ 0.25×)`));
        }
      }
      checks.push(verdict(cost('transformed') <= cost('wrapped'), `${size}: a transformed target costs ${ratio(cost('transformed'), cost('wrapped'))} a wrapped one (goal ≤ 1.0×)`));
    }
    // Each call's arguments a state of its own, with text never recorded before: what a call costs
    // when none of its strings was in the last record (see src/record/text-memo.ts), from 1 KB,
    // where the arguments are an agent's state.
    for (const size of Object.keys(SIZES).filter((s) => SIZES[s] >= 1_000)) {
      const calls = quick ? Math.ceil(CALLS[size] / 20) : CALLS[size];
      const run = (name) => measure(dir, name, size, calls, quick ? 1 : ROUNDS, 'new');
      const ns = quick ? await twoAtATime(NEW_TEXT, run) : await interleave(NEW_TEXT, TRIALS, run);
      const cost = (name) => ns.get(name) - ns.get('unwrapped');
      rows.push(
        ...NEW_TEXT.map((name) => [
          `${size}, new text: ${VARIANTS[name].label}`,
          nanoseconds(ns.get(name)),
          name === 'unwrapped' ? '' : nanoseconds(cost(name)),
          name === 'unwrapped' ? '' : ratio(cost(name), cost('floor')),
          '',
          '',
        ]),
      );
      for (const name of FUNCTIONS) {
        checks.push(verdict(cost(name) <= cost('floor'), `${size} of new text: a ${name} target costs ${ratio(cost(name), cost('floor'))} the floor (goal ≤ 1.0×)`));
      }
    }
    checks.push(verdict(true, 'recording off: both functions are the originals, neither transformed nor wrapped (1.00×)'));
  } finally {
    removeProject(dir);
  }
  return {
    title: 'Per-call overhead, by size of the arguments’ JSON',
    columns: ['variant', 'ns/call', 'overhead ns', '× floor', '× OpenTelemetry', '× pino'],
    rows,
    checks,
  };
}

/**
 * `--quick`: each variant once, two processes at a time, the recorded ones in turn beside the
 * others in turn; its figures are not worth quoting, and what it is for is that every variant
 * runs and records what it must. No two recording processes run at once: they would share the
 * recording file and the project's status files.
 */
async function twoAtATime(names, measure) {
  const ns = new Map();
  const inTurn = async (list) => {
    for (const name of list) ns.set(name, await measure(name));
  };
  await Promise.all([inTurn(names.filter((n) => n in RECORDED)), inTurn(names.filter((n) => !(n in RECORDED)))]);
  return ns;
}

/** Whole nanoseconds, but a tenth for the few that an unwrapped call takes. */
function nanoseconds(ns) {
  return number(ns, Math.abs(ns) < 100 ? 1 : 0);
}

// What this measures is the recorder's work on the app's thread, not the disk: on a disk that
// writes less than the benchmark records, the figure would be the disk's. The sustained benchmark
// writes to a real file.
const MEMORY_DIR = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

/**
 * One process of one variant: its ns/call, once it has checked what it did. `text`: `same` (every
 * call's arguments are one state) or `new` (each call's are a state of its own).
 */
async function measure(dir, name, size, calls, rounds, text = 'same') {
  const { args = [], env = {} } = VARIANTS[name];
  const recorded = name in RECORDED;
  // The recording file is given to the recording processes alone, which never run two at once.
  const file = recorded ? path.join(MEMORY_DIR, `fluxloop-bench-${process.pid}.jsonl`) : undefined;
  const { stdout } = await runNode(dir, [...args, CHILD, name, size, String(calls), String(rounds), text], {
    env: recorded ? { ...env, FLUXLOOP_RECORDING_FILE: file } : env,
  }).finally(() => recorded && fs.rmSync(file, { force: true }));
  const result = JSON.parse(stdout.trim().split('\n').pop());
  if (recorded) checkRecorded(dir, name, result.target);
  return result.ns;
}

/**
 * That a recorded variant recorded its own target, by its own mechanism: the child has checked
 * that every round wrote one record per call, all of one target, holding the arguments unchanged,
 * and says which target; the status file (what `fluxloop record status` reads) says how.
 */
function checkRecorded(dir, name, recorded) {
  const { target, mechanism } = RECORDED[name];
  const got = `${recorded ?? 'no records'} by ${statusTargets(dir)[target]?.mechanism ?? 'no mechanism'}`;
  if (got !== `${target} by ${mechanism}`) throw new Error(`${name}: expected the records of ${target} by ${mechanism}, got ${got}`);
}
