import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { project } from './helpers';

/** Runs `code` as an ESM or CommonJS snippet in the project and gives back what it printed. */
function evaluate(dir: string, inputType: 'module' | 'commonjs', code: string): string {
  const run = spawnSync(process.execPath, [`--input-type=${inputType}`, '-e', code], { cwd: dir, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.trim();
}

describe('the package', () => {
  it('offers the same SDK to ESM and CommonJS, from one build', () => {
    const dir = project('esm-app');
    const cjs = JSON.parse(evaluate(dir, 'commonjs', "console.log(JSON.stringify(Object.keys(require('fluxloop')).filter((k) => k !== '__esModule').sort()))"));
    const esm = JSON.parse(evaluate(dir, 'module', "const m = await import('fluxloop'); console.log(JSON.stringify(Object.keys(m).sort()))"));
    expect(esm).toEqual(cjs);
    expect(cjs).toEqual(expect.arrayContaining(['trace', 'recordCallArgs', 'decode', 'runInReplay']));
    const same = evaluate(dir, 'module', "import { createRequire } from 'node:module'; const m = await import('fluxloop'); console.log(m.trace === createRequire(import.meta.url)('fluxloop').trace)");
    expect(same).toBe('true');
  });
});
