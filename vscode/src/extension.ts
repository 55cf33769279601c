import * as vscode from 'vscode';
import { SpawnCli } from './cli';
import { RecordCodeLens, LANGUAGES } from './codelens';
import { registerCommands } from './commands';
import { ExperimentsTree } from './experiments-tree';
import { InputsTree } from './inputs-tree';
import { findProjects, type Project } from './projects';
import type { Services } from './services';
import { RecordingStatusBar } from './status-bar';
import { Store } from './store';
import { ProjectWatcher } from './watch';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('FluxLoop');
  let projects: Project[] = [];
  const cli = new SpawnCli(output, (project) => vscode.workspace.getConfiguration('fluxloop', vscode.Uri.file(project.folder)).get('cliCommand'));
  const store = new Store(cli);
  const experiments = new ExperimentsTree(store, () => projects);
  const inputs = new InputsTree(store, () => projects);
  const statusBar = new RecordingStatusBar(store, () => projects);
  const codeLens = new RecordCodeLens(() => projects);
  const watcher = new ProjectWatcher((project, kinds) => store.invalidate(project, kinds));

  const discover = () => {
    projects = findProjects(
      (vscode.workspace.workspaceFolders ?? [])
        .filter((f) => f.uri.scheme === 'file')
        .map((f) => ({ name: f.name, path: f.uri.fsPath, projectRoot: vscode.workspace.getConfiguration('fluxloop', f.uri).get<string>('projectRoot') ?? '' })),
    );
    void vscode.commands.executeCommand('setContext', 'fluxloop.hasProject', projects.length > 0);
    watcher.watch(projects);
    codeLens.refresh();
    store.invalidate();
  };

  store.onDidChange(() => {
    experiments.refresh();
    inputs.refresh();
    void statusBar.update();
  });

  const services: Services = { cli, store, output, projects: () => projects, rediscover: discover };
  // Any configs/simulation.yaml made or removed may make or end a project.
  const configs = vscode.workspace.createFileSystemWatcher('**/configs/simulation.yaml', false, true, false);

  context.subscriptions.push(
    output,
    vscode.window.registerTreeDataProvider('fluxloop.experiments', experiments),
    vscode.window.registerTreeDataProvider('fluxloop.inputs', inputs),
    vscode.languages.registerCodeLensProvider(LANGUAGES.map((language) => ({ language, scheme: 'file' })), codeLens),
    ...registerCommands(services, () => store.invalidate()),
    configs,
    configs.onDidCreate(discover),
    configs.onDidDelete(discover),
    vscode.workspace.onDidChangeWorkspaceFolders(discover),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('fluxloop.projectRoot')) discover();
      else if (e.affectsConfiguration('fluxloop.cliCommand')) store.invalidate();
      else if (e.affectsConfiguration('fluxloop.codeLens')) codeLens.refresh();
    }),
    vscode.window.onDidChangeActiveTextEditor(() => void statusBar.update()),
    experiments,
    inputs,
    statusBar,
    codeLens,
    watcher,
  );
  discover();
}

export function deactivate(): void {}
