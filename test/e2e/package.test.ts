import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { project } from './helpers';

function keysOf(dir: string, file: string, code: string): string[] {
  const run = spawnSync(process.execPath, ['--input-type=' + file, '-e', code], { cwd: dir, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout);
}

describe('the package', () => {
  it('offers the same SDK to ESM and CommonJS, from one build', () => {
    const dir = project('esm-app');
    const cjs = keysOf(dir, 'commonjs', "console.log(JSON.stringify(Object.keys(require('fluxloop')).filter((k) => k !== '__esModule').sort()))");
    const esm = keysOf(dir, 'module', "const m = await import('fluxloop'); console.log(JSON.stringify(Object.keys(m).sort()))");
    expect(esm).toEqual(cjs);
    expect(cjs).toEqual(expect.arrayContaining(['trace', 'recordCallArgs', 'decode', 'runInReplay']));
    const same = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "import { createRequire } from 'node:module'; const m = await import('fluxloop'); console.log(m.trace === createRequire(import.meta.url)('fluxloop').trace)"],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(same.stdout.trim()).toBe('true');
  });
});
