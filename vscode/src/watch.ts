import * as vscode from 'vscode';
import type { Project } from './projects';
import type { Kind } from './store';

// The CLI's files of a project, and what each changes: an experiment writes many files in a burst.
const WATCHED: { glob: string; kinds: Kind[] }[] = [
  { glob: 'recordings/**', kinds: ['status'] },
  { glob: 'experiments/**', kinds: ['experiments'] },
  { glob: 'inputs/**', kinds: ['inputs'] },
  { glob: '.env', kinds: ['status', 'env'] },
  { glob: 'configs/**', kinds: ['status', 'env', 'experiments', 'inputs'] },
];

export const DEBOUNCE_MS = 500;

/**
 * Watches the projects' recordings/, experiments/, inputs/, .env and configs/, and calls
 * `changed` once a burst of changes has settled, with what they touched.
 */
export class ProjectWatcher {
  private watchers: vscode.Disposable[] = [];
  private readonly pending = new Map<Project, Set<Kind>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly changed: (project: Project, kinds: Kind[]) => void) {}

  watch(projects: readonly Project[]): void {
    this.clear();
    for (const project of projects) {
      for (const { glob, kinds } of WATCHED) {
        const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(project.root), glob));
        const note = () => this.note(project, kinds);
        watcher.onDidCreate(note);
        watcher.onDidChange(note);
        watcher.onDidDelete(note);
        this.watchers.push(watcher);
      }
    }
  }

  private note(project: Project, kinds: Kind[]): void {
    const set = this.pending.get(project) ?? new Set<Kind>();
    kinds.forEach((k) => set.add(k));
    this.pending.set(project, set);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), DEBOUNCE_MS);
  }

  private flush(): void {
    const pending = [...this.pending];
    this.pending.clear();
    for (const [project, kinds] of pending) this.changed(project, [...kinds]);
  }

  private clear(): void {
    this.watchers.forEach((w) => w.dispose());
    this.watchers = [];
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.clear();
  }
}
