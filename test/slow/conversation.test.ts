import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fake-openai';
import { project, readExperiment, readRecords, recordedOnce, runApp, runCli, type Experiment, type Run } from '../e2e/helpers';

/**
 * Multi-turn conversations end to end on fixtures/conversation-app: an agent that keeps each
 * session's messages in its module (state-agent) and one that gets the history from the app in
 * the app's own shape (history-agent). The app is recorded once; each experiment runs on a copy of
 * that recording, the simulated user a mock with a script or a fake OpenAI endpoint.
 */

const STATE = 'app/state-agent.js:reply';
const HISTORY = 'app/history-agent.js:answer';
const STACK = /\n\s+at /;

// What the app says in each session (fixtures/conversation-app/app/main.js); the recording test checks them.
const STATE_SESSIONS: Record<string, string[]> = {
  's-refund': ['I want a refund', 'It arrived broken'],
  's-delivery': ['Where is my parcel?', 'It was due Monday', 'Can you resend it?'],
  's-account': ['I cannot log in', 'My email is old', 'I changed phones', 'Thanks, it works'],
};
const HISTORY_SESSIONS: Record<string, string[]> = {
  'h-billing': ['Why was I charged twice?', 'The second charge is today'],
  'h-plan': ['Which plan fits me?', 'I travel a lot', 'Is roaming included?'],
  'h-cancel': ['Cancel my plan', 'The price went up', 'No discount, thanks', 'Goodbye'],
};
// The config's base_inputs and the mock's scripted_questions.
const INPUTS = ['My order never came', 'I was billed for nothing'];
const SCRIPT = ['And how long will it take?', 'Can you confirm by email?'];

/**
 * What the engine's summary and plan say of the conversations, in one place for the engine's
 * names: `recorded` conversations replayed, `recorded_turns` their recorded turns, `skipped_short`
 * those shorter than the resume point.
 */
const conversationsBlock = (recorded: number, recorded_turns: number, skipped_short: number) => expect.objectContaining({ recorded, recorded_turns, skipped_short });

/** What state-agent answers, given the messages of the session before this one. */
const stateOutput = (sessionId: string, before: string[], message: string) =>
  `turn ${before.length + 1} (${sessionId}): you said "${message}"; before: ${before.length > 0 ? before.join(' | ') : 'nothing'}`;

/** What history-agent answers, given the customer's earlier messages in the history it got. */
const historyOutput = (sessionId: string, earlier: string[], message: string) =>
  `answer ${earlier.length + 1} (${sessionId}): "${message}"; earlier: ${earlier.length > 0 ? earlier.join(' | ') : 'nothing'}; last bot: ${earlier.length > 0 ? `answer ${earlier.length} (${sessionId})` : 'none'}`;

/** The sessions' calls in the order the app makes them: every session's first turn, then every second turn… */
function interleaved(sessions: Record<string, string[]>): Array<[string, string]> {
  const calls: Array<[string, string]> = [];
  for (let turn = 0; turn < 4; turn++) {
    for (const [id, messages] of Object.entries(sessions)) if (turn < messages.length) calls.push([id, messages[turn]!]);
  }
  return calls;
}

let recordedRun: Run;
const recording = recordedOnce('conversation-app', (run) => {
  recordedRun = run;
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
});

/** A new project with a copy of the recording and its config changed by `edit` (the parsed YAML). */
async function conversationProject(edit: (config: any) => void = () => {}): Promise<string> {
  const source = await recording();
  const dir = project('conversation-app');
  fs.cpSync(path.join(source, 'recordings'), path.join(dir, 'recordings'), { recursive: true });
  const file = path.join(dir, 'configs', 'simulation.yaml');
  const config = parse(fs.readFileSync(file, 'utf8'));
  edit(config);
  fs.writeFileSync(file, stringify(config));
  return dir;
}

type Ran = Experiment & { json: any; stdout: string; stderr: string };

/** `fluxloop run experiment --json` and more `args`, which must exit 0; the one experiment folder read back. */
async function experiment(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<Ran> {
  const run = await runCli(dir, ['run', 'experiment', '--json', ...args], env);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.stderr).not.toMatch(STACK);
  const json = JSON.parse(run.stdout);
  const exp = readExperiment(dir);
  expect(fs.realpathSync(json.experiment_dir)).toBe(fs.realpathSync(exp.dir));
  return { ...exp, json, stdout: run.stdout, stderr: run.stderr };
}

/** Each recorded session appears once per input, and the lines are conversations in the line format. */
function expectConversations(traces: any[], sessions: string[], iterations = 1): void {
  const seen = traces.map((t) => `${t.conversation_id} / ${t.input} / ${t.iteration}`).sort();
  const wanted = sessions.flatMap((id) => INPUTS.flatMap((input) => Array.from({ length: iterations }, (_, i) => `${id} / ${input} / ${i}`))).sort();
  expect(seen).toEqual(wanted);
  for (const c of traces) {
    expect(c.kind).toBe('conversation');
    expect(c.input_index).toBe(INPUTS.indexOf(c.input));
    expect([c.status, c.error]).toEqual(['ok', null]);
    expect(c.turns.map((t: any) => t.turn)).toEqual(c.turns.map((_: unknown, i: number) => i + 1));
    for (const t of c.turns) {
      expect(t.trace_id).toBe(`${c.trace_id}:${t.turn}`);
      expect([t.status, t.error]).toEqual(['ok', null]);
      expect(t.duration_ms).toEqual(expect.any(Number));
      expect(Array.isArray(t.observations)).toBe(true);
    }
  }
  // Two conversations of one session are two conversations: no line is shared.
  expect(new Set(traces.map((t) => t.trace_id)).size).toBe(traces.length);
}

const turnsOf = (c: any) => c.turns.map((t: any) => [t.turn, t.source, t.user_message]);

/** The experiment on the fixture's config as it is: state-agent, the mock's two scripted questions. Shared by the tests that read it. */
let scripted: Promise<{ dir: string; exp: Ran }> | undefined;
const scriptedRun = () => (scripted ??= conversationProject().then(async (dir) => ({ dir, exp: await experiment(dir) })));

describe('multi-turn conversations', () => {
  it('the app prints the same plain and recorded, and the recording has each call with its arguments', async () => {
    const dir = await recording();
    const plain = await runApp(dir, 'app/main.js', { preload: false, env: { FLUXLOOP_RECORD_ARGS: undefined } });
    expect([plain.code, plain.stderr]).toEqual([0, '']);
    expect(recordedRun.stdout).toBe(plain.stdout);
    const lines = plain.stdout.trim().split('\n');
    // The answers the tests expect of the agents are what the agents answer.
    const said = (sessions: Record<string, string[]>, id: string, turn: number) => sessions[id]!.slice(0, turn);
    const expected = Array.from({ length: 4 }, (_, turn) => [
      ...Object.keys(STATE_SESSIONS).filter((id) => turn < STATE_SESSIONS[id]!.length).map((id) => stateOutput(id, said(STATE_SESSIONS, id, turn), STATE_SESSIONS[id]![turn]!)),
      ...Object.keys(HISTORY_SESSIONS).filter((id) => turn < HISTORY_SESSIONS[id]!.length).map((id) => historyOutput(id, said(HISTORY_SESSIONS, id, turn), HISTORY_SESSIONS[id]![turn]!)),
    ]).flat();
    expect(lines).toEqual(expected);
    expect(lines).toHaveLength(18);
    const records = readRecords(dir);
    expect(records).toHaveLength(18);
    const state = records.filter((r) => r.target === STATE);
    expect(state.map((r) => r.args)).toEqual(interleaved(STATE_SESSIONS).map(([sessionId, message]) => [{ sessionId, message }]));
    const history = records.filter((r) => r.target === HISTORY);
    expect(history.map((r) => r.args.slice(0, 2))).toEqual(interleaved(HISTORY_SESSIONS));
    // The last call of the longest session got the whole history the app built, in the app's shape.
    const messages = HISTORY_SESSIONS['h-cancel']!;
    const botTexts = lines.filter((l) => l.startsWith('answer') && l.includes('(h-cancel)'));
    expect(history.at(-1)!.args[2]).toEqual(messages.slice(0, 3).flatMap((text, i) => [{ speaker: 'customer', text }, { speaker: 'bot', text: botTexts[i] }]));
  });

  it('carries each input on with the scripted questions, the agent\'s own state kept within a conversation and fresh in each', async () => {
    const { exp } = await scriptedRun();
    expect(exp.traces).toHaveLength(6);
    expectConversations(exp.traces, Object.keys(STATE_SESSIONS));
    for (const c of exp.traces) {
      const messages = [c.input, ...SCRIPT];
      expect(c).toMatchObject({ target: STATE, resumed_from: null, termination_reason: 'script_complete' });
      expect(turnsOf(c)).toEqual([
        [1, 'input', c.input],
        [2, 'simulated_user', SCRIPT[0]],
        [3, 'simulated_user', SCRIPT[1]],
      ]);
      expect(c.turns.map((t: any) => t.args)).toEqual(messages.map((message) => [{ sessionId: c.conversation_id, message }]));
      // Every conversation starts at turn 1, though two ran at once and each session ran twice.
      expect(c.turns.map((t: any) => t.output)).toEqual(messages.map((m, i) => stateOutput(c.conversation_id, messages.slice(0, i), m)));
    }
    expect(exp.json).toMatchObject({ total_runs: 6, planned_runs: 6, counts: { ok: 6, error: 0, timeout: 0 } });
    expect(exp.summary.conversations).toEqual(conversationsBlock(3, 9, 0));
    expect(exp.json.conversations).toEqual(exp.summary.conversations);
  });

  it('rebuilds the history at history_path in the recording\'s shape from the conversation so far', async () => {
    const dir = await conversationProject((config) => {
      config.runner.target = HISTORY;
      config.replay_args.conversation.history_path = 'kwargs.history';
    });
    const exp = await experiment(dir);
    expect(exp.traces).toHaveLength(6);
    expectConversations(exp.traces, Object.keys(HISTORY_SESSIONS));
    for (const c of exp.traces) {
      const id = c.conversation_id;
      const messages = [c.input, ...SCRIPT];
      expect(c).toMatchObject({ target: HISTORY, termination_reason: 'script_complete' });
      expect(turnsOf(c)).toEqual([
        [1, 'input', c.input],
        [2, 'simulated_user', SCRIPT[0]],
        [3, 'simulated_user', SCRIPT[1]],
      ]);
      expect(c.turns.map((t: any) => t.output)).toEqual(messages.map((m, i) => historyOutput(id, messages.slice(0, i), m)));
      // Speaker and text, customer and bot: the names the app used, learnt from the recording.
      const history = (upTo: number) => messages.slice(0, upTo).flatMap((text, i) => [{ speaker: 'customer', text }, { speaker: 'bot', text: c.turns[i].output }]);
      expect(c.turns.map((t: any) => t.args)).toEqual(messages.map((m, i) => [id, m, history(i)]));
    }
  });

  describe('with an OpenAI-compatible simulated user', () => {
    const KEY = 'sk-simuser-5e1d27c40b9a';
    const NEXT = 'Is there a tracking number?';
    let fake: FakeOpenAi;
    // Backslashes and quotes out: the transcript may reach the endpoint as JSON inside JSON.
    const flat = (text: string) => text.replace(/[\\"]/g, '');

    beforeAll(async () => {
      // Goes on once, with NEXT, and ends the conversation when NEXT is in the transcript.
      fake = await startFakeOpenAi((ask) => {
        const said = flat(JSON.stringify(ask.body.messages));
        const decision = said.includes(flat(NEXT))
          ? { decision: 'terminate', termination_reason: 'user_satisfied', closing_user_message: 'bye' }
          : { decision: 'continue', next_user_message: NEXT };
        return { text: JSON.stringify(decision) };
      });
    });
    afterAll(() => fake?.close());

    it('goes on and ends as the endpoint decides, sends it the transcript, and writes its key nowhere', async () => {
      const dir = await conversationProject((config) => {
        // The provider and model come from the flags, over the config's mock.
        config.multi_turn.supervisor = { provider: 'mock', base_url: fake.url, api_key_env: 'CONVERSATION_TEST_SIM_KEY' };
      });
      const exp = await experiment(dir, ['--supervisor-provider', 'openai', '--supervisor-model', 'sim-model-x'], { CONVERSATION_TEST_SIM_KEY: KEY });
      expect(exp.traces).toHaveLength(6);
      expectConversations(exp.traces, Object.keys(STATE_SESSIONS));
      for (const c of exp.traces) {
        expect(c).toMatchObject({ termination_reason: 'user_satisfied', closing_user_message: 'bye' });
        expect(turnsOf(c)).toEqual([
          [1, 'input', c.input],
          [2, 'simulated_user', NEXT],
        ]);
        expect(c.turns[1].output).toBe(stateOutput(c.conversation_id, [c.input], NEXT));
      }
      // Asked after each of the agent's answers: twice a conversation, with the model and key given.
      expect(fake.asks).toHaveLength(12);
      for (const ask of fake.asks) {
        expect(ask.path).toMatch(/\/chat\/completions$/);
        expect(ask.body.model).toBe('sim-model-x');
        expect(ask.headers.authorization).toBe(`Bearer ${KEY}`);
      }
      // Every answer of the agent reached the simulated user in a transcript.
      const transcripts = fake.asks.map((ask) => flat(JSON.stringify(ask.body.messages)));
      for (const c of exp.traces) {
        for (const t of c.turns) expect(transcripts.some((said) => said.includes(flat(t.output)) && said.includes(flat(c.input)))).toBe(true);
      }
      expect(exp.stdout + exp.stderr).not.toContain(KEY);
      for (const file of fs.readdirSync(exp.dir, { recursive: true }) as string[]) {
        const full = path.join(exp.dir, file);
        if (fs.statSync(full).isFile()) expect(fs.readFileSync(full, 'utf8'), file).not.toContain(KEY);
      }
    });
  });

  it('resumes at turn k: the k-1 recorded turns replayed, the input at k, shorter conversations skipped', async () => {
    const [two, three] = await Promise.all([
      conversationProject((config) => (config.multi_turn.resume_from = 2)).then((dir) => experiment(dir)),
      conversationProject().then((dir) => experiment(dir, ['--resume-at', '3'])),
    ]);
    for (const [k, exp] of [[2, two], [3, three]] as const) {
      const sessions = Object.keys(STATE_SESSIONS).filter((id) => STATE_SESSIONS[id]!.length >= k);
      expect(exp.traces).toHaveLength(sessions.length * INPUTS.length);
      expectConversations(exp.traces, sessions);
      for (const c of exp.traces) {
        const recorded = STATE_SESSIONS[c.conversation_id]!.slice(0, k - 1);
        const messages = [...recorded, c.input, ...SCRIPT];
        expect(c).toMatchObject({ resumed_from: k, termination_reason: 'script_complete' });
        expect(turnsOf(c)).toEqual(messages.map((m, i) => [i + 1, i < k - 1 ? 'recorded' : i === k - 1 ? 'input' : 'simulated_user', m]));
        expect(c.turns.map((t: any) => t.args)).toEqual(messages.map((message) => [{ sessionId: c.conversation_id, message }]));
        // At turn k the agent's state holds the recorded turns, replayed into it.
        expect(c.turns[k - 1].output).toBe(stateOutput(c.conversation_id, recorded, c.input));
        expect(c.turns.map((t: any) => t.output)).toEqual(messages.map((m, i) => stateOutput(c.conversation_id, messages.slice(0, i), m)));
      }
    }
    expect(two.summary.conversations).toEqual(conversationsBlock(3, 9, 0));
    // s-refund has two turns: nothing to resume at 3.
    expect(three.summary.conversations).toEqual(conversationsBlock(2, 7, 1));
    expect(three.json).toMatchObject({ total_runs: 4, planned_runs: 4 });
  });

  it('plans conversations in a dry run, and skips the short ones when resuming', async () => {
    const dir = await conversationProject();
    const dry = async (args: string[]) => {
      const run = await runCli(dir, ['run', 'experiment', '--dry-run', ...args]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(STACK);
      return run.stdout;
    };
    const [plan, resumed, text] = await Promise.all([dry(['--json']), dry(['--json', '--resume-at', '3']), dry([])]);
    expect(JSON.parse(plan).conversations).toEqual(conversationsBlock(3, 9, 0));
    expect(JSON.parse(resumed).conversations).toEqual(conversationsBlock(2, 7, 1));
    expect(text).toMatch(/\b3 conversations\b/);
    expect(text).toMatch(/\b9 turns\b/);
    expect(fs.existsSync(path.join(dir, 'experiments'))).toBe(false);
  });

  it('stops at --max-turns when the simulated user always goes on; --multi-turn turns conversations on', async () => {
    const MORE = 'Tell me more';
    const dir = await conversationProject((config) => {
      config.multi_turn.enabled = false;
      // openai in the config, mock from the flag: an endpoint that would refuse, were it asked.
      config.multi_turn.supervisor = { provider: 'openai', base_url: 'http://127.0.0.1:9/v1', mock_decision: 'continue', mock_next_user_message: MORE };
    });
    const exp = await experiment(dir, ['--multi-turn', '--max-turns', '2', '--supervisor-provider', 'mock', '--iterations', '2']);
    expect(exp.traces).toHaveLength(12);
    expectConversations(exp.traces, Object.keys(STATE_SESSIONS), 2);
    for (const c of exp.traces) {
      expect(c.termination_reason).toBe('max_turns_reached');
      expect(turnsOf(c)).toEqual([
        [1, 'input', c.input],
        [2, 'simulated_user', MORE],
      ]);
      expect(c.turns.map((t: any) => t.output)).toEqual([stateOutput(c.conversation_id, [], c.input), stateOutput(c.conversation_id, [c.input], MORE)]);
    }
  });

  describe('evaluation', () => {
    /**
     * The evaluation side's names, in one place: a turn evaluator (`contains`, on each turn's
     * output) and conversation evaluators (`terminated_by`, `max_turns_under`); per_trace.jsonl has
     * a line a conversation with its turns' verdicts and their pass rate.
     */
    const EVAL = {
      config: (contains: string, reasons: string[], maxTurns: number) =>
        stringify({ evaluators: [{ type: 'contains', value: contains }, { type: 'terminated_by', reasons }, { type: 'max_turns_under', max_turns: maxTurns }] }),
      conversationTypes: ['terminated_by', 'max_turns_under'],
      turnVerdicts: (line: any) => line.turns.map((t: any) => [t.turn, t.passed]),
      turnPassRate: (line: any) => line.turn_pass_rate,
      conversationVerdicts: (line: any) => Object.fromEntries(line.evaluators.filter((e: any) => EVAL.conversationTypes.includes(e.type)).map((e: any) => [e.type, e.passed])),
    };

    async function evaluate(dir: string, folder: string, config: string): Promise<{ lines: any[]; summary: any }> {
      fs.writeFileSync(path.join(dir, 'configs', 'evaluation.yaml'), config);
      const run = await runCli(dir, ['evaluate', 'experiment', folder]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(STACK);
      const out = path.join(dir, folder, 'evaluation');
      const lines = fs.readFileSync(path.join(out, 'per_trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      return { lines, summary: JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) };
    }

    it('judges each turn and each conversation: a line a conversation with its turns\' verdicts', async () => {
      const { dir, exp } = await scriptedRun();
      const folder = path.relative(dir, exp.dir);
      const good = await evaluate(dir, folder, EVAL.config('turn', ['script_complete'], 5));
      expect(good.lines.map((l) => l.trace_id).sort()).toEqual(exp.traces.map((t) => t.trace_id).sort());
      for (const line of good.lines) {
        expect(EVAL.turnVerdicts(line)).toEqual([[1, true], [2, true], [3, true]]);
        expect(EVAL.turnPassRate(line)).toBe(1);
        expect(EVAL.conversationVerdicts(line)).toEqual({ terminated_by: true, max_turns_under: true });
        expect(line.passed).toBe(true);
      }
      expect(good.summary).toMatchObject({ total: 6, passed: 6, failed: 0 });

      // Only turn 1 says "turn 1"; three turns are not under three; the script ended every one.
      const bad = await evaluate(dir, folder, EVAL.config('turn 1', ['max_turns_reached'], 3));
      expect(bad.lines).toHaveLength(6);
      for (const line of bad.lines) {
        expect(EVAL.turnVerdicts(line)).toEqual([[1, true], [2, false], [3, false]]);
        expect(EVAL.turnPassRate(line)).toBeCloseTo(1 / 3);
        expect(EVAL.conversationVerdicts(line)).toEqual({ terminated_by: false, max_turns_under: false });
        expect(line.passed).toBe(false);
      }
      expect(bad.summary).toMatchObject({ total: 6, passed: 0, failed: 6 });
    });
  });
});
