import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fake, Position, Selection, Uri } from './fake-vscode';
import { RecordingStatusBar } from '../src/status-bar';
import { Store } from '../src/store';
import { ProjectWatcher, DEBOUNCE_MS } from '../src/watch';
import { FakeCli, status, tempProject } from './helpers';
import path from 'node:path';

beforeEach(() => fake.reset());

describe('the status bar item', () => {
  it("shows whether the active editor's project records, and toggles it on click", async () => {
    const [one, two] = [tempProject('one'), tempProject('two')];
    let on = false;
    const cli = new FakeCli().on('record status --json', () => ({ stdout: status(on ? one : two, { on }) }));
    const store = new Store(cli);
    const bar = new RecordingStatusBar(store, () => [one, two]);
    const [item] = fake.statusBarItems;

    await bar.update();
    expect([item!.visible, item!.text]).toEqual([true, '$(circle-slash) FluxLoop: Recording off']);
    expect(item!.command).toEqual({ command: 'fluxloop.toggleRecording', title: 'Enable Recording', arguments: [{ project: one }] });
    expect(item!.tooltip).toBe('FluxLoop (one): recording is off (from default). Click to enable it.');

    on = true;
    const at = new Position(0, 0);
    fake.activeTextEditor = { document: { uri: Uri.file(path.join(two.root, 'app.js')) }, selection: new Selection(at, at) };
    await bar.update();
    expect([item!.text, item!.command]).toEqual(['$(record) FluxLoop: Recording on', { command: 'fluxloop.toggleRecording', title: 'Disable Recording', arguments: [{ project: two }] }]);
  });

  it('warns with the CLI message when the status cannot be read, and hides without a project', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('record status --json', { code: 2, stderr: 'fluxloop: .env:2: bad line\n' });
    let projects = [project];
    const bar = new RecordingStatusBar(new Store(cli), () => projects);
    const [item] = fake.statusBarItems;

    await bar.update();
    expect([item!.text, item!.tooltip, item!.command]).toEqual(['$(warning) FluxLoop', 'FluxLoop: fluxloop: .env:2: bad line', 'fluxloop.showRecordingStatus']);
    projects = [];
    await bar.update();
    expect(item!.visible).toBe(false);
  });
});

describe('the watchers', () => {
  it("watch each project's recordings/, experiments/, inputs/, .env and configs/, and report a burst once", async () => {
    vi.useFakeTimers();
    try {
      const project = tempProject();
      const changed: [string, string[]][] = [];
      const watcher = new ProjectWatcher((p, kinds) => changed.push([p.root, kinds.sort()]));
      watcher.watch([project]);

      expect(fake.watchers.map((w) => [typeof w.pattern === 'string' ? w.pattern : [w.pattern.base.fsPath, w.pattern.pattern]])).toEqual(
        ['recordings/**', 'experiments/**', 'inputs/**', '.env', 'configs/**'].map((glob) => [[project.root, glob]]),
      );
      const [recordings, experiments, , dotenv] = fake.watchers;
      recordings!.fireChange(path.join(project.root, 'recordings', 'args_recording.jsonl'));
      experiments!.fireChange(path.join(project.root, 'experiments', 'x', 'traces.jsonl'));
      vi.advanceTimersByTime(DEBOUNCE_MS - 1);
      dotenv!.fireChange(path.join(project.root, '.env'));
      vi.advanceTimersByTime(DEBOUNCE_MS - 1);
      expect(changed).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(changed).toEqual([[project.root, ['env', 'experiments', 'status']]]);

      watcher.watch([]);
      expect(fake.watchers.every((w) => w.disposed)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
