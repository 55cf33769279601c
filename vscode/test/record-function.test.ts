import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { DocumentSymbol, fake, Position, Range, Selection, SymbolKind, Uri } from './fake-vscode';
import { RecordCodeLens } from '../src/codelens';
import { registerCommands } from '../src/commands';
import { FakeCli, services, tempProject } from './helpers';

beforeEach(() => fake.reset());

function symbol(name: string, kind: SymbolKind, [sl, sc, el, ec]: number[], children: DocumentSymbol[] = []): DocumentSymbol {
  const s = new DocumentSymbol(name, '', kind, new Range(sl!, sc!, el!, ec!), new Range(sl!, sc!, sl!, sc! + name.length));
  s.children = children;
  return s;
}

// app/agent.js:
//   0 export class Agent {
//   1   async reply(message) {
//   2     const fix = (x) => x.trim();
//   3     return fix(message);
//   4   }
//   5 }
//   6 export const VERSION = 1;
const SYMBOLS = [
  symbol('Agent', SymbolKind.Class, [0, 0, 5, 1], [symbol('reply', SymbolKind.Method, [1, 2, 4, 3], [symbol('fix', SymbolKind.Function, [2, 4, 2, 32])])]),
  symbol('VERSION', SymbolKind.Constant, [6, 0, 6, 25]),
];

const added = (project: { root: string }) => ({
  stdout: { target: 'app/agent.js:Agent.reply', added: true, config_file: path.join(project.root, 'configs', 'simulation.yaml'), message: 'Added app/agent.js:Agent.reply to recording.targets in configs/simulation.yaml.' },
});

function setUp(reply?: object) {
  const project = tempProject();
  const file = Uri.file(path.join(project.root, 'app', 'agent.js'));
  const cli = new FakeCli().on('record add', reply ?? added(project));
  const asked: unknown[] = [];
  fake.builtins.set('vscode.executeDocumentSymbolProvider', (uri) => {
    asked.push(uri);
    return SYMBOLS;
  });
  registerCommands(services([project], cli), () => undefined);
  const cursorAt = (line: number, character: number) => {
    const at = new Position(line, character);
    fake.activeTextEditor = { document: { uri: file }, selection: new Selection(at, at) };
  };
  return { project, file, cli, asked, cursorAt };
}

describe('Record This Function', () => {
  it('adds the innermost function around the cursor, at the position where it begins, counted from 1', async () => {
    const { cli, cursorAt, asked, file } = setUp();

    cursorAt(3, 5);
    await vscode.commands.executeCommand('fluxloop.recordThisFunction');
    cursorAt(2, 20);
    await vscode.commands.executeCommand('fluxloop.recordThisFunction');
    // Outside any function: the cursor itself, where the CLI looks for one.
    cursorAt(0, 3);
    await vscode.commands.executeCommand('fluxloop.recordThisFunction');

    expect(cli.commands()).toEqual(['record add app/agent.js --at 2:3 --json', 'record add app/agent.js --at 3:5 --json', 'record add app/agent.js --at 1:4 --json']);
    expect(asked).toEqual([file, file, file]);
    expect(fake.texts()[0]).toBe('Added app/agent.js:Agent.reply to recording.targets in configs/simulation.yaml.');
  });

  it("opens the configuration from its message, and shows the CLI's error when no function is there", async () => {
    const { project, cli, cursorAt } = setUp();
    fake.answer = () => 'Open configuration';
    cursorAt(3, 5);
    await vscode.commands.executeCommand('fluxloop.recordThisFunction');
    expect(fake.opened.map((o) => o.file)).toEqual([path.join(project.root, 'configs', 'simulation.yaml')]);

    cli.on('record add', { code: 2, stderr: 'fluxloop: app/agent.js:7: no function contains line 7, column 1, or begins on that line\n' });
    cursorAt(6, 0);
    await vscode.commands.executeCommand('fluxloop.recordThisFunction');
    expect(fake.messages.at(-1)).toMatchObject({ level: 'error', text: 'fluxloop: app/agent.js:7: no function contains line 7, column 1, or begins on that line' });
  });

  it('asks to save a file with unsaved changes first, as the CLI reads the saved file', async () => {
    const { cli, cursorAt, file } = setUp();
    let saved = 0;
    fake.textDocuments = [{ uri: file, isDirty: true, save: async () => (saved++, true) }];
    cursorAt(3, 5);

    await vscode.commands.executeCommand('fluxloop.recordThisFunction');
    expect([saved, cli.calls.length]).toEqual([0, 0]);

    fake.answer = () => 'Save and Record';
    await vscode.commands.executeCommand('fluxloop.recordThisFunction');
    expect([saved, cli.calls.length]).toEqual([1, 1]);
  });

  it('refuses a file outside the projects, naming it', async () => {
    const { cli } = setUp();
    const at = new Position(0, 0);
    fake.activeTextEditor = { document: { uri: Uri.file('/elsewhere/tool.js') }, selection: new Selection(at, at) };

    await vscode.commands.executeCommand('fluxloop.recordThisFunction');

    expect(fake.texts()).toEqual(['tool.js is not in a FluxLoop project (a folder with configs/simulation.yaml).']);
    expect(cli.calls).toEqual([]);
  });
});

describe('the Record This Function CodeLens', () => {
  it('stands over each function, method and constructor, and records it by its own position', async () => {
    const { project, cli, file } = setUp();
    const lens = new RecordCodeLens(() => [project]);
    const document = { uri: file } as vscode.TextDocument;

    const lenses = await lens.provideCodeLenses(document);
    expect(lenses.map((l) => [l.command?.title, l.range.start.line, l.command?.tooltip])).toEqual([
      ['Record This Function', 1, 'Add reply to recording.targets in configs/simulation.yaml'],
      ['Record This Function', 2, 'Add fix to recording.targets in configs/simulation.yaml'],
    ]);

    await vscode.commands.executeCommand(lenses[1]!.command!.command, ...lenses[1]!.command!.arguments!);
    expect(cli.commands()).toEqual(['record add app/agent.js --at 3:5 --json']);
  });

  it('is not shown when the setting is off, nor outside the projects, nor in node_modules', async () => {
    const { project, file } = setUp();
    const lens = new RecordCodeLens(() => [project]);
    const at = (f: string) => ({ uri: Uri.file(f) }) as vscode.TextDocument;

    expect(await lens.provideCodeLenses(at('/elsewhere/tool.js'))).toEqual([]);
    expect(await lens.provideCodeLenses(at(path.join(project.root, 'node_modules', 'x', 'index.js')))).toEqual([]);
    fake.config.set('fluxloop.codeLens', false);
    expect(await lens.provideCodeLenses(at(file.fsPath))).toEqual([]);
  });
});
