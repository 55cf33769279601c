import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { makeProject, removeProject, runNode, simulationYaml } from './lib/project.mjs';
import { number, verdict } from './lib/stats.mjs';

const CHILD = fileURLToPath(new URL('./sustained/child.mjs', import.meta.url));
const AGENT = fileURLToPath(new URL('./overhead/agent.mjs', import.meta.url));
const RATE = 100_000;

/**
 * Benchmark 2: a steady 100,000 recorded calls a second for 10 seconds, into a real file in the
 * project, next to the same load with recording off.
 */
export async function sustained({ quick }) {
  const seconds = quick ? 1 : 10;
  const dir = makeProject('sustained', {
    'agent.mjs': fs.readFileSync(AGENT, 'utf8'),
    'configs/simulation.yaml': simulationYaml(['agent.mjs:handle']),
  });
  const file = path.join(dir, 'recordings', 'args_recording.jsonl');
  try {
    const off = await load(dir, 'false', seconds);
    const on = await load(dir, 'true', seconds);
    if (off.recording || !on.recording) throw new Error('recording was not on, or not off, as asked');
    const written = await countRecords(file);
    const bytes = fs.statSync(file).size;
    const lost = on.calls - written.count;
    const row = (name, run, records) => [
      name,
      number(run.calls),
      number(run.calls / run.seconds),
      records === undefined ? '—' : number(records / run.seconds),
      records === undefined ? '—' : `${number(bytes / 1e6 / run.seconds, 1)} MB/s`,
      number(run.p99Ms, 1),
      number(run.maxMs, 1),
    ];
    return {
      title: `Sustained recording: ${number(RATE)} calls/s for ${seconds} s into a file`,
      columns: ['run', 'calls', 'calls/s', 'records written/s', 'file', 'loop delay p99 ms', 'max ms'],
      rows: [row('recording off', off), row('recording on', on, written.count)],
      checks: [
        verdict(on.calls / on.seconds >= RATE * 0.98, `kept up with ${number(RATE)} calls/s while recording (${number(on.calls / on.seconds)})`),
        verdict(on.p99Ms <= 10, `event-loop delay p99 ${number(on.p99Ms, 1)} ms (target ≤ 10 ms)`),
        verdict(lost === 0 && written.inOrder, `${number(written.count)} records of ${number(on.calls)} calls in the file, in order: ${lost === 0 ? 'none lost' : `${number(lost)} lost`}`),
      ],
    };
  } finally {
    removeProject(dir);
  }
}

function load(dir, record, seconds) {
  return runNode(dir, ['--import', 'fluxloop/register', CHILD, String(RATE), String(seconds)], { env: { FLUXLOOP_RECORD_ARGS: record } }).then(({ stdout }) =>
    JSON.parse(stdout.trim().split('\n').pop()),
  );
}

/** How many records the file holds, and whether their numbers run 0, 1, 2, … without a gap. */
async function countRecords(file) {
  let count = 0;
  let inOrder = true;
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    // The record number is all this needs; parsing a million lines would take longer than the run.
    const iteration = Number(/"iteration":(\d+)/.exec(line)?.[1]);
    if (iteration !== count || !line.endsWith('}')) inOrder = false;
    count++;
  }
  return { count, inOrder };
}
