import path from 'node:path';
import * as vscode from 'vscode';
import type { Experiment, RecordStatus } from './cli-json';
import { formatBytes, formatPercent, plural } from './format';
import { configFileOf, type Project } from './projects';
import type { Store } from './store';
import { errorItem, Item } from './tree-item';
import { TreeBase } from './tree-base';

export const NO_RECORDINGS = 'No recordings found — Enable Record Mode to capture inputs';
const MAX_RECORDING_FILES = 5;

/** The Experiments view: Configuration (with Recording (Advanced)), Run Experiment, Experiments. */
export class ExperimentsTree extends TreeBase {
  constructor(private readonly store: Store, projects: () => readonly Project[]) {
    super(projects, 'experiments');
  }

  protected sections(project: Project): Item[] {
    const id = `${this.view}:${project.root}`;
    return [
      new Item('Configuration', {
        id: `${id}/configuration`,
        project,
        contextValue: 'configuration',
        icon: 'settings-gear',
        collapsed: 'expanded',
        children: () => this.configuration(project, `${id}/configuration`),
      }),
      new Item('Run Experiment', {
        id: `${id}/run`,
        project,
        contextValue: 'runExperiment',
        icon: 'play',
        command: 'fluxloop.runExperiment',
        tooltip: 'Replay the recorded calls with each input, then evaluate the runs (fluxloop run experiment --evaluate)',
      }),
      new Item('Experiments', {
        id: `${id}/experiments`,
        project,
        contextValue: 'experimentsSection',
        icon: 'beaker',
        collapsed: 'expanded',
        children: () => this.experiments(project, `${id}/experiments`),
      }),
    ];
  }

  private async configuration(project: Project, id: string): Promise<Item[]> {
    const [status, env] = await Promise.all([this.store.status(project), this.store.env(project)]);
    const file = configFileOf(project);
    const items = [
      new Item('Open configuration', {
        id: `${id}/open`,
        project,
        contextValue: 'openConfiguration',
        icon: 'go-to-file',
        command: 'fluxloop.openFile',
        file,
        tooltip: file,
      }),
    ];
    const config = env.ok ? env.value.config : undefined;
    // null: the config does not load, and `env` says why in its files.
    const unknown = env.ok ? 'configs/simulation.yaml does not load: Run Doctor says why.' : env.error;
    items.push(
      new Item(`Runner: ${config ? (config.runner_target ?? 'not set') : 'unknown'}`, {
        id: `${id}/runner`,
        project,
        contextValue: 'runner',
        icon: 'symbol-function',
        tooltip: config?.runner_target ? 'runner.target: the function experiments replay' : unknown,
      }),
      new Item(`Iterations: ${config?.iterations ?? 'unknown'}`, {
        id: `${id}/iterations`,
        project,
        contextValue: 'iterations',
        icon: 'sync',
        tooltip: config?.iterations != null ? 'iterations: how many times each input runs' : unknown,
      }),
    );
    if (!status.ok) return [...items, errorItem(project, id, status.error)];
    const on = status.value.mode === 'enabled';
    items.push(
      new Item(`Record Mode: ${on ? 'Enabled' : 'Disabled'}`, {
        id: `${id}/mode`,
        project,
        contextValue: on ? 'recordModeEnabled' : 'recordModeDisabled',
        icon: on ? 'record' : 'circle-slash',
        description: status.value.source,
        tooltip: `FLUXLOOP_RECORD_ARGS: recording is ${on ? 'on' : 'off'} (from ${status.value.source})`,
      }),
      new Item('Recording (Advanced)', {
        id: `${id}/recording`,
        project,
        contextValue: 'recordingSection',
        icon: 'debug-console',
        collapsed: 'collapsed',
        children: async () => this.recording(project, `${id}/recording`, status.value),
      }),
    );
    return items;
  }

  private recording(project: Project, id: string, status: RecordStatus): Item[] {
    const items = [
      new Item('Enable Recording', { id: `${id}/enable`, project, contextValue: 'enableRecording', icon: 'record', command: 'fluxloop.enableRecording' }),
      new Item('Disable Recording', { id: `${id}/disable`, project, contextValue: 'disableRecording', icon: 'circle-slash', command: 'fluxloop.disableRecording' }),
    ];
    const files = [...(status.recording_file.exists ? [status.recording_file] : []), ...[...status.rotated_files].reverse()];
    if (files.length === 0) {
      items.push(new Item(NO_RECORDINGS, { id: `${id}/none`, project, contextValue: 'noRecordings', icon: 'info' }));
    }
    for (const file of files.slice(0, MAX_RECORDING_FILES)) {
      items.push(
        new Item(path.basename(file.path), {
          id: `${id}/file:${file.path}`,
          project,
          contextValue: 'recordingFile',
          command: 'fluxloop.openFile',
          file: file.path,
          resourceUri: vscode.Uri.file(file.path),
          description: `${plural(file.records, 'record')}, ${formatBytes(file.bytes)}`,
          tooltip: file.path,
        }),
      );
    }
    return items;
  }

  private async experiments(project: Project, id: string): Promise<Item[]> {
    const list = await this.store.experiments(project);
    if (!list.ok) return [errorItem(project, id, list.error)];
    if (list.value.experiments.length === 0) {
      return [new Item('No experiments yet — Run Experiment to make one', { id: `${id}/none`, project, contextValue: 'noExperiments', icon: 'info' })];
    }
    return list.value.experiments.map((e) => this.experiment(project, `${id}/${e.dir}`, e));
  }

  private experiment(project: Project, id: string, e: Experiment): Item {
    return new Item(e.name, {
      id,
      project,
      experiment: e,
      contextValue: e.report ? 'experimentWithReport' : 'experiment',
      icon: e.ended === null ? 'loading~spin' : e.success_rate === 1 ? 'pass' : 'beaker',
      collapsed: 'collapsed',
      description: rates(e),
      tooltip: tooltipOf(e),
      children: async () => {
        const first = e.report
          ? new Item('Open Report', { id: `${id}/report`, project, experiment: e, contextValue: 'openReport', icon: 'preview', command: 'fluxloop.openReport' })
          : new Item('Evaluate', { id: `${id}/evaluate`, project, experiment: e, contextValue: 'evaluate', icon: 'checklist', command: 'fluxloop.evaluateExperiment' });
        const files = e.files.map(
          (file) =>
            new Item(path.relative(e.dir, file).split(path.sep).join('/'), {
              id: `${id}/file:${file}`,
              project,
              contextValue: 'experimentFile',
              command: 'fluxloop.openFile',
              file,
              resourceUri: vscode.Uri.file(file),
              tooltip: file,
            }),
        );
        return [first, ...files];
      },
    });
  }
}

/** "100% success, 67% pass"; an experiment without a summary is running or was cut short. */
export function rates(e: Experiment): string {
  if (e.ended === null && e.success_rate === null) return 'no summary (running or stopped)';
  const parts = [e.success_rate === null ? 'no runs' : `${formatPercent(e.success_rate)} success`];
  if (e.pass_rate !== null) parts.push(`${formatPercent(e.pass_rate)} pass`);
  return parts.join(', ');
}

function tooltipOf(e: Experiment): string {
  const lines = [e.dir];
  if (e.experiment) lines.push(`experiment: ${e.experiment}`);
  if (e.started_at) lines.push(`started: ${e.started_at}`);
  if (e.total_runs !== null) lines.push(`runs: ${e.total_runs}${e.planned_runs !== null && e.planned_runs !== e.total_runs ? ` of ${e.planned_runs}` : ''}`);
  if (e.ended) lines.push(`ended: ${e.ended}`);
  lines.push(rates(e));
  return lines.join('\n');
}
