// A small stand-in for the `vscode` module, which exists only inside VS Code's extension host:
// the vitest project "vscode" aliases `vscode` to this file. It keeps what the extension did (the
// messages it showed, the files it opened, its progress reports) in `fake`, where the tests read
// it, and answers the extension's questions (buttons, quick picks) as the tests tell it to.
import path from 'node:path';

export class Disposable {
  constructor(private readonly callOnDispose: () => unknown = () => undefined) {}
  dispose(): void {
    this.callOnDispose();
  }
}

export class EventEmitter<T> {
  private listeners = new Set<(e: T) => unknown>();
  readonly event = (listener: (e: T) => unknown): Disposable => {
    this.listeners.add(listener);
    return new Disposable(() => this.listeners.delete(listener));
  };
  fire(e: T): void {
    for (const listener of [...this.listeners]) listener(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(file: string): Uri {
    return new Uri('file', path.resolve(file));
  }
  static parse(value: string): Uri {
    return value.startsWith('file://') ? Uri.file(decodeURIComponent(value.slice(7))) : new Uri(value.split(':')[0]!, value);
  }
  get path(): string {
    return this.fsPath;
  }
  toString(): string {
    return this.scheme === 'file' ? `file://${this.fsPath}` : this.fsPath;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
  compareTo(other: Position): number {
    return this.line - other.line || this.character - other.character;
  }
  isBefore(other: Position): boolean {
    return this.compareTo(other) < 0;
  }
  isAfter(other: Position): boolean {
    return this.compareTo(other) > 0;
  }
  isEqual(other: Position): boolean {
    return this.compareTo(other) === 0;
  }
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    this.start = a instanceof Position ? a : new Position(a, b as number);
    this.end = b instanceof Position ? b : new Position(c!, d!);
  }
  contains(p: Position): boolean {
    return this.start.compareTo(p) <= 0 && p.compareTo(this.end) <= 0;
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor, active);
  }
}

export enum SymbolKind {
  File = 0, Module = 1, Namespace = 2, Package = 3, Class = 4, Method = 5, Property = 6, Field = 7,
  Constructor = 8, Enum = 9, Interface = 10, Function = 11, Variable = 12, Constant = 13,
}

export class DocumentSymbol {
  children: DocumentSymbol[] = [];
  constructor(
    readonly name: string,
    readonly detail: string,
    readonly kind: SymbolKind,
    readonly range: Range,
    readonly selectionRange: Range,
  ) {}
}

export enum TreeItemCollapsibleState { None = 0, Collapsed = 1, Expanded = 2 }

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export class MarkdownString {
  constructor(readonly value = '') {}
}

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: string | MarkdownString;
  iconPath?: ThemeIcon;
  contextValue?: string;
  resourceUri?: Uri;
  accessibilityInformation?: { label: string };
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    readonly label: string,
    readonly collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export class CodeLens {
  constructor(
    readonly range: Range,
    readonly command?: { title: string; command: string; tooltip?: string; arguments?: unknown[] },
  ) {}
}

export class RelativePattern {
  constructor(
    readonly base: Uri,
    readonly pattern: string,
  ) {}
}

export enum ProgressLocation { SourceControl = 1, Window = 10, Notification = 15 }
export enum StatusBarAlignment { Left = 1, Right = 2 }
export enum ViewColumn { Active = -1, One = 1 }

export interface Message {
  level: 'info' | 'warning' | 'error';
  text: string;
  items: string[];
  modal: boolean;
}

export class FakeWatcher {
  private readonly created = new EventEmitter<Uri>();
  private readonly changed = new EventEmitter<Uri>();
  private readonly deleted = new EventEmitter<Uri>();
  readonly onDidCreate = this.created.event;
  readonly onDidChange = this.changed.event;
  readonly onDidDelete = this.deleted.event;
  disposed = false;
  constructor(readonly pattern: RelativePattern | string) {}
  /** What VS Code does when a file the pattern matches is written. */
  fireChange(file: string): void {
    this.changed.fire(Uri.file(file));
  }
  dispose(): void {
    this.disposed = true;
  }
}

export class FakeStatusBarItem {
  text = '';
  tooltip: string | undefined;
  name: string | undefined;
  command: unknown;
  accessibilityInformation: { label: string } | undefined;
  visible = false;
  constructor(readonly id: string) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {}
}

export class FakeWebviewPanel {
  readonly webview = { html: '' };
  revealed = 0;
  private readonly disposed = new EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  constructor(
    readonly viewType: string,
    readonly title: string,
    readonly column: ViewColumn,
    readonly options: Record<string, unknown>,
  ) {}
  reveal(): void {
    this.revealed++;
  }
  dispose(): void {
    this.disposed.fire();
  }
}

/** The cancellation token of a withProgress task; `cancel()` is the user's click on Cancel. */
export class FakeToken {
  isCancellationRequested = false;
  private readonly requested = new EventEmitter<void>();
  readonly onCancellationRequested = this.requested.event;
  cancel(): void {
    this.isCancellationRequested = true;
    this.requested.fire();
  }
}

type Answer = (message: Message) => string | undefined;
type Builtin = (...args: unknown[]) => unknown;

/** What the extension did, and how the "user" answers it; `reset()` between tests. */
export const fake = {
  messages: [] as Message[],
  /** The button the user clicks on a message; none by default. */
  answer: (() => undefined) as Answer,
  /** The item the user picks in a quick pick; the first by default. */
  pick: <T>(items: T[]): T | undefined => items[0],
  quickPicks: [] as unknown[][],
  progress: [] as { title: string; cancellable: boolean; reports: { message?: string; increment?: number }[]; token: FakeToken }[],
  /** Called with the token of each withProgress task as it starts, e.g. to cancel it. */
  onProgress: (() => undefined) as (token: FakeToken) => void,
  output: [] as string[],
  outputShown: 0,
  opened: [] as { file: string; options?: { selection?: Range } }[],
  external: [] as string[],
  webviews: [] as FakeWebviewPanel[],
  statusBarItems: [] as FakeStatusBarItem[],
  watchers: [] as FakeWatcher[],
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  /** Commands that VS Code itself provides, as the test stands them in. */
  builtins: new Map<string, Builtin>(),
  context: new Map<string, unknown>(),
  config: new Map<string, unknown>(),
  treeProviders: new Map<string, unknown>(),
  workspaceFolders: undefined as { name: string; uri: Uri; index: number }[] | undefined,
  textDocuments: [] as { uri: Uri; isDirty: boolean; save(): Promise<boolean> }[],
  activeTextEditor: undefined as { document: { uri: Uri }; selection: Selection } | undefined,
  reset(): void {
    this.messages = [];
    this.answer = () => undefined;
    this.pick = (items) => items[0];
    this.quickPicks = [];
    this.progress = [];
    this.onProgress = () => undefined;
    this.output = [];
    this.outputShown = 0;
    this.opened = [];
    this.external = [];
    this.webviews = [];
    this.statusBarItems = [];
    this.watchers = [];
    this.commands.clear();
    this.builtins.clear();
    this.context.clear();
    this.config.clear();
    this.treeProviders.clear();
    this.workspaceFolders = undefined;
    this.textDocuments = [];
    this.activeTextEditor = undefined;
  },
  /** The texts of the messages shown so far. */
  texts(): string[] {
    return this.messages.map((m) => m.text);
  },
};

function message(level: Message['level']) {
  return async (text: string, ...rest: unknown[]): Promise<string | undefined> => {
    const modal = typeof rest[0] === 'object' && rest[0] !== null && (rest[0] as { modal?: boolean }).modal === true;
    const items = rest.filter((r): r is string => typeof r === 'string');
    const shown: Message = { level, text, items, modal };
    fake.messages.push(shown);
    const answer = fake.answer(shown);
    return answer !== undefined && items.includes(answer) ? answer : undefined;
  };
}

export const window = {
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  async showQuickPick<T>(items: T[]): Promise<T | undefined> {
    fake.quickPicks.push(items);
    return fake.pick(items);
  },
  async withProgress<R>(
    options: { title?: string; cancellable?: boolean },
    task: (progress: { report(value: { message?: string; increment?: number }): void }, token: FakeToken) => Thenable<R>,
  ): Promise<R> {
    const token = new FakeToken();
    const entry = { title: options.title ?? '', cancellable: options.cancellable === true, reports: [] as { message?: string; increment?: number }[], token };
    fake.progress.push(entry);
    const running = task({ report: (value) => entry.reports.push(value) }, token);
    fake.onProgress(token);
    return running;
  },
  createOutputChannel(name: string) {
    return {
      name,
      append: (text: string) => fake.output.push(text),
      appendLine: (text: string) => fake.output.push(`${text}\n`),
      show: () => fake.outputShown++,
      dispose: () => undefined,
    };
  },
  createStatusBarItem(id: string) {
    const item = new FakeStatusBarItem(id);
    fake.statusBarItems.push(item);
    return item;
  },
  createWebviewPanel(viewType: string, title: string, column: ViewColumn, options: Record<string, unknown>) {
    const panel = new FakeWebviewPanel(viewType, title, column, options);
    fake.webviews.push(panel);
    return panel;
  },
  async showTextDocument(uri: Uri, options?: { selection?: Range }) {
    fake.opened.push({ file: uri.fsPath, options });
    return {};
  },
  get activeTextEditor() {
    return fake.activeTextEditor;
  },
  onDidChangeActiveTextEditor: new EventEmitter<unknown>().event,
  registerTreeDataProvider(id: string, provider: unknown) {
    fake.treeProviders.set(id, provider);
    return new Disposable();
  },
};

export const workspace = {
  getConfiguration(section: string) {
    return {
      get: <T>(key: string, fallback?: T): T | undefined => (fake.config.has(`${section}.${key}`) ? (fake.config.get(`${section}.${key}`) as T) : fallback),
    };
  },
  get workspaceFolders() {
    return fake.workspaceFolders;
  },
  get textDocuments() {
    return fake.textDocuments;
  },
  createFileSystemWatcher(pattern: RelativePattern | string) {
    const watcher = new FakeWatcher(pattern);
    fake.watchers.push(watcher);
    return watcher;
  },
  onDidChangeWorkspaceFolders: new EventEmitter<unknown>().event,
  onDidChangeConfiguration: new EventEmitter<unknown>().event,
};

export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown) {
    fake.commands.set(id, handler);
    return new Disposable(() => fake.commands.delete(id));
  },
  async executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    if (id === 'setContext') {
      fake.context.set(args[0] as string, args[1]);
      return undefined;
    }
    const handler = fake.commands.get(id) ?? fake.builtins.get(id);
    if (!handler) throw new Error(`fake vscode: no command ${id}`);
    return handler(...args);
  },
};

export const env = {
  async openExternal(uri: Uri): Promise<boolean> {
    fake.external.push(uri.toString());
    return true;
  },
};

export const languages = {
  registerCodeLensProvider: () => new Disposable(),
};
