import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '../..');
const READER = path.join(REPO, 'dist', 'replay', 'reader.js');
const LINES = 1_000_000;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-stream-'));
const file = path.join(dir, 'args_recording.jsonl');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A recorder line of about 190 bytes. */
const line = (i: number) =>
  `{"_version":"1","function":"handle","target":"app/a.js:handle","iteration":${i},"args":["u${i % 97}",${i}],"kwargs":{},"params":["id","n"],"timestamp":"2026-03-01T10:00:00.000Z","meta":{"pid":42}}\n`;

beforeAll(async () => {
  const out = fs.createWriteStream(file);
  for (let i = 0; i < LINES; ) {
    let chunk = '';
    for (const end = Math.min(i + 10_000, LINES); i < end; i++) chunk += line(i);
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => out.end(() => resolve()).on('error', reject));
}, 120_000);

/** `node <args>` in a process of its own, so that the test runner's heap does not count. */
function node(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject).on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Runs in its own process, so that the test runner's heap does not count.
const SCRIPT = `
const { readRecordings } = require(${JSON.stringify(READER)});
(async () => {
  const start = performance.now();
  let count = 0, skipped = 0, last;
  let peakRss = process.memoryUsage().rss;
  for await (const record of readRecordings(process.argv[2], { onSkip: () => skipped++ })) {
    last = record;
    if (++count % 10000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  process.stdout.write(JSON.stringify({ count, skipped, last, peakRss, ms: Math.round(performance.now() - start) }));
})();
`;

it('streams a million-line recording in flat memory', async () => {
  expect(fs.existsSync(READER), 'build first: npm run build').toBe(true);
  const script = path.join(dir, 'count.js');
  fs.writeFileSync(script, SCRIPT);
  const { code, stdout, stderr } = await node([script, file]);
  expect(code, stderr).toBe(0);
  const result = JSON.parse(stdout);
  expect(result).toMatchObject({ count: LINES, skipped: 0, last: { index: LINES - 1, line: LINES, args: [`u${(LINES - 1) % 97}`, LINES - 1], shape: 'node' } });
  expect(result.peakRss).toBeLessThan(200 * 1024 * 1024);
  console.log(`read ${LINES} records (${(fs.statSync(file).size / 1e6).toFixed(0)} MB) in ${result.ms} ms, peak RSS ${(result.peakRss / 1024 / 1024).toFixed(1)} MiB`);
}, 120_000);

it('checks a million-line recording through `fluxloop run experiment --dry-run` in flat memory', async () => {
  const project = path.join(dir, 'project');
  fs.mkdirSync(path.join(project, 'app'), { recursive: true });
  fs.mkdirSync(path.join(project, 'configs'));
  fs.writeFileSync(path.join(project, 'package.json'), '{"type":"module"}\n');
  fs.writeFileSync(path.join(project, 'app', 'a.js'), 'export function handle(id, n) { return n; }\n');
  fs.writeFileSync(
    path.join(project, 'configs', 'simulation.yaml'),
    `runner: { target: app/a.js:handle }\nreplay_args: { enabled: true, recording_file: ${JSON.stringify(file)}, override_param_path: kwargs.n }\nbase_inputs: [hi]\n`,
  );
  // The CLI's peak resident set, as the kernel counted it, written when it exits.
  const probe = path.join(dir, 'rss.cjs');
  fs.writeFileSync(probe, `process.on('exit', () => require('node:fs').writeSync(2, '\\nmaxRSS=' + process.resourceUsage().maxRSS + '\\n'));\n`);
  const { code, stdout, stderr } = await node(['--require', probe, path.join(REPO, 'bin', 'fluxloop.js'), 'run', 'experiment', '--dry-run', '--json', '--project-dir', project]);
  expect(code, stderr).toBe(0);
  const plan = JSON.parse(stdout);
  expect(plan.setup.replay).toMatchObject({ count: LINES, resolved: LINES });
  expect(plan.setup.total).toBe(LINES);
  expect(plan.first.location).toBe('args.1');
  const maxRssKiB = Number(/maxRSS=(\d+)/.exec(stderr)![1]);
  expect(maxRssKiB * 1024).toBeLessThan(200 * 1024 * 1024);
  expect(fs.existsSync(path.join(project, 'experiments'))).toBe(false);
  console.log(`checked ${LINES} recordings with the CLI, peak RSS ${(maxRssKiB / 1024).toFixed(1)} MiB`);
}, 120_000);
