import * as vscode from 'vscode';
import type { RecordStatus } from './cli-json';
import { plural } from './format';
import { renderObject } from './render';
import { pickProject, showError, showFailure, SHOW_OUTPUT, type Services, type Target } from './services';

/** `fluxloop record enable|disable`: FLUXLOOP_RECORD_ARGS in the project's .env. */
export async function switchRecording(services: Services, on: boolean, target?: Target): Promise<void> {
  const project = await pickProject(services, target);
  if (!project) return;
  const result = await services.cli.run(project, ['record', on ? 'enable' : 'disable']);
  services.store.invalidate(project, ['status', 'env']);
  if (result.code !== 0) return showFailure(services, result);
  const name = services.projects().length > 1 ? ` in ${project.name}` : '';
  vscode.window.showInformationMessage(
    on
      ? `Recording enabled${name}. Run your app with: node --import fluxloop/register <your app>`
      : `Recording disabled${name}. Experiments go on replaying what was recorded.`,
  );
}

/** The status bar's click: the opposite of what the project's recording is now. */
export async function toggleRecording(services: Services, target?: Target): Promise<void> {
  const project = await pickProject(services, target);
  if (!project) return;
  const status = await services.store.status(project);
  await switchRecording(services, !(status.ok && status.value.mode === 'enabled'), { project });
}

/** `fluxloop record status --json`, written out readably, and told in one line. */
export async function showRecordingStatus(services: Services, target?: Target): Promise<void> {
  const project = await pickProject(services, target);
  if (!project) return;
  services.store.invalidate(project, ['status']);
  const loaded = await services.store.status(project);
  if (!loaded.ok) return showError(services, loaded.error);
  const status = loaded.value;
  services.output.appendLine(`Recording status of ${project.root}:`);
  services.output.appendLine(renderObject(status));
  const other = status.mode === 'enabled' ? 'Disable Recording' : 'Enable Recording';
  const choice = await vscode.window.showInformationMessage(statusLine(status), SHOW_OUTPUT, other);
  if (choice === SHOW_OUTPUT) services.output.show(true);
  if (choice === other) await switchRecording(services, status.mode !== 'enabled', { project });
}

/** "Recording is on (.env): 6 records in 1 file; 2 targets." */
export function statusLine(status: RecordStatus): string {
  const { records, files } = status.total;
  const held = files === 0 ? 'nothing recorded yet' : `${plural(records, 'record')} in ${plural(files, 'file')}`;
  return `Recording is ${status.mode === 'enabled' ? 'on' : 'off'} (${status.source}): ${held}; ${plural(status.targets.length, 'target')}.`;
}
