import type { ConversationResult, ConversationTurn } from '../src/experiment/conversation-result';

// A conversation's traces.jsonl line as the runner writes it, for tests that read experiments
// made by hand: the evaluation and the report.

/** Turn `n` (from 1), `extra` over its defaults: ok, no calls, no observations. */
export function turn(n: number, user: string, output: unknown, extra: Partial<ConversationTurn> = {}): ConversationTurn {
  return {
    trace_id: `placeholder:${n}`,
    turn: n,
    source: n === 1 ? 'input' : 'simulated_user',
    user_message: user,
    recording_line: null,
    recording_file: null,
    override_location: 'args.0',
    args: [user],
    output,
    frames: null,
    first_frame_ms: null,
    status: 'ok',
    error: null,
    duration_ms: 10 * n,
    messages: null,
    warnings: [],
    observation_count: 0,
    downstream: [],
    divergence: null,
    usage: null,
    cost_usd: null,
    observations: [],
    recorded_downstream: null,
    ...extra,
  };
}

/** A conversation of `turns` (their trace ids made its own), `extra` over its defaults: ok when every turn is, ended by the user's satisfaction. */
export function conversation(id: string, input: string, turns: ConversationTurn[], extra: Partial<ConversationResult> = {}): ConversationResult {
  const traceId = extra.trace_id ?? `trace-${id}`;
  return {
    kind: 'conversation',
    trace_id: traceId,
    conversation_id: id,
    iteration: 0,
    input,
    input_index: 0,
    metadata: { persona: 'novice' },
    target: 'app/agent.js:reply',
    override_param_path: 'args.0',
    recording_file: null,
    recording_index: null,
    recording_line: null,
    recording_lines: [],
    resumed_from: null,
    turns: turns.map((t) => ({ ...t, trace_id: `${traceId}:${t.turn}` })),
    termination_reason: 'user_satisfied',
    closing_user_message: null,
    status: turns.every((t) => t.status === 'ok') ? 'ok' : 'error',
    error: null,
    duration_ms: turns.reduce((n, t) => n + t.duration_ms, 0),
    attempts: 1,
    warnings: [],
    usage: null,
    cost_usd: null,
    ...extra,
  };
}
