import * as vscode from 'vscode';
import { failureMessage, type CliResult, type CliRunner, type Progress, type RunOptions } from './cli';
import { projectOfFile, type Project } from './projects';
import type { Store } from './store';

/** What the commands work with; the extension makes one, the tests a fake. */
export interface Services {
  cli: CliRunner;
  store: Store;
  output: vscode.OutputChannel;
  projects(): readonly Project[];
  /** Looks for projects again (after `fluxloop init`). */
  rediscover(): void;
}

/** What a command was invoked on: a tree item, or nothing from the palette. */
export interface Target {
  project?: Project;
}

export const SHOW_OUTPUT = 'Show Output';

/**
 * The project a command acts on: the item's; the only one; the active editor's; else the one
 * the user picks.
 */
export async function pickProject(services: Services, target?: Target): Promise<Project | undefined> {
  if (target?.project) return target.project;
  const projects = services.projects();
  if (projects.length === 0) {
    const init = 'Initialize Project';
    const choice = await vscode.window.showErrorMessage('No FluxLoop project in this workspace: a project is a folder with configs/simulation.yaml.', init);
    if (choice === init) await vscode.commands.executeCommand('fluxloop.init');
    return undefined;
  }
  if (projects.length === 1) return projects[0];
  const file = vscode.window.activeTextEditor?.document.uri;
  const active = file?.scheme === 'file' ? projectOfFile(projects, file.fsPath) : undefined;
  if (active) return active;
  const picked = await vscode.window.showQuickPick(
    projects.map((project) => ({ label: project.name, description: project.root, project })),
    { placeHolder: 'The FluxLoop project' },
  );
  return picked?.project;
}

/** The CLI's error, with a button to its whole output. A cancelled command says nothing more. */
export async function showFailure(services: Services, result: CliResult): Promise<void> {
  if (result.cancelled) {
    vscode.window.showInformationMessage(`Cancelled: fluxloop ${result.args.slice(0, 2).join(' ')}.`);
    return;
  }
  await showError(services, failureMessage(result));
}

/** An error, with a button to the CLI's whole output. */
export async function showError(services: Services, message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, SHOW_OUTPUT);
  if (choice === SHOW_OUTPUT) services.output.show(true);
}

/** Reports the CLI's progress lines to a VS Code progress: the message, and the bar's share. */
export function progressReporter(progress: vscode.Progress<{ message?: string; increment?: number }>): (p: Progress) => void {
  let label: string | undefined;
  let shown = 0;
  return (p) => {
    // A new stage (runs, then evaluating) starts its count again; the bar cannot go back.
    if (p.label !== label) {
      label = p.label;
      shown = 0;
    }
    const share = p.total > 0 ? Math.min(100, (100 * p.done) / p.total) : 0;
    const increment = share > shown ? share - shown : undefined;
    shown = Math.max(shown, share);
    progress.report({ message: `${p.label} ${p.done}/${p.total}${p.detail ? ` (${p.detail})` : ''}`, ...(increment ? { increment } : {}) });
  };
}

/** Runs a long CLI command under a cancellable notification fed by the CLI's progress. */
export function withCliProgress(title: string, task: (options: RunOptions) => Promise<CliResult>): Thenable<CliResult> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) =>
    task({ onProgress: progressReporter(progress), cancellation: token }),
  );
}
