import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, project, readRecords } from '../e2e/helpers';

const npm = (args: string[], cwd: string) => {
  const run = spawnSync('npm', args, { cwd, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
};

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-pack-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the packed package', () => {
  // The dist that `npm run test:slow` has just built from an empty folder, as `npm pack` (through
  // the prepare script) would; building again here would pull dist from under the other tests.
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], REPO)) as [{ filename: string; files: { path: string }[] }];
  const files = packed.files.map((f) => f.path).sort();

  it('holds what a user needs, and nothing else', () => {
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'register.mjs', 'index.mjs', 'bin/fluxloop.js', 'dist/cli/main.js', 'dist/index.d.ts', 'assets/report/report.js']));
    const outside = files.filter((f) => !/^(dist\/|assets\/report\/|bin\/fluxloop\.js$|LICENSE$|README\.md$|package\.json$|register\.mjs$|index\.mjs$)/.test(f));
    expect(outside).toEqual([]);
    // Every built file has its source: nothing left over from a module that is gone.
    const stale = files
      .filter((f) => f.startsWith('dist/'))
      .map((f) => f.replace(/^dist\//, 'src/').replace(/\.d\.ts$|\.js$/, '.ts').replace(/\.d\.mts$|\.mjs$/, '.mts'))
      .filter((source) => !fs.existsSync(path.join(REPO, source)));
    expect(stale).toEqual([]);
  });

  it('installed from its tarball, records an app and runs the CLI', () => {
    // What `npm install fluxloop-0.1.0.tgz` puts in node_modules, with the dependencies the
    // registry would give linked from this repository's own.
    const dir = project('esm-app');
    const installed = path.join(dir, 'node_modules', 'fluxloop');
    fs.rmSync(installed);
    fs.mkdirSync(installed);
    const untar = spawnSync('tar', ['-xzf', path.join(work, packed.filename), '-C', installed, '--strip-components=1']);
    expect(untar.status, String(untar.stderr)).toBe(0);
    const dependencies = Object.keys((JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    for (const name of dependencies) {
      fs.mkdirSync(path.dirname(path.join(installed, 'node_modules', name)), { recursive: true });
      fs.symlinkSync(path.join(REPO, 'node_modules', name), path.join(installed, 'node_modules', name), 'dir');
    }

    const cli = (args: string[]) => spawnSync(process.execPath, [path.join(installed, 'bin', 'fluxloop.js'), ...args], { cwd: dir, encoding: 'utf8' });
    expect(cli(['--version']).stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
    expect(cli(['record', 'enable']).status).toBe(0);
    const app = spawnSync(process.execPath, ['--import', 'fluxloop/register', 'app/main.js'], { cwd: dir, encoding: 'utf8' });
    expect(app.status, app.stderr).toBe(0);
    expect(readRecords(dir).length).toBeGreaterThan(0);
    expect(fs.realpathSync(path.join(dir, 'node_modules', 'fluxloop'))).not.toBe(REPO);
  });
});
