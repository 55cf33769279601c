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

/** The first record of each target, pretty-printed. */
function show(example) {
  const file = path.join(example, 'recordings', 'args_recording.jsonl');
  const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  console.log(`\n${records.length} calls recorded in ${path.relative(repo, file)}. The first of each target:`);
  const seen = new Set();
  for (const record of records) {
    if (seen.has(record.target)) continue;
    seen.add(record.target);
    console.log(JSON.stringify(record, null, 2));
  }
}

/** The generated inputs, each with the strategy that made it. */
function showInputs(example) {
  const text = fs.readFileSync(path.join(example, 'inputs', 'generated.yaml'), 'utf8');
  const inputs = parse(text).inputs;
  console.log(`\n${inputs.length} inputs in inputs/generated.yaml:`);
  for (const { input, metadata } of inputs) console.log(`  ${metadata.strategy.padEnd(12)} ${JSON.stringify(input.length > 90 ? `${input.slice(0, 90)}…` : input)}`);
}

/** Runs of the latest experiment: the input put in, and what came out. */
function showRuns(example, max = 12) {
  const base = path.join(example, 'experiments');
  const latest = fs.readdirSync(base).sort().at(-1);
  const lines = fs.readFileSync(path.join(base, latest, 'traces.jsonl'), 'utf8').trim().split('\n');
  console.log(`\nThe runs (${path.join('experiments', latest, 'traces.jsonl')}): recording, input -> output`);
  for (const run of lines.slice(0, max).map((line) => JSON.parse(line))) {
    const input = run.input.length > 60 ? `${run.input.slice(0, 60)}…` : run.input;
    console.log(`  #${run.recording_index}  ${JSON.stringify(input)}  ->  ${JSON.stringify(run.output)}  [${run.status}, ${run.observation_count} observations]`);
  }
  if (lines.length > max) console.log(`  … and ${lines.length - max} more`);
}

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
    run([cli, 'generate', 'inputs', '--from-recording', '--overwrite'], example);
    showInputs(example);
  }
  // The support agent's experiment is scored too (configs/evaluation.yaml), with a report.
  run([cli, 'run', 'experiment', ...(name === 'support-agent' ? ['--evaluate'] : [])], example);
  showRuns(example);
}
console.log(
  '\nDone. Each experiments/<name>_<time>/ folder holds summary.json, traces.jsonl, observations.jsonl and errors.json;',
  '\nthe support agent\'s also evaluation/ and report.html, to open in a browser.',
);
