import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chatReply, startFakeLlm, type FakeLlm } from '../fake-llm';
import { expectSameRun, project, readRecords, recordingPath, recordTwice, runCli, type CliRun } from './helpers';

// The fixture's secrets (fixtures/leak-agent/app/secrets.js). TOKEN is only ever sent as
// `Bearer TOKEN`, and PASSWORD and TENANT only under a secret key (password, and the project's
// own redact_keys entry tenant_code); TICKET matches the project's redact_patterns entry.
const SECRETS = {
  API_KEY: 'sk-proj-Leak4Test9Qw7Er5Ty3Ui1Op',
  TOKEN: 'lk8Tok3nZx91Vb27Qm',
  PASSWORD: 'pw-Hunter2-Horse-Battery',
  TICKET: 'ACME-482913',
  TENANT: 'tenant-Nw5521-Orion',
};
// Recorded as it is, then made secret by a redact_keys entry added after the recording.
const USER = 'ada-lovelace-1815';
const STACK = /\n\s+at /;
const REFUND = 'Can I get a refund?';

/** Fails naming the secret and where it was found. */
function expectNoSecret(where: string, text: string, secrets: Record<string, string> = { ...SECRETS, USER }): void {
  for (const [name, secret] of Object.entries(secrets)) {
    if (text.includes(secret)) expect.fail(`${name} leaked into ${where}: …${text.slice(Math.max(0, text.indexOf(secret) - 80), text.indexOf(secret) + 40)}…`);
  }
}

/** Every file and folder under `dir`. */
function walk(dir: string): { files: string[]; dirs: string[] } {
  const found = { files: [] as string[], dirs: [dir] };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = walk(full);
      found.files.push(...inner.files);
      found.dirs.push(...inner.dirs);
    } else found.files.push(full);
  }
  return found;
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;
const lines = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const json = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

async function cli(dir: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const run = await runCli(dir, args, env);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.stderr).not.toMatch(STACK);
  return run;
}

/** The one experiment folder `run experiment --output <base>` made. */
function folderIn(dir: string, base: string): string {
  const [name, ...more] = fs.readdirSync(path.join(dir, base));
  expect(more).toEqual([]);
  return path.join(dir, base, name!);
}

describe('secrets in an experiment', () => {
  let llm: FakeLlm | undefined;
  afterEach(async () => {
    await llm?.close();
    llm = undefined;
  });

  it('reach nothing fluxloop writes or prints, with the project rules too, in folders only their owner can read', async () => {
    // A judge that quotes every secret back in its reasons, unless the reply kept them.
    llm = await startFakeLlm(({ body }) => {
      const prompt: string = body.messages.at(-1).content;
      if (prompt.includes('All good')) return chatReply('{"score": 1, "reason": "keeps its secrets"}');
      return chatReply(JSON.stringify({ score: 0, reason: `it leaked ${SECRETS.API_KEY} for ${SECRETS.TICKET} with Bearer ${SECRETS.TOKEN}` }));
    });
    const dir = project('leak-agent');
    const { plain, recorded } = await recordTwice(dir, 'app/main.js');
    expectSameRun(plain, recorded);
    expect(recorded.stdout).toBe(`${USER} string\n`);
    const records = readRecords(dir).filter((r) => r.target === 'app/agent.js:handle');
    expect(records).toHaveLength(1);
    expect(records[0]!.args).toEqual(['When do you open?', { user: USER, apiKey: '***', authorization: '***', password: '***', tenant_code: '***', note: 'ticket ***' }]);
    expectNoSecret('the recording', fs.readFileSync(recordingPath(dir), 'utf8'), SECRETS);
    // A rule added after the recording holds in the experiment: the replay applies the config's rules, not the recording's.
    const config = path.join(dir, 'configs', 'simulation.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('    - tenant_code\n', '    - tenant_code\n    - user\n'));

    fs.writeFileSync(
      path.join(dir, 'configs', 'evaluation.yaml'),
      `evaluators:\n  - type: success\n  - type: output_not_empty\n  - type: llm_judge\n    rubric: "Does the reply keep its secrets?"\nllm:\n  base_url: ${llm.url}\n  model: judge-1\n  max_retries: 0\n`,
    );
    const printed: Array<[string, CliRun]> = [];
    const run = async (name: string, args: string[], env: Record<string, string> = {}) => {
      const result = await cli(dir, args, env);
      printed.push([name, result]);
      return result;
    };
    const plan = await run('the dry run', ['run', 'experiment', '--dry-run']);
    expect(plan.stdout).toContain('"user": "***"');
    // The baseline's agent keeps its secrets in its replies, so that the current one regresses.
    await run('the baseline', ['run', 'experiment', '--output', 'runs/baseline'], { LEAK_SAFE: '1' });
    const replay = await run('the replay', ['run', 'experiment', '--output', 'runs/current']);
    const baseline = folderIn(dir, 'runs/baseline');
    const folder = folderIn(dir, 'runs/current');
    // A rule added after the experiment holds in its evaluation: what it reads is masked again.
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('    - "ACME-[0-9]{6}"\n', '    - "ACME-[0-9]{6}"\n    - "Open at"\n'));
    const evaluation = await run('the evaluation', [
      'evaluate',
      'experiment',
      path.relative(dir, folder),
      '--baseline',
      path.relative(dir, baseline),
      '--junit',
      'reports/junit.xml',
      '--markdown',
      'reports/summary.md',
    ]);

    // Nothing leaked: every file of both experiments, the reports, the console, the judge's prompts.
    const files = [...walk(folder).files, ...walk(baseline).files, ...walk(path.join(dir, 'reports')).files];
    expect(files.map((f) => path.relative(folder, f))).toEqual(
      expect.arrayContaining(['summary.json', 'traces.jsonl', 'observations.jsonl', 'errors.json', 'report.html', 'evaluation/per_trace.jsonl', 'evaluation/summary.json']),
    );
    for (const file of files) expectNoSecret(path.relative(dir, file), fs.readFileSync(file, 'utf8'));
    for (const [name, { stdout, stderr }] of printed) {
      expectNoSecret(`the stdout of ${name}`, stdout);
      expectNoSecret(`the stderr of ${name}`, stderr);
    }
    expect(llm.requests.length).toBeGreaterThan(0);
    for (const request of llm.requests) expectNoSecret("the judge's prompt", JSON.stringify(request.body), { ...SECRETS, USER, LATE: 'Open at' });

    // Private: the experiment's folders 0700, their files and the reports 0600.
    for (const d of [...walk(folder).dirs, ...walk(baseline).dirs]) expect([path.relative(dir, d), mode(d).toString(8)]).toEqual([path.relative(dir, d), '700']);
    for (const f of files) expect([path.relative(dir, f), mode(f).toString(8)]).toEqual([path.relative(dir, f), '600']);

    // What is not secret is all there: the error's text, the input, the rest of the output.
    const traces = lines(path.join(folder, 'traces.jsonl'));
    const byInput = (input: string) => traces.find((t) => t.input === input);
    expect(traces.map((t) => [t.input, t.status])).toEqual(
      expect.arrayContaining([
        ['When do you open?', 'ok'],
        [REFUND, 'error'],
        ['Please deny', 'error'],
      ]),
    );
    const refused = byInput(REFUND).error;
    expect(refused.message).toBe('401 Unauthorized: key *** rejected for *** (Bearer ***)');
    expect(refused.stack).toMatch(/^Error: 401 Unauthorized: key \*\*\* rejected for \*\*\* \(Bearer \*\*\*\)\n\s+at .*upstream\.js/);
    expect(byInput('Please deny').error).toEqual({ name: 'Error', message: 'thrown: "denied: *** for ***"' });
    // The project's key (tenant_code) and pattern (ACME-…) are masked as the built-in ones are.
    expect(byInput('When do you open?').output).toEqual({ text: 'Open at 9:00; your key is *** (***)', auth: '***', password: '***', tenant_code: '***', user: '***' });
    expect(byInput('When do you open?').args[1]).toEqual({ user: '***', apiKey: '***', authorization: '***', password: '***', tenant_code: '***', note: 'ticket ***' });

    const errors = json(path.join(folder, 'errors.json'));
    expect(errors.find((e: any) => e.input === REFUND).error.message).toBe(refused.message);

    const observations = lines(path.join(folder, 'observations.jsonl'));
    const lookups = observations.filter((o) => o.name === 'lookup');
    expect(lookups).toHaveLength(2);
    for (const o of lookups) {
      expect(o.input[0]).toMatchObject({ headers: { Authorization: '***' }, key: '***', password: '***', tenant_code: '***', note: 're ***' });
    }
    expect(lookups.find((o) => o.error !== null).error.message).toBe(refused.message);
    expect(lookups.find((o) => o.error === null).output).toEqual({ hours: '9:00', echo: 'Bearer ***', password: '***', tenant_code: '***' });

    expect(replay.stdout).toContain(`error: "${REFUND}": 401 Unauthorized: key *** rejected`);
    const html = fs.readFileSync(path.join(folder, 'report.html'), 'utf8');
    expect(html).toContain('401 Unauthorized: key *** rejected');
    expect(html).toContain('*** 9:00; your key is *** (***)');
    expect(html).not.toContain('Open at');
    expect(html).toContain(REFUND);
    const judged = lines(path.join(folder, 'evaluation', 'per_trace.jsonl')).find((t) => t.input === 'When do you open?');
    expect(judged.evaluators[2]).toMatchObject({ name: 'llm_judge', score: 0, reason: 'it leaked *** for *** with Bearer ***' });
    expect(evaluation.stdout).toContain('llm_judge: it leaked *** for *** with Bearer ***');
    const junit = fs.readFileSync(path.join(dir, 'reports', 'junit.xml'), 'utf8');
    expect(junit).toContain('success: ended in error: Error: 401 Unauthorized: key *** rejected');
    expect(junit).toContain(REFUND);
    const markdown = fs.readFileSync(path.join(dir, 'reports', 'summary.md'), 'utf8');
    // The refund fails in the baseline too (its lookup refuses it): the regressions are the other two.
    expect(markdown).toMatch(/\| #\d+, line \d+ \| 0 \| Please deny \| 100% → 0% \| success: ended in error: Error: thrown: "denied: \\\*\\\*\\\* for \\\*\\\*\\\*"/);
    expect(markdown).toContain('llm\\_judge: it leaked \\*\\*\\* for \\*\\*\\*');
  });
});
