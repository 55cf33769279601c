import * as vscode from 'vscode';
import { projectOfFile, type Project } from './projects';
import type { Store } from './store';

/**
 * Whether recording is on, for the project of the active editor (or the only one); a click
 * switches it.
 */
export class RecordingStatusBar {
  private readonly item = vscode.window.createStatusBarItem('fluxloop.recording', vscode.StatusBarAlignment.Left, 50);
  private updating = 0;

  constructor(
    private readonly store: Store,
    private readonly projects: () => readonly Project[],
  ) {
    this.item.name = 'FluxLoop Recording';
  }

  /** The project it shows: the active editor's, else the first. */
  project(): Project | undefined {
    const projects = this.projects();
    const file = vscode.window.activeTextEditor?.document.uri;
    return (file?.scheme === 'file' ? projectOfFile(projects, file.fsPath) : undefined) ?? projects[0];
  }

  async update(): Promise<void> {
    const project = this.project();
    if (!project) {
      this.item.hide();
      return;
    }
    // A later update wins over one still waiting for the CLI.
    const mine = ++this.updating;
    const status = await this.store.status(project);
    if (mine !== this.updating) return;
    const where = this.projects().length > 1 ? ` (${project.name})` : '';
    if (!status.ok) {
      this.item.text = '$(warning) FluxLoop';
      this.item.tooltip = `FluxLoop${where}: ${status.error}`;
      this.item.command = 'fluxloop.showRecordingStatus';
    } else {
      const on = status.value.mode === 'enabled';
      this.item.text = on ? '$(record) FluxLoop: Recording on' : '$(circle-slash) FluxLoop: Recording off';
      this.item.tooltip = `FluxLoop${where}: recording is ${on ? 'on' : 'off'} (from ${status.value.source}). Click to ${on ? 'disable' : 'enable'} it.`;
      this.item.command = { command: 'fluxloop.toggleRecording', title: on ? 'Disable Recording' : 'Enable Recording', arguments: [{ project }] };
    }
    this.item.accessibilityInformation = { label: `${this.item.tooltip}` };
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
