import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

export type ReportPlace = 'editor' | 'browser';

const panels = new Map<string, vscode.WebviewPanel>();

/**
 * Shows an experiment's report.html: in a webview, as the file is (its own Content Security
 * Policy kept: it allows the report's inline script and style, and nothing from outside), or in
 * the browser.
 */
export async function showReport(file: string, place: ReportPlace): Promise<void> {
  if (place === 'browser') {
    await vscode.env.openExternal(vscode.Uri.file(file));
    return;
  }
  const html = fs.readFileSync(file, 'utf8');
  const title = `Report: ${path.basename(path.dirname(file))}`;
  let panel = panels.get(file);
  if (panel) {
    panel.reveal();
  } else {
    panel = vscode.window.createWebviewPanel('fluxloop.report', title, vscode.ViewColumn.Active, {
      enableScripts: true,
      enableFindWidget: true,
      // The report is one self-contained file: it loads nothing.
      localResourceRoots: [],
    });
    panels.set(file, panel);
    panel.onDidDispose(() => panels.delete(file));
  }
  // Set again when open: an evaluation rewrites the file.
  panel.webview.html = html;
}

export function reportPlace(): ReportPlace {
  return vscode.workspace.getConfiguration('fluxloop').get<ReportPlace>('openReportIn') === 'browser' ? 'browser' : 'editor';
}
