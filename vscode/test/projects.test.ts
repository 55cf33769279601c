import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliArgv } from '../src/cli-argv';
import { findProjects, projectOfFile } from '../src/projects';

function workspace(files: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-vscode-ws-'));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), '');
  }
  return dir;
}

describe('the projects of a workspace', () => {
  it('is each folder with configs/simulation.yaml, else its subfolders with one, else the folder the setting names', () => {
    const ws = workspace([
      'api/configs/simulation.yaml',
      'mono/agents/bot/configs/simulation.yaml',
      'multi/a/configs/simulation.yaml',
      'multi/b/configs/simulation.yaml',
      'multi/node_modules/pkg/configs/simulation.yaml',
      'multi/.hidden/configs/simulation.yaml',
      'nothing/src/index.js',
    ]);
    const folder = (name: string, projectRoot = '') => ({ name, path: path.join(ws, name), projectRoot });

    expect(
      findProjects([folder('api'), folder('mono', 'agents/bot'), folder('multi'), folder('nothing'), folder('api', 'missing')]).map((p) => [p.name, p.root, p.folder]),
    ).toEqual([
      ['api', path.join(ws, 'api'), path.join(ws, 'api')],
      ['mono/agents/bot', path.join(ws, 'mono/agents/bot'), path.join(ws, 'mono')],
      ['multi/a', path.join(ws, 'multi/a'), path.join(ws, 'multi')],
      ['multi/b', path.join(ws, 'multi/b'), path.join(ws, 'multi')],
    ]);
  });

  it('finds the project of a file: the innermost holding it', () => {
    const outer = { name: 'o', root: '/w/app', folder: '/w' };
    const inner = { name: 'i', root: '/w/app/sub', folder: '/w' };
    expect(projectOfFile([outer, inner], '/w/app/sub/agent.js')).toBe(inner);
    expect(projectOfFile([outer, inner], '/w/app/agent.js')).toBe(outer);
    expect(projectOfFile([outer, inner], '/w/application/agent.js')).toBeUndefined();
    expect(projectOfFile([outer, inner], '/w/app')).toBeUndefined();
  });
});

describe('the argv that runs the CLI', () => {
  const where = { root: '/w/mono/app', folder: '/w/mono' };

  it('is the setting when set, with ${projectRoot} and ${workspaceFolder} replaced', () => {
    expect(cliArgv(['node', '${workspaceFolder}/tools/fluxloop.js', '--debug'], where, () => true)).toEqual(['node', '/w/mono/tools/fluxloop.js', '--debug']);
    expect(cliArgv('node  ${projectRoot}/cli.js', where, () => true)).toEqual(['node', '/w/mono/app/cli.js']);
  });

  it("is else the nearest node_modules/.bin/fluxloop, in the root or a folder above it", () => {
    const existing = new Set(['/w/mono/node_modules/.bin/fluxloop', '/w/node_modules/.bin/fluxloop']);
    expect(cliArgv([], where, (f) => existing.has(f), 'linux')).toEqual(['/w/mono/node_modules/.bin/fluxloop']);
    expect(cliArgv(undefined, where, (f) => f === '/w/mono/app/node_modules/.bin/fluxloop.cmd', 'win32')).toEqual(['/w/mono/app/node_modules/.bin/fluxloop.cmd']);
  });

  it('is else npx, which must neither install a package of that name from the registry nor take the options as its own', () => {
    expect(cliArgv([], where, () => false, 'linux')).toEqual(['npx', '--no', '--', 'fluxloop']);
    expect(cliArgv(['', ''], where, () => false, 'win32')).toEqual(['npx.cmd', '--no', '--', 'fluxloop']);
  });
});
