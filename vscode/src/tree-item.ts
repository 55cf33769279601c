import * as vscode from 'vscode';
import type { Experiment } from './cli-json';
import type { Project } from './projects';

export interface ItemOptions {
  /** Stable across refreshes, so that VS Code keeps what the user expanded. */
  id: string;
  project: Project;
  contextValue: string;
  icon?: string;
  description?: string;
  tooltip?: string | vscode.MarkdownString;
  /** A command id; the item itself is its argument, as it is for the item's menu commands. */
  command?: string;
  collapsed?: 'collapsed' | 'expanded';
  children?: () => Promise<Item[]>;
  resourceUri?: vscode.Uri;
  experiment?: Experiment;
  file?: string;
  line?: number;
}

/** A node of the FluxLoop trees, and what its commands act on. */
export class Item extends vscode.TreeItem {
  readonly project: Project;
  readonly experiment?: Experiment;
  readonly file?: string;
  readonly line?: number;
  readonly children?: () => Promise<Item[]>;

  constructor(label: string, options: ItemOptions) {
    const state = options.collapsed === 'expanded'
      ? vscode.TreeItemCollapsibleState.Expanded
      : options.collapsed === 'collapsed'
        ? vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.None;
    super(label, state);
    this.id = options.id;
    this.project = options.project;
    this.contextValue = options.contextValue;
    if (options.icon) this.iconPath = new vscode.ThemeIcon(options.icon);
    if (options.description !== undefined) this.description = options.description;
    // Else VS Code reads out the tooltip (a path, a long text) in place of the label.
    this.accessibilityInformation = { label: options.description ? `${label}, ${options.description}` : label };
    if (options.tooltip !== undefined) this.tooltip = options.tooltip;
    if (options.resourceUri) this.resourceUri = options.resourceUri;
    if (options.command) this.command = { command: options.command, title: label, arguments: [this] };
    this.children = options.children;
    this.experiment = options.experiment;
    this.file = options.file;
    this.line = options.line;
  }
}

/** The CLI's message in place of what it could not list. */
export function errorItem(project: Project, id: string, message: string): Item {
  return new Item(message, { id: `${id}/error`, project, contextValue: 'error', icon: 'error', tooltip: message });
}
