import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { CliResult, CliRunner, Progress, RunOptions } from '../src/cli';
import type { Project } from '../src/projects';
import type { Services } from '../src/services';
import { Store } from '../src/store';
import type { Item } from '../src/tree-item';
import type { TreeBase } from '../src/tree-base';

export const REPO = path.resolve(__dirname, '../..');

/** What a fake CLI call answers: its exit code, its stdout (an object is printed as JSON), and its progress. */
export interface Reply {
  code?: number;
  stdout?: unknown;
  stderr?: string;
  progress?: Progress[];
  /** Waits for the cancellation, then answers as a CLI stopped by SIGINT does. */
  untilCancelled?: boolean;
}

/**
 * A CliRunner that records each call and answers by the longest matching start of its args; a
 * reply made by a function is made at the call.
 */
export class FakeCli implements CliRunner {
  readonly calls: { project: Project; args: string[]; options: RunOptions }[] = [];
  private readonly replies = new Map<string, Reply | (() => Reply)>();

  on(command: string, reply: Reply | (() => Reply)): this {
    this.replies.set(command, reply);
    return this;
  }

  /** The args of each call, joined, in order. */
  commands(): string[] {
    return this.calls.map((c) => c.args.join(' '));
  }

  async run(project: Project, args: string[], options: RunOptions = {}): Promise<CliResult> {
    this.calls.push({ project, args, options });
    const line = args.join(' ');
    const key = [...this.replies.keys()].filter((k) => line === k || line.startsWith(`${k} `)).sort((a, b) => b.length - a.length)[0];
    const found = key === undefined ? undefined : this.replies.get(key)!;
    const reply: Reply = found === undefined ? { code: 2, stderr: `fluxloop: unknown command '${line}'\n` } : typeof found === 'function' ? found() : found;
    for (const p of reply.progress ?? []) options.onProgress?.(p);
    let cancelled = false;
    if (reply.untilCancelled) {
      await new Promise<void>((resolve) => options.cancellation?.onCancellationRequested(() => resolve()));
      cancelled = true;
    }
    const stdout = reply.stdout === undefined ? '' : typeof reply.stdout === 'string' ? reply.stdout : JSON.stringify(reply.stdout);
    return { args, code: cancelled ? 130 : (reply.code ?? 0), signal: null, stdout, stderr: reply.stderr ?? '', cancelled };
  }
}

export function output(): vscode.OutputChannel {
  return vscode.window.createOutputChannel('FluxLoop') as unknown as vscode.OutputChannel;
}

export function services(projects: Project[], cli: CliRunner): Services & { rediscovered: number } {
  const s = {
    cli,
    store: new Store(cli),
    output: output(),
    projects: () => projects,
    rediscovered: 0,
    rediscover() {
      s.rediscovered++;
    },
  };
  return s;
}

/** A project folder with configs/simulation.yaml, in a new temporary folder. */
export function tempProject(name = 'app'): Project {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-vscode-'));
  const root = path.join(parent, name);
  fs.mkdirSync(path.join(root, 'configs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'configs', 'simulation.yaml'), 'name: app\n');
  return { name, root, folder: root };
}

/** A tree as nested labels: a leaf is its label, a node `{ label: children }`, down to `depth`. */
export async function outline(tree: TreeBase, depth = 3, items?: Item[]): Promise<unknown[]> {
  const level = items ?? (await tree.getChildren());
  return Promise.all(
    level.map(async (item) => {
      if (depth <= 1 || !item.children) return item.label;
      return { [item.label as string]: await outline(tree, depth - 1, await tree.getChildren(item)) };
    }),
  );
}

/** The item with this label, looked for breadth first. */
export async function find(tree: TreeBase, label: string | RegExp): Promise<Item> {
  let level = await tree.getChildren();
  while (level.length > 0) {
    const hit = level.find((i) => (typeof label === 'string' ? i.label === label : label.test(i.label as string)));
    if (hit) return hit;
    level = (await Promise.all(level.map((i) => tree.getChildren(i)))).flat();
  }
  throw new Error(`no item ${label}`);
}

/** Runs a tree item's command as a click does. */
export async function click(item: Item): Promise<unknown> {
  if (!item.command) throw new Error(`${item.label} has no command`);
  return vscode.commands.executeCommand(item.command.command, ...(item.command.arguments ?? []));
}

/** `record status --json` of a project, with recording on or off and the given files. */
export function status(project: Project, options: { on?: boolean; current?: number; rotated?: number[] } = {}) {
  const file = path.join(project.root, 'recordings', 'args_recording.jsonl');
  const rotated = (options.rotated ?? []).map((records, i) => ({ path: `${file}.${i + 1}`, records, bytes: records * 100 }));
  const current = options.current ?? 0;
  const records = current + rotated.reduce((n, f) => n + f.records, 0);
  return {
    project_root: project.root,
    mode: options.on ? 'enabled' : 'disabled',
    source: options.on ? '.env' : 'default',
    environment_overrides_env_file: false,
    recording_file: { path: file, exists: options.current !== undefined, records: current, bytes: current * 100 },
    rotated_files: rotated,
    total: { files: rotated.length + (options.current !== undefined ? 1 : 0), records, bytes: records * 100 },
    targets: [{ target: 'app/agent.js:handle', state: 'no_run_yet', calls: null }],
    env_file: { path: path.join(project.root, '.env'), exists: options.on === true },
    config_file: { path: path.join(project.root, 'configs', 'simulation.yaml'), exists: true },
    notes: [],
  };
}

export function env(options: { runner?: string; iterations?: number; on?: boolean } = {}) {
  return {
    fluxloop: '0.1.0',
    node: '20.20.2',
    platform: 'linux x64',
    recording: { mode: options.on ? 'enabled' : 'disabled', source: 'default' },
    // null, as the CLI prints it, when the config does not load.
    config: options.runner ? { runner_target: options.runner, iterations: options.iterations ?? 1 } : null,
  };
}

/** An experiment of `list experiments --json`. */
export function experiment(project: Project, name: string, options: { evaluated?: boolean; finished?: boolean } = {}) {
  const dir = path.join(project.root, 'experiments', name);
  const finished = options.finished !== false;
  const files = finished ? ['errors.json', 'summary.json', 'traces.jsonl'] : ['traces.jsonl'];
  if (options.evaluated) files.push('evaluation/summary.json', 'report.html');
  return {
    dir,
    name,
    experiment: finished ? 'app' : null,
    started_at: finished ? '2026-01-02T09:00:00.000Z' : null,
    finished_at: finished ? '2026-01-02T09:00:01.000Z' : null,
    ended: finished ? 'completed' : null,
    total_runs: finished ? 36 : null,
    planned_runs: finished ? 36 : null,
    success_rate: finished ? 0.75 : null,
    pass_rate: options.evaluated ? 2 / 3 : null,
    report: options.evaluated ? path.join(dir, 'report.html') : null,
    files: files.map((f) => path.join(dir, f)).sort(),
  };
}
