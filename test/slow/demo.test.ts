import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO } from '../e2e/helpers';

// The quick start's first command, as a newcomer sees it: short, in order, and ending on the report.
it('the demo records, replays and scores both examples, quietly, and ends with the report', () => {
  const run = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'demo.mjs')], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  expect(run.status, run.stderr).toBe(0);
  const lines = run.stdout.trimEnd().split('\n');
  expect(lines.length).toBeLessThan(150);
  // One record shown per example, as one call.
  expect(lines.filter((line) => /calls recorded in recordings\/args_recording\.jsonl; the first:$/.test(line))).toHaveLength(2);
  expect(run.stdout).toContain('  app/agent.js:handleMessage({"userId":"u-1001","message":"Hi, can I get a refund for order 42?","channel":"web"}, {"send":"<callable:send>"})');
  // Runs grouped by input, each group's recordings in order.
  const groups = run.stdout.split('The runs, by input')[1]!.split('\n=== ')[0]!;
  const indexes = [...groups.matchAll(/^ {4}recording #(\d+) /gm)].map((m) => Number(m[1]));
  expect(indexes.length).toBeGreaterThan(3);
  expect(indexes.slice(0, 3)).toEqual([...indexes.slice(0, 3)].sort((a, b) => a - b));
  // The generated inputs vary what was recorded, not the config's placeholders.
  expect(run.stdout).toMatch(/base {9}"Hi, can I get a refund for order 42\?"/);
  const last = lines.at(-1)!;
  expect(last).toMatch(/^The report, to open in a browser: examples\/support-agent\/experiments\/support-agent_\d{8}_\d{6}\/report\.html$/);
  expect(fs.existsSync(path.join(REPO, last.split(': ')[1]!))).toBe(true);
}, 180_000);
