import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A throwaway project with fluxloop installed the way a user has it, as a package in its
 * node_modules (here a link to this repository), so that `--import fluxloop/register` resolves
 * exactly as it does for them. `files` maps relative paths to contents.
 */
export function makeProject(name, files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fluxloop-bench-${name}-`));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(REPO, path.join(dir, 'node_modules', 'fluxloop'), 'dir');
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

export function removeProject(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A simulation.yaml that records `targets`, with `recording`'s other keys set to the values of
 * `settings` (scalars, as in `{ max_record_bytes: 4_000_000 }`), the defaults otherwise.
 */
export function simulationYaml(targets, settings = {}) {
  const more = Object.entries(settings).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}\n`);
  return `name: bench\nrecording:\n  targets:\n${targets.map((t) => `    - ${t}\n`).join('')}${more.join('')}`;
}

/**
 * The targets of the project's last recording process, by target, as `fluxloop record status`
 * reads them (`.fluxloop/status/<pid>.json`): state, calls and mechanism. Each recording process
 * that starts a run clears the files of the one before.
 */
export function statusTargets(dir) {
  const status = path.join(dir, '.fluxloop', 'status');
  const files = fs.existsSync(status) ? fs.readdirSync(status).filter((f) => f.endsWith('.json')) : [];
  const targets = files.flatMap((f) => JSON.parse(fs.readFileSync(path.join(status, f), 'utf8')).targets);
  return Object.fromEntries(targets.map((t) => [t.target, t]));
}

// The benchmark's own FLUXLOOP_* variables, if any, must not reach the processes it measures.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLUXLOOP_')));

const MAXRSS = fileURLToPath(new URL('./maxrss.mjs', import.meta.url));

/**
 * Runs `node ...args` in `cwd` and resolves with its exit code, output, wall time in ms and, with
 * `rss`, its peak resident memory in MB. Rejects when it fails, showing its stderr. `node` is the
 * binary, this process's own unless given.
 */
export function runNode(cwd, args, { env = {}, rss = false, timeoutMs = 600_000, node = process.execPath } = {}) {
  const rssFile = rss ? path.join(os.tmpdir(), `fluxloop-bench-rss-${process.pid}-${Date.now()}`) : undefined;
  const argv = rss ? ['--import', MAXRSS, ...args] : args;
  const childEnv = { ...baseEnv, ...env, ...(rssFile ? { FLUXLOOP_BENCH_RSS_FILE: rssFile } : {}) };
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(node, argv, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`node ${args.join(' ')} exited with ${code ?? signal}:\n${stderr.slice(-2000)}`));
        return;
      }
      let rssMb;
      if (rssFile) {
        rssMb = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
        fs.rmSync(rssFile, { force: true });
      }
      resolve({ stdout, stderr, ms, rssMb });
    });
  });
}
