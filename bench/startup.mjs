import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeProject, removeProject, runNode, simulationYaml } from './lib/project.mjs';
import { interleave, number, ratio, verdict } from './lib/stats.mjs';

const NOOP = fileURLToPath(new URL('./startup/noop.mjs', import.meta.url));
const IITM = fileURLToPath(new URL('./startup/iitm.mjs', import.meta.url));

// The app: the entry, the target's module and 498 others, 500 ES modules in all.
const MODULES = 498;
const TARGET = 'lib/agent.mjs:handleMessage';

const VARIANTS = {
  plain: { label: 'node app.mjs', args: [] },
  off: { label: 'fluxloop, recording off', args: ['--import', 'fluxloop/register'], env: { FLUXLOOP_RECORD_ARGS: 'false' } },
  on: { label: 'fluxloop, recording on', args: ['--import', 'fluxloop/register'], env: { FLUXLOOP_RECORD_ARGS: 'true' } },
  noop: { label: 'no-op module.register loader', args: ['--import', NOOP] },
  iitm: { label: 'import-in-the-middle, every module (OpenTelemetry default)', args: ['--import', IITM] },
};

/** Benchmark: what `--import fluxloop/register` adds to the start-up of a 500-module app. */
export async function startup({ quick }) {
  const dir = makeProject('startup', appFiles());
  const recording = path.join(dir, 'recordings', 'args_recording.jsonl');
  const trials = quick ? 3 : 15;
  try {
    const run = async (name, options = {}) => {
      const { args, env } = VARIANTS[name];
      fs.rmSync(recording, { force: true });
      const result = await runNode(dir, [...args, 'app.mjs'], { env, ...options });
      // Each figure must come from a run that did what its row says: the app ran to its end, `on`
      // recorded the target's one call and no other variant wrote anything, and the peer really
      // intercepted every module but the entry.
      const written = fs.existsSync(recording) ? fs.readFileSync(recording, 'utf8') : '';
      if (!result.stdout.includes('handled hello')) throw new Error(`${name}: the app did not run to its end`);
      if (name === 'on' ? !written.includes('handleMessage') : written !== '') throw new Error(`${name}: recording was not on, or not off, as asked`);
      const hooked = Number(/iitm hooked (\d+) modules/.exec(result.stderr)?.[1] ?? 0);
      if (name === 'iitm' && hooked < MODULES + 1) throw new Error(`iitm: only ${hooked} modules were intercepted`);
      return result;
    };
    const names = Object.keys(VARIANTS);
    // One round first, so that no variant pays for a cold file cache.
    for (const name of names) await run(name);
    const ms = await interleave(names, trials, async (name) => (await run(name)).ms);
    // Memory in runs of its own, since the probe that reads it is one more preload to time.
    const rss = {};
    for (const name of names) rss[name] = (await run(name, { rss: true })).rssMb;

    const plain = ms.get('plain');
    const noop = ms.get('noop');
    const rows = names.map((name) => [VARIANTS[name].label, number(ms.get(name), 1), ratio(ms.get(name), plain), ratio(ms.get(name), noop), number(rss[name], 1)]);
    return {
      title: `Start-up of a ${number(MODULES + 2)}-module ES app, one target among them`,
      columns: ['run', 'ms (median)', '× plain', '× no-op loader', 'peak RSS MB'],
      rows,
      checks: [
        verdict(ms.get('off') <= 1.05 * plain, `recording off: ${ratio(ms.get('off'), plain)} plain node (target ≤ 1.05×)`),
        verdict(ms.get('on') <= 1.1 * noop, `recording on: ${ratio(ms.get('on'), noop)} the no-op loader (target ≤ 1.1×)`),
      ],
    };
  } finally {
    removeProject(dir);
  }
}

/**
 * A tree of modules, each importing two others and exporting a few small functions, a class and
 * a table, so that the loader parses real code. lib/agent.mjs, the target, hangs from the middle.
 */
function appFiles() {
  const files = {
    'configs/simulation.yaml': simulationYaml([TARGET]),
    'app.mjs': [
      `import { run0 } from './lib/m0.mjs';`,
      `import { handleMessage } from './lib/agent.mjs';`,
      `const reply = await handleMessage({ role: 'user', text: 'hello' }, { sessionId: 's1' });`,
      `console.log(reply.text, run0(3));`,
      '',
    ].join('\n'),
    'lib/agent.mjs': [
      `import { format${MODULES - 1} } from './m${MODULES - 1}.mjs';`,
      `export async function handleMessage(message, context) {`,
      `  return { text: \`handled \${message.text}\`, session: context.sessionId, tag: format${MODULES - 1}(1) };`,
      `}`,
      '',
    ].join('\n'),
  };
  for (let i = 0; i < MODULES; i++) {
    const children = [2 * i + 1, 2 * i + 2].filter((c) => c < MODULES);
    const lines = children.map((c) => `import { run${c}, Store${c} } from './m${c}.mjs';`);
    if (i === Math.floor(MODULES / 2)) lines.push(`import { handleMessage } from './agent.mjs';`);
    lines.push(
      `export const TABLE${i} = Object.freeze(${JSON.stringify(Array.from({ length: 8 }, (_, k) => ({ key: `k${i}_${k}`, weight: (i * 31 + k) % 17 })))});`,
      `export function format${i}(value) {`,
      `  return \`m${i}:\${String(value).padStart(4, '0')}\`;`,
      `}`,
      `export function run${i}(depth) {`,
      `  let total = TABLE${i}.reduce((sum, row) => sum + row.weight, 0);`,
      ...children.map((c) => `  if (depth > 0) total += run${c}(depth - 1);`),
      `  return total;`,
      `}`,
      `export class Store${i} {`,
      `  #items = new Map();`,
      `  set(key, value) { this.#items.set(key, value); return this; }`,
      `  get(key) { return this.#items.get(key) ?? null; }`,
      ...children.map((c) => `  child${c}() { return new Store${c}(); }`),
      `}`,
      '',
    );
    files[`lib/m${i}.mjs`] = lines.join('\n');
  }
  return files;
}
