import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../e2e/helpers';

interface Result {
  title: string;
  columns: string[];
  rows: string[][];
  checks: string[];
}

// The benchmarks' figures are read by people, from `npm run bench`; this only makes sure that
// every benchmark still runs, checks what it measured (each throws when a run did not do what
// its row says) and reports, so that they cannot rot between the times someone runs them.
describe('npm run bench -- --quick', () => {
  it('runs every benchmark to a table, and loses no record under sustained load', () => {
    const run = spawnSync(process.execPath, [path.join(REPO, 'bench', 'run.mjs'), '--quick', '--json'], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const results = JSON.parse(run.stdout) as Record<string, Result>;
    expect(Object.keys(results)).toEqual(['overhead', 'sustained', 'startup', 'replay', 'scaleout']);
    for (const result of Object.values(results)) {
      expect(result.rows.length).toBeGreaterThan(0);
      for (const row of result.rows) expect(row).toHaveLength(result.columns.length);
    }
    // The transform and the wrapper measured side by side at each of the five sizes, whichever is faster.
    const sideBySide = results.overhead.checks.filter((check) => /^[✓✗] [\d.]+ [KM]?B: a transformed target costs [\d.]+× a wrapped one \(goal ≤ 1\.0×\)$/.test(check));
    expect(sideBySide).toHaveLength(5);
    const lossless = results.sustained.checks.find((check) => check.includes('records of'));
    expect(lossless).toMatch(/^✓ 100,000 records of 100,000 calls in the file, in order: none lost$/);
  }, 300_000);

  it('names an unknown benchmark and exits 2', () => {
    const run = spawnSync(process.execPath, [path.join(REPO, 'bench', 'run.mjs'), '--only', 'startpu'], { cwd: REPO, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown benchmark "startpu"; choose from overhead, sustained, startup, replay, scaleout');
  });
});
