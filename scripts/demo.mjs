// The quick-start demo: two example agents, one ESM and one CommonJS, recorded without a single
// change to their code, their recordings shown, then replayed with input variations: made from
// the recorded messages for the first, written by hand in its config for the second. The first
// experiment is evaluated, with a report.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'bin', 'fluxloop.js');

/** Runs `node ...args`, shown as the user would type it (`fluxloop` for the CLI). */
function run(args, cwd) {
  const shown = args[0] === cli ? ['npx', 'fluxloop', ...args.slice(1)] : ['node', ...args];
  console.log(`\n$ ${shown.join(' ')}   (in ${path.relative(repo, cwd)})`);
  const result = spawnSync(process.execPath, args, { cwd, stdio: 'inherit', env: withoutFluxloopEnv() });
  if (result.status !== 0) {
    console.error(`demo: the command above failed (exit ${result.status})`);
    process.exit(result.status ?? 1);
  }
}

function withoutFluxloopEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLUXLOOP_')));
}

/** What `npm install` does for the example's `"fluxloop": "file:../.."` dependency. */
function linkFluxloop(example) {
  const link = path.join(example, 'node_modules', 'fluxloop');
  if (fs.existsSync(link)) return;
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(path.relative(path.dirname(link), repo), link, 'dir');
}

/** How many calls were recorded, and the first, as one call. */
function show(example) {
  const file = path.join(example, 'recordings', 'args_recording.jsonl');
  const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const first = records[0];
  console.log(`\n${records.length} calls recorded in ${path.relative(example, file)}; the first:`);
  console.log(`  ${first.target}(${first.args.map((arg) => JSON.stringify(arg)).join(', ')})`);
}

/** The first base input's variations, each with the strategy that made it. */
function showInputs(example) {
  const inputs = parse(fs.readFileSync(path.join(example, 'inputs', 'generated.yaml'), 'utf8')).inputs;
  const shown = inputs.filter(({ metadata }) => metadata.base_index === 0);
  console.log(`\n${inputs.length} inputs in inputs/generated.yaml; those made from the first recorded message:`);
  for (const { input, metadata } of shown) console.log(`  ${metadata.strategy.padEnd(12)} ${cut(input, 90)}`);
}

/** A value as one line of JSON, cut at `max` characters. */
function cut(value, max) {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The latest experiment's folder. */
function latestExperiment(example) {
  const base = path.join(example, 'experiments');
  return path.join(base, fs.readdirSync(base).sort().at(-1));
}

/** The runs of an experiment, grouped by input in the order of the inputs, each recording in order. */
function showRuns(dir, maxInputs) {
  const runs = fs.readFileSync(path.join(dir, 'traces.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const groups = new Map();
  // Runs finish in any order; the inputs file's order is the order they were planned in.
  runs.sort((a, b) => a.input_index - b.input_index || a.recording_index - b.recording_index || a.iteration - b.iteration);
  for (const run of runs) groups.set(run.input_index, [...(groups.get(run.input_index) ?? []), run]);
  console.log(`\nThe runs, by input (${path.join(path.basename(dir), 'traces.jsonl')}):`);
  for (const group of [...groups.values()].slice(0, maxInputs)) {
    console.log(`  ${cut(group[0].input, 70)}`);
    for (const run of group) console.log(`    recording #${run.recording_index}  ${run.status}  ->  ${cut(run.output, 90)}`);
  }
  if (groups.size > maxInputs) console.log(`  … and ${groups.size - maxInputs} more inputs`);
}

const reports = [];
for (const name of ['support-agent', 'cjs-bot']) {
  const example = path.join(repo, 'examples', name);
  console.log(`\n=== examples/${name}`);
  linkFluxloop(example);
  fs.rmSync(path.join(example, 'recordings'), { recursive: true, force: true });
  run([cli, 'record', 'enable'], example);
  run(['--import', 'fluxloop/register', 'app/main.js'], example);
  show(example);
  run([cli, 'record', 'status'], example);
  if (name === 'support-agent') {
    // With replay on and calls recorded, the variations are made from the recorded messages.
    run([cli, 'generate', 'inputs', '--overwrite'], example);
    showInputs(example);
  }
  // The support agent's experiment is scored too (configs/evaluation.yaml), with a report.
  run([cli, 'run', 'experiment', ...(name === 'support-agent' ? ['--evaluate'] : [])], example);
  const dir = latestExperiment(example);
  showRuns(dir, name === 'support-agent' ? 4 : 3);
  if (fs.existsSync(path.join(dir, 'report.html'))) reports.push(path.relative(process.cwd(), path.join(dir, 'report.html')));
}
console.log('\nDone. Each experiment folder holds summary.json, traces.jsonl, observations.jsonl and errors.json.');
for (const report of reports) console.log(`The report, to open in a browser: ${report}`);
