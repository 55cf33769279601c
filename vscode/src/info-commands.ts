import * as vscode from 'vscode';
import { parseJson } from './cli';
import type { DoctorReport, EnvInfo } from './cli-json';
import { configFileOf, type Project } from './projects';
import { doctorSummary, renderDoctor, renderObject } from './render';
import { pickProject, showError, showFailure, SHOW_OUTPUT, type Services, type Target } from './services';

/** `fluxloop doctor --json`: the checks in the output channel, and how many failed in a message. */
export async function runDoctor(services: Services, target?: Target): Promise<void> {
  const project = await pickProject(services, target);
  if (!project) return;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'FluxLoop: Running doctor' },
    () => services.cli.run(project, ['doctor', '--json'], { json: true }),
  );
  const report = parseJson<DoctorReport>(result);
  // Exit 1 is a report with failed checks; anything else without a report is the CLI failing.
  if (!report?.checks || (result.code !== 0 && result.code !== 1)) return showFailure(services, result);
  services.output.appendLine(`Doctor of ${project.root}:`);
  services.output.appendLine(renderDoctor(report));
  services.output.show(true);
  const failed = report.checks.some((c) => c.status === 'fail');
  const show = failed ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const choice = await show(`Doctor: ${doctorSummary(report)}`, SHOW_OUTPUT);
  if (choice === SHOW_OUTPUT) services.output.show(true);
}

/** `fluxloop env --json`, written out readably, and told in one line. */
export async function showEnvironmentInfo(services: Services, target?: Target): Promise<void> {
  const project = await pickProject(services, target);
  if (!project) return;
  services.store.invalidate(project, ['env']);
  const loaded = await services.store.env(project);
  if (!loaded.ok) return showError(services, loaded.error);
  const env: EnvInfo = loaded.value;
  services.output.appendLine(`Environment of ${project.root}:`);
  services.output.appendLine(renderObject(env));
  services.output.show(true);
  const choice = await vscode.window.showInformationMessage(
    `FluxLoop ${env.fluxloop} on Node.js ${env.node}; recording ${env.recording.mode === 'enabled' ? 'on' : 'off'}.`,
    SHOW_OUTPUT,
  );
  if (choice === SHOW_OUTPUT) services.output.show(true);
}

/** `fluxloop init` in a workspace folder: the welcome view's button. */
export async function initProject(services: Services, folder?: vscode.Uri): Promise<void> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  let root = folder?.fsPath;
  if (root === undefined) {
    if (folders.length === 0) {
      vscode.window.showErrorMessage('Open a folder first: fluxloop init writes .env and configs/ into it.');
      return;
    }
    const picked = folders.length === 1
      ? folders[0]
      : (await vscode.window.showQuickPick(folders.map((f) => ({ label: f.name, description: f.uri.fsPath, folder: f })), { placeHolder: 'The folder to initialize' }))?.folder;
    if (!picked) return;
    root = picked.uri.fsPath;
  }
  const project: Project = { name: root, root, folder: root };
  const result = await services.cli.run(project, ['init']);
  if (result.code !== 0) return showFailure(services, result);
  services.rediscover();
  const open = 'Open configuration';
  const choice = await vscode.window.showInformationMessage(`FluxLoop initialized in ${root}: .env, configs/simulation.yaml and configs/evaluation.yaml.`, open);
  if (choice === open) await vscode.window.showTextDocument(vscode.Uri.file(configFileOf(project)));
}
