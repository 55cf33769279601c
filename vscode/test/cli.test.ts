import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { failureMessage, parseProgressLine, SpawnCli, type CliResult, type Progress } from '../src/cli';
import { fake, FakeToken } from './fake-vscode';
import { output, tempProject } from './helpers';

beforeEach(() => fake.reset());

// A stand-in CLI: prints what it was given, some progress and a human line, then does what its
// last argument says.
const SCRIPT = `
const [mode] = process.argv.slice(-1);
const progress = (done, total) => process.stderr.write(JSON.stringify({ progress: { label: 'runs', done, total, detail: done + ' ok' } }) + '\\n');
process.stderr.write('Replaying 3 recorded calls\\n');
progress(1, 3);
// A line split across two writes, as pipes deliver them.
process.stderr.write('{"progress":{"label":"runs",');
setTimeout(() => {
  process.stderr.write('"done":2,"total":3}}\\nnot json {"progress"\\n');
  const seen = { argv: process.argv.slice(2), cwd: process.cwd(), progress: process.env.FLUXLOOP_PROGRESS, noColor: process.env.NO_COLOR };
  if (mode === 'wait') {
    process.on('SIGINT', () => {
      console.log(JSON.stringify({ ...seen, stopped: true }));
      process.exit(130);
    });
    // A CLI at work: the loop stays alive until the signal.
    setInterval(() => undefined, 1000);
    process.stderr.write('waiting\\n');
  } else if (mode === 'fail') {
    process.stderr.write('fluxloop: configs/simulation.yaml:2: runner.target: expected module:export\\n');
    process.exit(2);
  } else {
    progress(3, 3);
    console.log(JSON.stringify(seen));
  }
}, 20);
`;

function cliScript(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-vscode-cli-')), 'fake-cli.js');
  fs.writeFileSync(file, SCRIPT);
  return file;
}

describe('running the CLI', () => {
  it('passes --project-dir and runs in the root, streams stderr to the output channel, and reports progress lines', async () => {
    const project = tempProject();
    const script = cliScript();
    const cli = new SpawnCli(output(), () => [process.execPath, script]);
    const progress: Progress[] = [];
    const result = await cli.run(project, ['run', 'experiment', '--json', 'ok'], { json: true, onProgress: (p) => progress.push(p) });

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      argv: ['--project-dir', project.root, 'run', 'experiment', '--json', 'ok'],
      cwd: fs.realpathSync(project.root),
      progress: 'json',
      noColor: '1',
    });
    expect(progress).toEqual([
      { label: 'runs', done: 1, total: 3, detail: '1 ok' },
      { label: 'runs', done: 2, total: 3 },
      { label: 'runs', done: 3, total: 3, detail: '3 ok' },
    ]);
    // The human lines, not the progress lines; not the JSON stdout either.
    expect(fake.output.join('')).toBe(`$ fluxloop run experiment --json ok   (in ${project.root})\nReplaying 3 recorded calls\nnot json {"progress"\n`);
  });

  it('sends SIGINT on cancel, and keeps what the CLI printed as it stopped', async () => {
    const project = tempProject();
    const cli = new SpawnCli(output(), () => [process.execPath, cliScript()]);
    const token = new FakeToken();
    const running = cli.run(project, ['wait'], { json: true, cancellation: token });
    // Cancel once the script is listening for SIGINT.
    while (!fake.output.join('').includes('waiting')) await new Promise((r) => setTimeout(r, 10));
    token.cancel();
    const result = await running;

    expect(result).toMatchObject({ cancelled: true, code: 130, signal: null });
    expect(JSON.parse(result.stdout)).toMatchObject({ stopped: true });
  });

  it("fails with the CLI's own message, and with what to do when the CLI cannot start", async () => {
    const project = tempProject();
    const failed = await new SpawnCli(output(), () => [process.execPath, cliScript()]).run(project, ['fail']);
    expect(failed.code).toBe(2);
    expect(failureMessage(failed)).toBe('fluxloop: configs/simulation.yaml:2: runner.target: expected module:export');
    expect(fake.output.at(-1)).toBe('(exit code 2)\n');

    const missing = await new SpawnCli(output(), () => [path.join(project.root, 'no-such-fluxloop')]).run(project, ['env']);
    expect(missing.code).toBeNull();
    expect(failureMessage(missing)).toBe(`Could not run ${path.join(project.root, 'no-such-fluxloop')} (ENOENT). Install fluxloop in the project, or set fluxloop.cliCommand.`);
  });
});

describe('the messages of a failed CLI', () => {
  const result = (stderr: string, code: number | null = 1): CliResult => ({ args: [], code, signal: null, stdout: '', stderr, cancelled: false });

  it("are the last `fluxloop:` line, else the last line, else the exit code", () => {
    expect(failureMessage(result('warning: x\nfluxloop: first\nfluxloop: second\n{"progress":{"label":"runs","done":1,"total":2}}\n'))).toBe('fluxloop: second');
    expect(failureMessage(result('Error: Cannot find module\n  at x\n'))).toBe('fluxloop: at x');
    expect(failureMessage(result('', 3))).toBe('fluxloop exited with code 3');
  });

  it('parse only well-formed progress lines', () => {
    expect(parseProgressLine('{"progress":{"label":"evaluating","done":0,"total":0}}')).toEqual({ label: 'evaluating', done: 0, total: 0 });
    expect(parseProgressLine('{"progress":{"label":"runs","done":"1","total":2}}')).toBeUndefined();
    expect(parseProgressLine('{"progress":')).toBeUndefined();
    expect(parseProgressLine('progress 1/2')).toBeUndefined();
  });
});
