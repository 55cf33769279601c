import * as vscode from 'vscode';
import type { Project } from './projects';
import { Item } from './tree-item';

/**
 * A FluxLoop tree: a workspace with one project shows its sections at the top; one with several
 * shows a node for each project, holding them.
 */
export abstract class TreeBase implements vscode.TreeDataProvider<Item> {
  private readonly changed = new vscode.EventEmitter<Item | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly projects: () => readonly Project[],
    /** Prefixes the items' ids, which must be unique across the views. */
    protected readonly view: string,
  ) {}

  protected abstract sections(project: Project): Item[] | Promise<Item[]>;

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(item: Item): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: Item): Promise<Item[]> {
    if (item) return (await item.children?.()) ?? [];
    const projects = this.projects();
    if (projects.length === 1) return this.sections(projects[0]!);
    return projects.map(
      (project) =>
        new Item(project.name, {
          id: `${this.view}:${project.root}`,
          project,
          contextValue: 'project',
          icon: 'folder',
          collapsed: 'expanded',
          tooltip: project.root,
          children: async () => this.sections(project),
        }),
    );
  }

  dispose(): void {
    this.changed.dispose();
  }
}
