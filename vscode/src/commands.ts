import * as vscode from 'vscode';
import { evaluateExperiment, generateInputs, openReport, runExperiment } from './experiment-commands';
import { initProject, runDoctor, showEnvironmentInfo } from './info-commands';
import { recordThisFunction } from './record-function';
import { showRecordingStatus, switchRecording, toggleRecording } from './recording-commands';
import type { Services } from './services';

type Handler = (...args: any[]) => Promise<void> | void;

/** Every command of package.json's `contributes.commands`, by id. */
export function commandHandlers(services: Services, refresh: () => void): Record<string, Handler> {
  return {
    'fluxloop.enableRecording': (target) => switchRecording(services, true, target),
    'fluxloop.disableRecording': (target) => switchRecording(services, false, target),
    'fluxloop.toggleRecording': (target) => toggleRecording(services, target),
    'fluxloop.showRecordingStatus': (target) => showRecordingStatus(services, target),
    'fluxloop.generateInputs': (target) => generateInputs(services, target),
    'fluxloop.runExperiment': (target) => runExperiment(services, target),
    'fluxloop.evaluateExperiment': (target) => evaluateExperiment(services, target),
    'fluxloop.openReport': (target) => openReport(services, target),
    'fluxloop.runDoctor': (target) => runDoctor(services, target),
    'fluxloop.showEnvironmentInfo': (target) => showEnvironmentInfo(services, target),
    'fluxloop.recordThisFunction': (uri, position) => recordThisFunction(services, uri instanceof vscode.Uri ? uri : undefined, position instanceof vscode.Position ? position : undefined),
    'fluxloop.init': (folder) => initProject(services, folder instanceof vscode.Uri ? folder : undefined),
    'fluxloop.refresh': () => refresh(),
    'fluxloop.openFile': (target: { file?: string; line?: number } | undefined) => openFile(target),
  };
}

/** Opens a file of a tree item, at its line when it has one (an input in the inputs file). */
async function openFile(target: { file?: string; line?: number } | undefined): Promise<void> {
  if (!target?.file) return;
  const line = Math.max(0, (target.line ?? 1) - 1);
  const at = new vscode.Range(line, 0, line, 0);
  await vscode.window.showTextDocument(vscode.Uri.file(target.file), { preview: true, ...(target.line ? { selection: at } : {}) });
}

export function registerCommands(services: Services, refresh: () => void): vscode.Disposable[] {
  return Object.entries(commandHandlers(services, refresh)).map(([id, handler]) => vscode.commands.registerCommand(id, handler));
}
