import path from 'node:path';
import * as vscode from 'vscode';
import { parseJson } from './cli';
import type { RecordAdd } from './cli-json';
import { configFileOf, projectOfFile } from './projects';
import { showFailure, type Services } from './services';

const FUNCTION_KINDS = new Set([vscode.SymbolKind.Function, vscode.SymbolKind.Method, vscode.SymbolKind.Constructor]);

/** The function, method and constructor symbols of a document, outer before inner. */
export function functionSymbols(symbols: readonly vscode.DocumentSymbol[]): vscode.DocumentSymbol[] {
  return symbols.flatMap((s) => [...(FUNCTION_KINDS.has(s.kind) ? [s] : []), ...functionSymbols(s.children ?? [])]);
}

export async function documentSymbols(uri: vscode.Uri): Promise<vscode.DocumentSymbol[]> {
  const symbols = await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[] | undefined>('vscode.executeDocumentSymbolProvider', uri);
  // A provider that gives flat SymbolInformation has no ranges of the functions' bodies to use.
  return (symbols ?? []).filter((s): s is vscode.DocumentSymbol => 'children' in s);
}

/**
 * Where the function to record begins: the start of the innermost function symbol holding the
 * cursor (the CLI takes the function that begins there, also on an `export` before it), else
 * the cursor itself, where the CLI finds the innermost function.
 */
export function positionToRecord(symbols: readonly vscode.DocumentSymbol[], cursor: vscode.Position): vscode.Position {
  const holding = functionSymbols(symbols).filter((s) => s.range.contains(cursor));
  // Of the symbols holding the cursor, the innermost begins last.
  const innermost = holding.sort((a, b) => b.range.start.compareTo(a.range.start))[0];
  return innermost?.range.start ?? cursor;
}

/**
 * "Record This Function": `fluxloop record add <file> --at LINE:COLUMN --json` adds the function
 * to recording.targets. From the editor's menu and the palette it is the function under the
 * cursor; a CodeLens gives its function's own position.
 */
export async function recordThisFunction(services: Services, uri?: vscode.Uri, position?: vscode.Position): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const file = uri ?? editor?.document.uri;
  if (!file || file.scheme !== 'file') {
    vscode.window.showErrorMessage('Record This Function: open a JavaScript or TypeScript file of the project, and put the cursor in the function to record.');
    return;
  }
  const project = projectOfFile(services.projects(), file.fsPath);
  if (!project) {
    vscode.window.showErrorMessage(`${path.basename(file.fsPath)} is not in a FluxLoop project (a folder with configs/simulation.yaml).`);
    return;
  }
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file.toString());
  if (document?.isDirty) {
    // The CLI reads the file from disk: its lines must be the ones the position counts.
    const save = 'Save and Record';
    if ((await vscode.window.showWarningMessage(`${path.basename(file.fsPath)} has unsaved changes; fluxloop reads the saved file.`, save)) !== save) return;
    await document.save();
  }
  let at = position;
  if (!at) {
    const cursor = editor && editor.document.uri.toString() === file.toString() ? editor.selection.active : undefined;
    if (!cursor) {
      vscode.window.showErrorMessage('Record This Function: put the cursor in the function to record.');
      return;
    }
    at = positionToRecord(await documentSymbols(file), cursor);
  }
  const relative = path.relative(project.root, file.fsPath).split(path.sep).join('/');
  const result = await services.cli.run(project, ['record', 'add', relative, '--at', `${at.line + 1}:${at.character + 1}`, '--json'], { json: true });
  const added = parseJson<RecordAdd>(result);
  if (result.code !== 0 || typeof added?.target !== 'string') return showFailure(services, result);
  services.store.invalidate(project, ['status', 'env']);
  const open = 'Open configuration';
  const message = added.message || (added.added ? `Added ${added.target} to recording.targets.` : `${added.target} is already in recording.targets.`);
  const choice = await vscode.window.showInformationMessage(message, open);
  if (choice === open) await vscode.window.showTextDocument(vscode.Uri.file(added.config_file || configFileOf(project)));
}
