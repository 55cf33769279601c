import { failureMessage, parseJson, type CliRunner } from './cli';
import type { EnvInfo, ExperimentList, InputList, RecordStatus } from './cli-json';
import type { Project } from './projects';

/** What a CLI call gave: its JSON, or the CLI's message saying why not (shown in the tree). */
export type Loaded<T> = { ok: true; value: T } | { ok: false; error: string };

export type Kind = 'status' | 'env' | 'experiments' | 'inputs';

const ARGS: Record<Kind, string[]> = {
  status: ['record', 'status', '--json'],
  env: ['env', '--json'],
  experiments: ['list', 'experiments', '--limit', '10', '--json'],
  inputs: ['list', 'inputs', '--json'],
};

/**
 * The CLI's JSON about each project, each asked once and kept until a watcher says its files
 * changed: the trees and the status bar read it here rather than each spawning the CLI.
 */
export class Store {
  private readonly cache = new Map<string, Promise<Loaded<unknown>>>();
  private readonly listeners = new Set<(project: Project | undefined) => void>();

  constructor(private readonly cli: CliRunner) {}

  status(project: Project): Promise<Loaded<RecordStatus>> {
    return this.load(project, 'status');
  }

  env(project: Project): Promise<Loaded<EnvInfo>> {
    return this.load(project, 'env');
  }

  experiments(project: Project): Promise<Loaded<ExperimentList>> {
    return this.load(project, 'experiments');
  }

  inputs(project: Project): Promise<Loaded<InputList>> {
    return this.load(project, 'inputs');
  }

  /** Forgets what the CLI said (of one project, or all), and tells the listeners. */
  invalidate(project?: Project, kinds: readonly Kind[] = Object.keys(ARGS) as Kind[]): void {
    for (const key of [...this.cache.keys()]) {
      const [root, kind] = splitKey(key);
      if ((project === undefined || root === project.root) && kinds.includes(kind)) this.cache.delete(key);
    }
    for (const listener of this.listeners) listener(project);
  }

  onDidChange(listener: (project: Project | undefined) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private load<T>(project: Project, kind: Kind): Promise<Loaded<T>> {
    const key = `${project.root}\0${kind}`;
    let loaded = this.cache.get(key);
    if (!loaded) {
      loaded = this.cli.run(project, ARGS[kind], { json: true }).then((result): Loaded<unknown> => {
        const value = result.code === 0 ? parseJson<unknown>(result) : undefined;
        return value === undefined ? { ok: false, error: failureMessage(result) } : { ok: true, value };
      });
      this.cache.set(key, loaded);
    }
    return loaded as Promise<Loaded<T>>;
  }
}

function splitKey(key: string): [string, Kind] {
  const at = key.lastIndexOf('\0');
  return [key.slice(0, at), key.slice(at + 1) as Kind];
}
