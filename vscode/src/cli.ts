import { spawn } from 'node:child_process';
import { cliArgv } from './cli-argv';
import type { Project } from './projects';

export interface Progress {
  label: string;
  done: number;
  total: number;
  detail?: string;
}

/** The part of a CancellationToken the runner needs. */
export interface Cancellation {
  isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): { dispose(): unknown };
}

export interface RunOptions {
  /** stdout is JSON for the extension, not text for the output channel. */
  json?: boolean;
  onProgress?: (progress: Progress) => void;
  cancellation?: Cancellation;
}

export interface CliResult {
  /** The argv as run, after the CLI's own argv. */
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The user cancelled, and the CLI was sent SIGINT. */
  cancelled: boolean;
  /** The CLI could not be started at all (e.g. ENOENT). */
  spawnError?: string;
}

export interface CliRunner {
  run(project: Project, args: string[], options?: RunOptions): Promise<CliResult>;
}

/** Where the CLI's human output goes: the "FluxLoop" output channel. */
export interface Log {
  append(text: string): void;
  appendLine(text: string): void;
}

/** A stderr line the CLI writes for tools under FLUXLOOP_PROGRESS=json, else undefined. */
export function parseProgressLine(line: string): Progress | undefined {
  if (!line.startsWith('{"progress"')) return undefined;
  try {
    const p = (JSON.parse(line) as { progress?: Partial<Progress> }).progress;
    if (!p || typeof p.label !== 'string' || typeof p.done !== 'number' || typeof p.total !== 'number') return undefined;
    return { label: p.label, done: p.done, total: p.total, ...(typeof p.detail === 'string' ? { detail: p.detail } : {}) };
  } catch {
    return undefined;
  }
}

/** What to tell the user when the CLI failed: its own `fluxloop: …` line, as the CLI words it. */
export function failureMessage(result: CliResult): string {
  if (result.spawnError !== undefined) return result.spawnError;
  const lines = result.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && parseProgressLine(l) === undefined);
  const own = lines.filter((l) => l.startsWith('fluxloop: ')).at(-1);
  if (own !== undefined) return own;
  if (lines.length > 0) return `fluxloop: ${lines.at(-1)}`;
  return result.signal ? `fluxloop was stopped by ${result.signal}` : `fluxloop exited with code ${result.code}`;
}

/** stdout as JSON, or undefined when it is not (a failure before the CLI printed anything). */
export function parseJson<T>(result: CliResult): T | undefined {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    return undefined;
  }
}

// After SIGINT the CLI writes its summary and exits; one that does not within this long is killed.
const KILL_AFTER_MS = 10_000;

/** Runs the CLI in a child process, with cwd and --project-dir the project root. */
export class SpawnCli implements CliRunner {
  constructor(
    private readonly log: Log,
    private readonly settingOf: (project: Project) => unknown,
  ) {}

  run(project: Project, args: string[], options: RunOptions = {}): Promise<CliResult> {
    const argv = cliArgv(this.settingOf(project), project);
    const full = [...argv.slice(1), '--project-dir', project.root, ...args];
    this.log.appendLine(`$ ${['fluxloop', ...args].join(' ')}   (in ${project.root})`);
    return new Promise((resolve) => {
      const child = spawn(argv[0]!, full, {
        cwd: project.root,
        env: { ...process.env, FLUXLOOP_PROGRESS: 'json', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Windows runs the .cmd shims of node_modules/.bin and npx only through a shell.
        shell: process.platform === 'win32' && /\.cmd$/i.test(argv[0]!),
      });
      let stdout = '';
      let stderr = '';
      let partial = '';
      let cancelled = false;
      let killer: NodeJS.Timeout | undefined;
      let finished = false;
      const onLine = (line: string) => {
        const progress = parseProgressLine(line);
        if (progress) options.onProgress?.(progress);
        else this.log.appendLine(line);
      };
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (!options.json) this.log.append(chunk);
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) onLine(line);
      });
      const subscription = options.cancellation?.onCancellationRequested(() => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        cancelled = true;
        child.kill('SIGINT');
        killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      });
      const finish = (result: Omit<CliResult, 'args' | 'stdout' | 'stderr' | 'cancelled'>) => {
        // A failed spawn emits both 'error' and 'close'.
        if (finished) return;
        finished = true;
        if (partial !== '') onLine(partial);
        partial = '';
        clearTimeout(killer);
        subscription?.dispose();
        if (result.code !== 0) this.log.appendLine(result.spawnError ?? `(exit code ${result.code ?? result.signal})`);
        resolve({ args, stdout, stderr, cancelled, ...result });
      };
      child.on('error', (error: NodeJS.ErrnoException) => {
        finish({
          code: null,
          signal: null,
          spawnError: `Could not run ${argv.join(' ')} (${error.code ?? error.message}). Install fluxloop in the project, or set fluxloop.cliCommand.`,
        });
      });
      child.on('close', (code, signal) => finish({ code, signal }));
    });
  }
}
