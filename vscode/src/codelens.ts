import * as vscode from 'vscode';
import { projectOfFile, type Project } from './projects';
import { documentSymbols, functionSymbols } from './record-function';

export const LANGUAGES = ['javascript', 'typescript', 'javascriptreact', 'typescriptreact'];

/** "Record This Function" over each function of the project's JavaScript and TypeScript files. */
export class RecordCodeLens implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly projects: () => readonly Project[]) {}

  /** The projects or the setting changed. */
  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!vscode.workspace.getConfiguration('fluxloop').get<boolean>('codeLens', true)) return [];
    if (document.uri.scheme !== 'file' || /[\\/]node_modules[\\/]/.test(document.uri.fsPath)) return [];
    if (!projectOfFile(this.projects(), document.uri.fsPath)) return [];
    return functionSymbols(await documentSymbols(document.uri)).map(
      (symbol) =>
        new vscode.CodeLens(symbol.range, {
          title: 'Record This Function',
          tooltip: `Add ${symbol.name} to recording.targets in configs/simulation.yaml`,
          command: 'fluxloop.recordThisFunction',
          arguments: [document.uri, symbol.range.start],
        }),
    );
  }

  dispose(): void {
    this.changed.dispose();
  }
}
