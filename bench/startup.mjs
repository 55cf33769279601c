import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeProject, removeProject, runNode, simulationYaml, statusTargets } from './lib/project.mjs';
import { interleave, number, ratio, verdict } from './lib/stats.mjs';

const NOOP = fileURLToPath(new URL('./startup/noop.mjs', import.meta.url));
const IITM = fileURLToPath(new URL('./startup/iitm.mjs', import.meta.url));

// The app: the entry and 499 modules, 500 ES modules in all; five of them, spread over the tree,
// are target files, each holding a target function that the entry calls once.
const MODULES = 499;
const TARGET_MODULES = [0, 1, 2, 3, 4].map((k) => Math.floor(((k + 0.5) * MODULES) / 5));
const TARGETS = TARGET_MODULES.map((i) => `lib/m${i}.mjs:handleMessage`);

const VARIANTS = {
  plain: { label: 'node app.mjs', args: [] },
  off: { label: 'fluxloop, recording off', args: ['--import', 'fluxloop/register'], env: { FLUXLOOP_RECORD_ARGS: 'false' } },
  on: { label: 'fluxloop, recording on', args: ['--import', 'fluxloop/register'], env: { FLUXLOOP_RECORD_ARGS: 'true' } },
  noop: { label: 'no-op module.register loader', args: ['--import', NOOP] },
  iitm: { label: 'import-in-the-middle, every module (OpenTelemetry default)', args: ['--import', IITM] },
};

/**
 * Benchmark: what `--import fluxloop/register` adds to the start-up of a 500-module app, under
 * each Node binary of `nodes` (this process's own by default).
 */
export async function startup({ quick, nodes = [process.execPath] }) {
  const dir = makeProject('startup', appFiles());
  const recording = path.join(dir, 'recordings', 'args_recording.jsonl');
  const trials = quick ? 3 : 15;
  try {
    const run = async (name, options = {}) => {
      const { args, env } = VARIANTS[name];
      fs.rmSync(recording, { force: true });
      const result = await runNode(dir, [...args, 'app.mjs'], { env, ...options });
      // Each figure must come from a run that did what its row says: the app ran to its end, `on`
      // transformed all five target files and recorded each target's one call, no other variant
      // wrote anything, and the peer really intercepted every module but the entry.
      const written = fs.existsSync(recording) ? fs.readFileSync(recording, 'utf8') : '';
      if (!result.stdout.includes('handled hello')) throw new Error(`${name}: the app did not run to its end`);
      if (name === 'on') {
        const status = statusTargets(dir);
        const missed = TARGETS.filter((t) => !written.includes(`"target":"${t}"`) || status[t]?.mechanism !== 'transform');
        if (missed.length > 0) throw new Error(`on: not recorded through the transform: ${missed.join(', ')}`);
      } else if (written !== '') throw new Error(`${name}: recording was on`);
      const hooked = Number(/iitm hooked (\d+) modules/.exec(result.stderr)?.[1] ?? 0);
      if (name === 'iitm' && hooked < MODULES) throw new Error(`iitm: only ${hooked} modules were intercepted`);
      return result;
    };
    const names = Object.keys(VARIANTS);
    const rows = [];
    const checks = [];
    // Each version against its own plain node and no-op loader: how loaders run differs from one
    // major to the next (on 20 they run on a thread of their own).
    for (const node of nodes) {
      const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
      // One round first, so that no variant pays for a cold file cache.
      for (const name of names) await run(name, { node });
      const ms = await interleave(names, trials, async (name) => (await run(name, { node })).ms);
      // Memory in runs of its own, since the probe that reads it is one more preload to time.
      const rss = {};
      for (const name of names) rss[name] = (await run(name, { node, rss: true })).rssMb;

      const plain = ms.get('plain');
      const noop = ms.get('noop');
      rows.push(...names.map((name) => [`${version}: ${VARIANTS[name].label}`, number(ms.get(name), 1), ratio(ms.get(name), plain), ratio(ms.get(name), noop), number(rss[name], 1)]));
      // Recording on is held to what the transform must run on: on Node 20 a loader thread, as any
      // `module.register` loader; where `module.registerHooks` runs it in the app's own thread
      // (22 and 24), nothing but plain node.
      const inThread = !version.startsWith('v20.');
      checks.push(
        verdict(ms.get('off') <= 1.05 * plain, `${version}: recording off: ${ratio(ms.get('off'), plain)} plain node (goal ≤ 1.05×)`),
        inThread
          ? verdict(ms.get('on') <= 1.2 * plain, `${version}: recording on: ${ratio(ms.get('on'), plain)} plain node (goal ≤ 1.2×)`)
          : verdict(ms.get('on') <= 1.05 * noop, `${version}: recording on: ${ratio(ms.get('on'), noop)} the no-op loader (goal ≤ 1.05×)`),
      );
    }
    return {
      title: `Start-up of a ${number(MODULES + 1)}-module ES app, ${TARGETS.length} target files among them`,
      columns: ['run', 'ms (median)', '× plain', '× no-op loader', 'peak RSS MB'],
      rows,
      checks,
    };
  } finally {
    removeProject(dir);
  }
}

/**
 * A tree of modules, each importing two others and exporting a few small functions, a class and
 * a table, so that the loader parses real code; the five target files hold a target function
 * besides, so that the transform parses and rewrites files of that size.
 */
function appFiles() {
  const files = {
    'configs/simulation.yaml': simulationYaml(TARGETS),
    'app.mjs': [
      `import { run0 } from './lib/m0.mjs';`,
      ...TARGET_MODULES.map((i, k) => `import { handleMessage as handle${k} } from './lib/m${i}.mjs';`),
      `for (const handle of [${TARGET_MODULES.map((_, k) => `handle${k}`).join(', ')}]) {`,
      `  const reply = await handle({ role: 'user', text: 'hello' }, { sessionId: 's1' });`,
      `  console.log(reply.text, reply.tag);`,
      `}`,
      `console.log(run0(3));`,
      '',
    ].join('\n'),
  };
  for (let i = 0; i < MODULES; i++) {
    const children = [2 * i + 1, 2 * i + 2].filter((c) => c < MODULES);
    const lines = children.map((c) => `import { run${c}, Store${c} } from './m${c}.mjs';`);
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
    );
    if (TARGET_MODULES.includes(i)) {
      lines.push(
        `export async function handleMessage(message, context) {`,
        `  return { text: \`handled \${message.text}\`, session: context.sessionId, tag: format${i}(1) };`,
        `}`,
      );
    }
    files[`lib/m${i}.mjs`] = [...lines, ''].join('\n');
  }
  return files;
}
