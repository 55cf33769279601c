import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, expectSameRun, project, readExperiment, readRecords, recordTwice, recordingPath, runCli, type RecordLine } from '../e2e/helpers';

/**
 * A class agent made with arguments (`new Bot('helper', { style })`), called with a real LangChain
 * HumanMessage and the app's own Turn instances. A replay calls the method on the app's instance
 * rebuilt from the recorded `this`, with the message and the turns revived as instances of their
 * classes: the replies read as the app's did, with the input in place of the question.
 */

const TARGET = 'app/bot.js:Bot.reply';
const INPUT = 'what is new?';

let dir: string;
let records: RecordLine[];

async function replay(args: string[], output: string) {
  const cli = await runCli(dir, ['run', 'experiment', '--output', output, ...args]);
  expect(cli.code, cli.stdout + cli.stderr).toBe(0);
  return { cli, experiment: readExperiment(dir, output) };
}

/** A copy of the default config with `change` made to it, written to configs/<name>.yaml. */
function configWith(name: string, change: (config: any) => void): string {
  const text = fs.readFileSync(path.join(dir, 'configs', 'simulation.yaml'), 'utf8');
  const config = JSON.parse(JSON.stringify(require('yaml').parse(text)));
  change(config);
  const file = `configs/${name}.yaml`;
  fs.writeFileSync(path.join(dir, file), JSON.stringify(config));
  return file;
}

beforeAll(async () => {
  dir = project('bot-app', ['@langchain/core']);
  const { plain, recorded } = await recordTwice(dir);
  expectSameRun(plain, recorded);
  expect(plain.stdout).toBe('helper (short): short question [user:hi, bot:hello]\ncritic (long): long question []\n');
  records = byTarget(readRecords(dir), TARGET);
});

describe('a class agent replayed on its real instance', () => {
  it("records the instance each call was made on: its class and own fields; a message with its class and its library's brand", () => {
    expect(records.map((r) => r.this)).toEqual([
      { $type: 'Object', class: 'Bot', value: { name: 'helper', style: 'short' } },
      { $type: 'Object', class: 'Bot', value: { name: 'critic', style: 'long' } },
    ]);
    expect(records[0]!.args[0]).toMatchObject({ $type: 'Object', class: 'HumanMessage', value: { content: 'short question', type: 'human' }, symbols: { 'langchain.message': true } });
    expect(records[0]!.args[1]).toEqual([
      { $type: 'Object', class: 'Turn', value: { role: 'user', text: 'hi' } },
      { $type: 'Object', class: 'Turn', value: { role: 'bot', text: 'hello' } },
    ]);
  });

  it('replays each call on its own instance, with the message revived from replay_args.revive and the turns from the target module', async () => {
    const { experiment } = await replay([], 'out/revived');
    expect(experiment.summary.counts).toEqual({ ok: 2, error: 0, timeout: 0 });
    // Runs on several threads finish in any order.
    expect(experiment.traces.map((t) => t.output).sort()).toEqual([`critic (long): ${INPUT} []`, `helper (short): ${INPUT} [user:hi, bot:hello]`]);
    expect(experiment.traces.map((t) => t.warnings)).toEqual([[], []]);
  });

  it('revives the same way in every isolation mode: each fresh module, each worker thread, its own classes', async () => {
    for (const isolation of ['fresh', 'worker']) {
      const file = configWith(isolation, (c) => (c.runner.isolation = isolation));
      const { experiment } = await replay(['--config', file], `out/${isolation}`);
      // Runs finish in any order when they run at once.
      expect(experiment.traces.map((t) => t.output).sort()).toEqual([`critic (long): ${INPUT} []`, `helper (short): ${INPUT} [user:hi, bot:hello]`]);
    }
  });

  it('says before the first run which classes come back as plain data, and the run shows what that did', async () => {
    const file = configWith('plain', (c) => delete c.replay_args.revive);
    const { cli, experiment } = await replay(['--config', file], 'out/plain');
    expect(cli.stderr).toContain('warning: instances of HumanMessage are replayed as plain data: name their classes in replay_args.revive');
    // The message keeps its library's brand, so isInstance holds, but not its class's getter.
    expect(experiment.traces.map((t) => t.output).sort()).toEqual(['critic (long): undefined []', 'helper (short): undefined [user:hi, bot:hello]']);
  });

  it('warns on every run, and in the plan, when the recordings keep no instance: the method runs on new Bot()', async () => {
    // As fluxloop wrote them before it kept the instance.
    const older = fs
      .readFileSync(recordingPath(dir), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const { this: _, ...record } = JSON.parse(line);
        return JSON.stringify(record);
      });
    fs.writeFileSync(path.join(dir, 'recordings', 'older.jsonl'), older.join('\n') + '\n');
    const file = configWith('older', (c) => (c.replay_args.recording_file = 'recordings/older.jsonl'));
    const plan = await runCli(dir, ['run', 'experiment', '--dry-run', '--config', file]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/Instance\s+new Bot\(\) with no arguments for 2 of 2 recordings, which keep no instance: set runner.factory/);
    const { cli, experiment } = await replay(['--config', file], 'out/older');
    // The constructor ran without its arguments: the replies show it, and each run says why.
    expect(experiment.traces.map((t) => t.output).sort()).toEqual([`undefined (undefined): ${INPUT} []`, `undefined (undefined): ${INPUT} [user:hi, bot:hello]`]);
    for (const trace of experiment.traces) {
      expect(trace.warnings).toEqual([
        "called on new Bot() made with no arguments, not the app's instance: its recording keeps no instance (made before fluxloop kept one); set runner.factory to make one as the app does",
      ]);
    }
    expect(cli.stdout).toContain('2 runs with warnings');

    // fluxloop doctor says so too, and that the new recordings keep it.
    const doctor = async () => JSON.parse((await runCli(dir, ['doctor', '--json'])).stdout).checks.find((c: { id: string }) => c.id === `runner-instance:${TARGET}`);
    expect(await doctor()).toMatchObject({ status: 'ok', detail: `2 recordings of ${TARGET} keep the Bot each run is called on` });
    const main = path.join(dir, 'configs', 'simulation.yaml');
    const saved = fs.readFileSync(main, 'utf8');
    fs.copyFileSync(path.join(dir, file), main);
    expect(await doctor()).toMatchObject({
      status: 'warn',
      detail: `2 of 2 recordings of ${TARGET} keep no instance: their runs call reply on new Bot() with no arguments, not the app's instance`,
      fix: expect.stringContaining('set runner.factory'),
    });
    fs.writeFileSync(main, saved);
  });
});

describe('a class with private fields', () => {
  it('fails its runs with the reason, since an instance made from its recording has none', async () => {
    const agent = project('class-agent');
    const { plain, recorded } = await recordTwice(agent);
    expectSameRun(plain, recorded);
    const config = {
      recording: { targets: ['app/agent.js:SupportAgent.reply'] },
      runner: { target: 'app/agent.js:SupportAgent.reply', isolation: 'shared' },
      replay_args: { enabled: true, override_param_path: 'args.0' },
      base_inputs: [INPUT],
    };
    fs.writeFileSync(path.join(agent, 'configs', 'simulation.yaml'), JSON.stringify(config));
    const cli = await runCli(agent, ['run', 'experiment', '--output', 'out']);
    expect(cli.code).toBe(0);
    const { traces } = readExperiment(agent, 'out');
    expect(traces.map((t) => t.status)).toEqual(['error', 'error']);
    expect(traces[0].error.message).toMatch(/private member.*; SupportAgent has private fields, which an instance made from its recording does not have: set runner.factory/);
  });
});
