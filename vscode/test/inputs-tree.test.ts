import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { fake } from './fake-vscode';
import { InputsTree } from '../src/inputs-tree';
import { Store } from '../src/store';
import { FakeCli, tempProject } from './helpers';

beforeEach(() => fake.reset());

describe('the Inputs view', () => {
  it('shows Generate Inputs… and each input, cut to one short line, opening the file at its line', async () => {
    const project = tempProject();
    const file = path.join(project.root, 'inputs', 'generated.yaml');
    const long = `Hi, I ordered a blue jacket last week\nand it has not arrived; ${'where is it? '.repeat(5)}`;
    const cli = new FakeCli().on('list inputs --json', {
      stdout: {
        file,
        exists: true,
        inputs: [
          { index: 0, line: 6, input: 'Can I get a refund?', metadata: { strategy: 'base' } },
          { index: 1, line: 15, input: long, metadata: null },
          { index: 2, line: 20, input: '{"text":"hi"}', metadata: { strategy: 7 } },
        ],
      },
    });
    const tree = new InputsTree(new Store(cli), () => [project]);
    const items = await tree.getChildren();

    expect(items.map((i) => i.label)).toEqual([
      'Generate Inputs…',
      'Can I get a refund?',
      'Hi, I ordered a blue jacket last week and it has not arrive…',
      '{"text":"hi"}',
    ]);
    expect((items[2]!.label as string).length).toBe(60);
    expect(items[2]!.tooltip).toBe(long);
    expect(items.map((i) => i.description)).toEqual([undefined, 'base', undefined, undefined]);
    expect(items.map((i) => i.contextValue)).toEqual(['generateInputs', 'input', 'input', 'input']);
    expect(items[0]!.command).toMatchObject({ command: 'fluxloop.generateInputs', arguments: [{ project }] });
    expect(items[1]!.command).toMatchObject({ command: 'fluxloop.openFile', arguments: [{ file, line: 6 }] });
  });

  it('says that there are no inputs yet, naming the file Generate Inputs writes', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('list inputs --json', { stdout: { file: path.join(project.root, 'inputs', 'generated.yaml'), exists: false, inputs: [] } });
    const items = await new InputsTree(new Store(cli), () => [project]).getChildren();

    expect(items.map((i) => [i.label, i.contextValue])).toEqual([
      ['Generate Inputs…', 'generateInputs'],
      ['No inputs yet — Generate Inputs writes inputs/generated.yaml', 'noInputs'],
    ]);
  });

  it("shows the CLI's message when it cannot list the inputs", async () => {
    const project = tempProject();
    const cli = new FakeCli().on('list inputs --json', { code: 2, stderr: 'fluxloop: inputs/generated.yaml:4: inputs: must be a list\n' });
    const items = await new InputsTree(new Store(cli), () => [project]).getChildren();

    expect(items.map((i) => [i.label, i.contextValue])).toEqual([
      ['Generate Inputs…', 'generateInputs'],
      ['fluxloop: inputs/generated.yaml:4: inputs: must be a list', 'error'],
    ]);
  });
});
