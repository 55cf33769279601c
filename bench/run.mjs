// `npm run bench`: every benchmark in turn, one table each. `--quick` makes each one short (a
// smoke run, its figures not worth quoting); `--only NAME[,NAME]` picks benchmarks; `--json`
// prints the results as JSON instead of tables. `--node PATH`, given once or more, runs the start-up
// benchmark under each of those Node binaries instead of this one, its rows named by version; a
// major version (`--node 24`) is installed by scripts/node-version.sh, as CI does.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { overhead } from './overhead.mjs';
import { replay } from './replay.mjs';
import { scaleout } from './scaleout.mjs';
import { startup } from './startup.mjs';
import { sustained } from './sustained.mjs';
import { table } from './lib/table.mjs';

const BENCHMARKS = { overhead, sustained, startup, replay, scaleout };

const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, only: { type: 'string' }, json: { type: 'boolean' }, node: { type: 'string', multiple: true } },
});
const names = values.only ? values.only.split(',') : Object.keys(BENCHMARKS);
for (const name of names) {
  if (!(name in BENCHMARKS)) {
    console.error(`unknown benchmark "${name}"; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
}

const script = fileURLToPath(new URL('../scripts/node-version.sh', import.meta.url));
const nodes = values.node?.map((node) => (/^\d+$/.test(node) ? path.join(execFileSync('bash', [script, node], { encoding: 'utf8' }).trim(), 'node') : node));
const results = {};
for (const name of names) {
  const result = await BENCHMARKS[name]({ quick: values.quick === true, nodes });
  results[name] = result;
  if (!values.json) console.log(`${table(result.title, result.columns, result.rows)}\n\n${result.checks.join('\n')}\n`);
}
if (values.json) console.log(JSON.stringify(results, null, 2));
