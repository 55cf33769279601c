import path from 'node:path';
import type { InputEntry } from './cli-json';
import { cut } from './format';
import type { Project } from './projects';
import type { Store } from './store';
import { errorItem, Item } from './tree-item';
import { TreeBase } from './tree-base';

const LABEL_CHARS = 60;

/** The Inputs view: Generate Inputs…, then the inputs the experiments run on. */
export class InputsTree extends TreeBase {
  constructor(private readonly store: Store, projects: () => readonly Project[]) {
    super(projects, 'inputs');
  }

  protected async sections(project: Project): Promise<Item[]> {
    const id = `${this.view}:${project.root}`;
    const generate = new Item('Generate Inputs…', {
      id: `${id}/generate`,
      project,
      contextValue: 'generateInputs',
      icon: 'sparkle',
      command: 'fluxloop.generateInputs',
      tooltip: 'Write variations of the recorded messages (or of base_inputs) to the inputs file (fluxloop generate inputs)',
    });
    return [generate, ...(await this.inputs(project, id))];
  }

  private async inputs(project: Project, id: string): Promise<Item[]> {
    const list = await this.store.inputs(project);
    if (!list.ok) return [errorItem(project, id, list.error)];
    const { file, exists, inputs } = list.value;
    const shown = path.relative(project.root, file).split(path.sep).join('/');
    if (!exists || inputs.length === 0) {
      const label = exists ? `No inputs in ${shown}` : `No inputs yet — Generate Inputs writes ${shown}`;
      return [new Item(label, { id: `${id}/none`, project, contextValue: 'noInputs', icon: 'info', file: exists ? file : undefined, command: exists ? 'fluxloop.openFile' : undefined })];
    }
    return inputs.map((entry) => inputItem(project, id, file, entry));
  }
}

function inputItem(project: Project, id: string, file: string, entry: InputEntry): Item {
  const strategy = entry.metadata?.['strategy'];
  return new Item(cut(entry.input, LABEL_CHARS), {
    id: `${id}/${entry.index}`,
    project,
    contextValue: 'input',
    icon: 'comment',
    command: 'fluxloop.openFile',
    file,
    line: entry.line,
    description: typeof strategy === 'string' ? strategy : undefined,
    tooltip: entry.input,
  });
}
