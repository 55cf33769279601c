import { describe, expect, it } from 'vitest';
import { runConversation, type ConversationPlan, type Turns } from '../../src/experiment/conversation.js';
import type { SimulatedUser, SimulatedUserDecision } from '../../src/experiment/conversation-result.js';
import { buildHistory, learnShape, textOf } from '../../src/experiment/history.js';
import { parseParams } from '../../src/instrument/params.js';
import { executeRun, runRedaction, type RecordingRef } from '../../src/replay/execute.js';
import type { LoadedTarget } from '../../src/replay/loader.js';

/** A recorded turn of `reply({ sessionId, message, history })`. */
const recorded = (index: number, message: string, history: unknown[] = []): RecordingRef => ({
  index,
  line: index + 1,
  function: 'reply',
  args: [{ sessionId: 's1', message, history }],
  kwargs: {},
});

const plan = (turns: RecordingRef[], conversation: Partial<ConversationPlan['conversation']> = {}): ConversationPlan => ({
  traceId: 'c1',
  iteration: 0,
  inputIndex: 0,
  input: { input: 'the variation', metadata: {} },
  conversation: { id: 's1', turns, resumeFrom: null, maxTurns: 8, autoApprove: true, ...conversation },
  path: 'kwargs.message',
});

/** Turns on a target made by `make` once per load: the state its closure keeps is the conversation's. */
function turnsOf(make: () => Function): Turns & { loads: number } {
  const turns = {
    loads: 0,
    load: async (): Promise<LoadedTarget> => {
      turns.loads++;
      const fn = make();
      return { fn, thisArg: undefined, name: 'reply', params: parseParams(fn), exports: undefined };
    },
    run: (target: LoadedTarget, turn: Parameters<Turns['run']>[1]) => executeRun(turn, target, new Map()),
    redaction: runRedaction(),
    prices: {},
  };
  return turns;
}

/** An agent that counts the messages it got, in its own state. */
const counting = () => {
  const seen: string[] = [];
  return async function reply({ message }: { message: string }) {
    seen.push(message);
    return `#${seen.length}: ${seen.join(' | ')}`;
  };
};

function userOf(...decisions: SimulatedUserDecision[]): SimulatedUser & { asked: number[] } {
  const user = {
    asked: [] as number[],
    next: async (request: { asked: number }) => {
      user.asked.push(request.asked);
      return decisions.shift() ?? { decision: 'terminate' as const, termination_reason: 'out_of_script', closing_user_message: null };
    },
  };
  return user;
}

const goOn = (next_user_message: string): SimulatedUserDecision => ({ decision: 'continue', next_user_message });

describe('runConversation', () => {
  it('puts the input first, then the simulated user, on one load of the target whose state carries from turn to turn', async () => {
    const turns = turnsOf(counting);
    const user = userOf(goOn('second'), { decision: 'terminate', termination_reason: 'user_satisfied', closing_user_message: 'thanks' });
    const result = await runConversation(plan([recorded(0, 'hello')]), turns, user);
    expect(turns.loads).toBe(1);
    expect(result.turns.map((t) => [t.source, t.user_message, t.output])).toEqual([
      ['input', 'the variation', '#1: the variation'],
      ['simulated_user', 'second', '#2: the variation | second'],
    ]);
    expect(result).toMatchObject({ status: 'ok', termination_reason: 'user_satisfied', closing_user_message: 'thanks', resumed_from: null });
    expect(user.asked).toEqual([0, 1]);
    // Past the recording, a turn is called with the last recorded turn's arguments.
    expect(result.turns[1]!.recording_line).toBe(1);
  });

  it('resumes at turn k: the turns before it replayed with their recorded arguments, the input at k', async () => {
    const turns = turnsOf(counting);
    const result = await runConversation(plan([recorded(0, 'r1'), recorded(1, 'r2'), recorded(2, 'r3')], { resumeFrom: 3 }), turns, userOf());
    expect(result.turns.map((t) => [t.turn, t.source, t.user_message, t.recording_line])).toEqual([
      [1, 'recorded', 'r1', 1],
      [2, 'recorded', 'r2', 2],
      [3, 'input', 'the variation', 3],
    ]);
    expect(result.turns[2]!.output).toBe('#3: r1 | r2 | the variation');
    expect(result.termination_reason).toBe('out_of_script');
  });

  it('ends at max_turns when the simulated user always goes on', async () => {
    const result = await runConversation(plan([recorded(0, 'hi')], { maxTurns: 2 }), turnsOf(counting), userOf(goOn('a'), goOn('b'), goOn('c')));
    expect(result.turns).toHaveLength(2);
    expect(result).toMatchObject({ status: 'ok', termination_reason: 'max_turns_reached' });
  });

  it('ends at a turn that fails, with its error, and when the simulated user cannot answer', async () => {
    const failing = () => {
      let n = 0;
      return async function reply({ message }: { message: string }) {
        if (++n === 2) throw new TypeError(`cannot answer ${message}`);
        return 'fine';
      };
    };
    const broken = await runConversation(plan([recorded(0, 'hi')]), turnsOf(failing), userOf(goOn('again')));
    expect(broken).toMatchObject({ status: 'error', termination_reason: 'agent_error', error: { name: 'TypeError', message: 'cannot answer again' } });
    expect(broken.turns.map((t) => t.status)).toEqual(['ok', 'error']);

    const silent: SimulatedUser = { next: () => Promise.reject(new Error('HTTP 500 after 4 attempts')) };
    const unanswered = await runConversation(plan([recorded(0, 'hi')]), turnsOf(counting), silent);
    expect(unanswered).toMatchObject({ status: 'error', termination_reason: 'supervisor_error' });
    expect(unanswered.error?.message).toBe('the simulated user could not answer: HTTP 500 after 4 attempts');
    expect(unanswered.turns).toHaveLength(1);
  });

  it('gives the agent the conversation so far at history_path, in the shape and with the role names of the recording', async () => {
    const histories: unknown[] = [];
    const agent = () =>
      async function reply({ message, history }: { message: string; history: unknown[] }) {
        histories.push(history);
        return { text: `re: ${message}` };
      };
    const said = [{ speaker: 'customer', text: 'r1', at: 1 }, { speaker: 'bot', text: 'hello there', at: 2 }];
    const turns = [recorded(0, 'r1'), recorded(1, 'r2', said)];
    await runConversation(plan(turns, { historyPath: 'kwargs.history' }), turnsOf(agent), userOf(goOn('next')));
    expect(histories).toEqual([
      [],
      [
        { speaker: 'customer', text: 'the variation', at: 1 },
        { speaker: 'bot', text: 're: the variation', at: 2 },
      ],
    ]);
  });

  it('gives auto_approve_tools to an agent that takes autoApprove, but not to a recorded turn', async () => {
    const agent = () =>
      async function reply({ message, autoApprove }: { message: string; autoApprove?: boolean }) {
        return `${message}: approve ${autoApprove}`;
      };
    const result = await runConversation(plan([recorded(0, 'r1'), recorded(1, 'r2')], { resumeFrom: 2, autoApprove: false }), turnsOf(agent), userOf());
    expect(result.turns.map((t) => t.output)).toEqual(['r1: approve undefined', 'the variation: approve false']);
  });

  it('fails before its first turn when its plan says the path points nowhere', async () => {
    const turns = turnsOf(counting);
    const result = await runConversation({ ...plan([recorded(0, 'hi')]), error: 'kwargs.msg points nowhere' }, turns, userOf());
    expect(result).toMatchObject({ status: 'error', termination_reason: 'agent_error', turns: [], error: { name: 'OverridePathError', message: 'kwargs.msg points nowhere' } });
    expect(turns.loads).toBe(0);
  });
});

describe('history shapes', () => {
  it('learns the text and role fields from a recorded user message, and keeps a leading system entry', () => {
    const shape = learnShape([
      { history: [], message: 'first' },
      { history: [{ role: 'system', content: 'be brief' }, { role: 'human', content: 'first' }, { role: 'ai', content: 'ok' }], message: 'second' },
    ]);
    expect(shape).toMatchObject({ content: 'content', role: 'role', values: { user: 'human', assistant: 'ai' }, includesCurrent: false });
    expect(buildHistory(shape, [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }], 'c')).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'human', content: 'a' },
      { role: 'ai', content: 'b' },
    ]);
  });

  it('includes the current message where the recorded histories did, and keeps texts as texts', () => {
    const shape = learnShape([{ history: ['hi'], message: 'hi' }, { history: ['hi', 'hello', 'more'], message: 'more' }]);
    expect(shape.strings).toBe(true);
    expect(buildHistory(shape, [{ role: 'user', content: 'x' }, { role: 'assistant', content: { text: 'y' } }], 'z')).toEqual(['x', 'y', 'z']);
  });

  it('falls back to {role, content} when no recorded history shows its layout', () => {
    const shape = learnShape([{ history: [], message: 'only' }]);
    expect(buildHistory(shape, [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }], 'c')).toEqual([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
    ]);
  });

  it('reads an output as text: a string, a read Response body, a usual text field, else JSON', () => {
    expect(textOf('plain')).toBe('plain');
    expect(textOf({ $type: 'Response', value: { status: 200, body: 'from body' } })).toBe('from body');
    expect(textOf({ reply: 'the reply', n: 1 })).toBe('the reply');
    expect(textOf({ n: 1 })).toBe('{"n":1}');
    expect(textOf(null)).toBe('');
  });
});
