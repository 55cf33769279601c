import { createRequire } from 'node:module';
import path from 'node:path';
import { LLM_DEFAULTS } from '../config/types';
import { check, type Check } from './check';
import type { DoctorContext } from './context';
import { fluxloopVersion, versionOf } from '../version';

const MINIMUM_NODE = [20, 6] as const;

/** 1. `module.register`, which the ESM loader hooks need, came with Node.js 20.6. */
export function checkNode(version: string = process.versions.node): Check {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const recent = major > MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor >= MINIMUM_NODE[1]);
  return recent
    ? check('node', 'Node.js', 'ok', `${version}`)
    : check('node', 'Node.js', 'fail', `${version}; fluxloop needs 20.6 or newer (module.register)`, 'install Node.js 20.6 or newer, e.g. `nvm install 20`');
}

/** 2. `node --import fluxloop/register` resolves the package from the project, as Node will. */
export function checkInstall(root: string): Check {
  const title = 'fluxloop package';
  let packageJson: string;
  try {
    // Resolved as from a file of the project: this CLI's own `require` would find its own package by name.
    const fromProject = createRequire(path.join(root, 'package.json'));
    packageJson = fromProject.resolve('fluxloop/package.json');
    fromProject.resolve('fluxloop/register');
  } catch {
    return check('fluxloop', title, 'fail', 'not found from the project: `node --import fluxloop/register` would fail', 'install it in the project from its tarball: `npm pack` in a clone of fluxloop, then `npm install --save-dev path/to/fluxloop-<version>.tgz` (the README\'s "Recording your own app")');
  }
  const installed = versionOf(packageJson);
  const cli = fluxloopVersion();
  if (installed !== undefined && installed !== cli) {
    return check(
      'fluxloop',
      title,
      'warn',
      `the project has fluxloop ${installed}, this CLI is ${cli}`,
      `run the project's own CLI (\`npx fluxloop doctor\`), or install this version's tarball in the project`,
    );
  }
  return check('fluxloop', title, 'ok', `${installed ?? 'installed'}; \`node --import fluxloop/register\` resolves`);
}

/** The variables that hold LLM keys: input generation's, the simulated user's when conversations ask a model, and the judge's when an llm_judge is configured. */
function keyNames(ctx: DoctorContext): string[] {
  const names = [ctx.config.ok ? ctx.config.value.input_generation.llm.api_key_env : LLM_DEFAULTS.api_key_env];
  const multiTurn = ctx.config.ok ? ctx.config.value.multi_turn : undefined;
  if (multiTurn?.enabled && multiTurn.supervisor.provider !== 'mock') names.push(multiTurn.supervisor.llm.api_key_env);
  const evaluation = ctx.evaluation?.ok ? ctx.evaluation.value : undefined;
  if (evaluation?.evaluators.some((e) => e.type === 'llm_judge')) names.push(evaluation.llm.api_key_env);
  return [...new Set(names)];
}

/**
 * 8. The LLM keys, from the environment or .env. Only whether each is there is ever reported:
 * never a key, nor any part of it.
 */
export function checkLlmKey(ctx: DoctorContext): Check {
  const title = 'LLM API key';
  const named = ctx.config.ok ? '' : ' (the default name: configs/simulation.yaml does not load)';
  const found = keyNames(ctx).map((name) => {
    if (process.env[name]) return { name, where: 'environment' };
    return { name, where: ctx.env.ok && ctx.env.value.values[name] ? '.env' : undefined };
  });
  const missing = found.filter((f) => f.where === undefined).map((f) => f.name);
  const present = found.filter((f) => f.where !== undefined).map((f) => `${f.name} present (${f.where})`);
  if (missing.length === 0) return check('llm-key', title, 'ok', `${present.join(', ')}${named}`);
  if (!ctx.env.ok) {
    return check('llm-key', title, 'skip', `${missing.join(', ')} not in the environment, and .env does not parse (see .env above)`);
  }
  return check(
    'llm-key',
    title,
    'warn',
    `${[...present, ...missing.map((name) => `${name} missing`)].join(', ')}${named}; needed only by \`generate inputs --mode llm\`, a simulated user of provider openai and llm_judge evaluators`,
    missing.map((name) => `add ${name}=<your key> to .env, or export ${name} in your shell`).join('; '),
  );
}
