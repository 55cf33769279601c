import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandHandlers } from '../src/commands';
import { FakeCli, services } from './helpers';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
const { commands, menus } = manifest.contributes as {
  commands: { command: string; title: string; category: string; icon?: string }[];
  menus: Record<string, { command: string; when?: string; group?: string }[]>;
};

/** The contextValues the trees give their items, as the sources write them. */
function contextValues(): Set<string> {
  const src = path.join(__dirname, '..', 'src');
  const values = new Set<string>();
  for (const file of fs.readdirSync(src)) {
    for (const [, expression] of fs.readFileSync(path.join(src, file), 'utf8').matchAll(/contextValue: ([^,\n]+)/g)) {
      for (const [, value] of expression!.matchAll(/'(\w+)'/g)) values.add(value!);
    }
  }
  return values;
}

describe("the extension's manifest", () => {
  it('titles the palette commands exactly as the issue does, in the FluxLoop category', () => {
    const palette = new Set(menus['commandPalette']!.filter((m) => m.when !== 'false').map((m) => m.command));
    expect(commands.filter((c) => palette.has(c.command)).map((c) => `${c.category}: ${c.title}`)).toEqual([
      'FluxLoop: Enable Recording',
      'FluxLoop: Disable Recording',
      'FluxLoop: Show Recording Status',
      'FluxLoop: Generate Inputs',
      'FluxLoop: Run Experiment',
      'FluxLoop: Evaluate Experiment',
      'FluxLoop: Open Report',
      'FluxLoop: Run Doctor',
      'FluxLoop: Show Environment Info',
      'FluxLoop: Record This Function',
      'FluxLoop: Initialize Project',
    ]);
    // The tree's helpers are hidden from the palette.
    expect(menus['commandPalette']!.filter((m) => m.when === 'false').map((m) => m.command)).toEqual(['fluxloop.refresh', 'fluxloop.toggleRecording', 'fluxloop.openFile']);
  });

  it('has a handler for each command, and a command for each menu entry', () => {
    const handlers = Object.keys(commandHandlers(services([], new FakeCli()), () => undefined));
    expect(handlers.sort()).toEqual(commands.map((c) => c.command).sort());
    const ids = new Set(commands.map((c) => c.command));
    for (const [menu, entries] of Object.entries(menus)) for (const entry of entries) expect(ids.has(entry.command), `${menu}: ${entry.command}`).toBe(true);
  });

  it('puts Enable Recording and Disable Recording, with icons, as inline buttons on Recording (Advanced)', () => {
    const inline = menus['view/item/context']!.filter((m) => m.group?.startsWith('inline') && m.when?.includes('viewItem == recordingSection'));
    expect(inline.map((m) => m.command)).toEqual(['fluxloop.enableRecording', 'fluxloop.disableRecording']);
    for (const m of inline) expect(commands.find((c) => c.command === m.command)!.icon).toMatch(/^\$\(/);
  });

  it('names in its `when` clauses only contextValues the trees give', () => {
    const named = Object.values(menus).flat().flatMap((m) => [...(m.when ?? '').matchAll(/viewItem == (\w+)/g)].map((x) => x[1]!));
    const given = contextValues();
    expect([...given]).toEqual(expect.arrayContaining(['recordingSection', 'experimentWithReport', 'experiment', 'project', 'recordModeEnabled', 'recordModeDisabled']));
    expect(named.length).toBeGreaterThan(0);
    for (const value of named) expect([...given]).toContain(value);
  });

  it('activates on a project in the folder or a subfolder, and ships no runtime dependencies', () => {
    expect(manifest.activationEvents).toEqual(['workspaceContains:configs/simulation.yaml', 'workspaceContains:*/configs/simulation.yaml']);
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.devDependencies['@types/vscode']).toBe('~1.90.0');
    expect(manifest.engines.vscode).toBe('^1.90.0');
  });
});
