import type { Usage } from '../record/downstream-format';
import type { Divergence, RunCall } from '../replay/calls';
import type { RunResult, RunStatus } from '../replay/execute';

/** Where a turn's user message came from. */
export type TurnSource =
  /** A recorded turn before the resume point, replayed with its recorded arguments. */
  | 'recorded'
  /** The experiment's input: the first turn, or turn k when resuming at k. */
  | 'input'
  /** The simulated user's next message. */
  | 'simulated_user';

/**
 * One turn of a conversation: the agent's call as a run's result, with the user's message and the
 * observations the call made. `trace_id` is the conversation's, then `:` and the turn.
 */
export interface ConversationTurn extends Omit<RunResult, 'input' | 'input_index' | 'iteration' | 'metadata' | 'override_param_path' | 'target' | 'attempts' | 'recording_index'> {
  /** From 1. */
  turn: number;
  source: TurnSource;
  /** The user's message: what went at the override path (for a recorded turn, what the recording had there). */
  user_message: string;
  /** The observations of the turn's call, as observations.jsonl writes a run's. */
  observations: unknown[];
  /** The downstream calls of the recorded turn it was called with, masked (what its own were compared with); null without one, or for one made before calls were recorded. */
  recorded_downstream: unknown[] | null;
}

/**
 * Why a conversation ended: one of these, or the reason the simulated user gave when it ended it
 * (`user_satisfied`, say; `supervisor_terminate` when it gave none).
 */
export const TERMINATION = {
  /** `multi_turn.max_turns` turns were made. */
  maxTurns: 'max_turns_reached',
  /** The simulated user ended it without a reason. */
  terminated: 'supervisor_terminate',
  /** The mock's script ran out (its `mock_reason` otherwise). */
  scriptComplete: 'script_complete',
  /** A turn ended in an error or a timeout: the conversation could not go on as the app's would. */
  agentError: 'agent_error',
  /** The simulated user could not answer (its endpoint failed, or it answered nothing usable). */
  simulatedUserError: 'supervisor_error',
} as const;

/** One line of traces.jsonl for a conversation (multi_turn enabled). */
export interface ConversationResult {
  /** Tells a conversation's line from a single run's. */
  kind: 'conversation';
  trace_id: string;
  /**
   * The recorded conversation: its key's value (`replay_args.conversation.key`), `recording #N`
   * for a recording without one, or `input #N` for a conversation without recordings.
   */
  conversation_id: string;
  iteration: number;
  /** The experiment's input (the variation): the user's first message, or turn k's when resuming. */
  input: string;
  input_index: number;
  metadata: Record<string, unknown>;
  target: string | null;
  override_param_path: string | null;
  /** The recording the conversation's recorded turns are in; null without recordings. */
  recording_file: string | null;
  /** The index of its first recorded turn among the recordings: what pairs it with a baseline's. */
  recording_index: number | null;
  /** The line of its first recorded turn. */
  recording_line: number | null;
  /** Every recorded turn's line, in order. */
  recording_lines: number[];
  /** k when the conversation was resumed at turn k (`multi_turn.resume_from`, `--resume-at`), else null. */
  resumed_from: number | null;
  turns: ConversationTurn[];
  /** See {@link TERMINATION}. */
  termination_reason: string;
  /** The simulated user's last word, when it ended the conversation with one. */
  closing_user_message: string | null;
  /** `ok` when every turn was ok and the conversation ended as the simulated user or max_turns said. */
  status: RunStatus;
  /** The failed turn's error, or the simulated user's. */
  error: RunResult['error'];
  duration_ms: number;
  attempts: number;
  /** Every turn's warnings, each with its turn. */
  warnings: string[];
  /** Tokens of every turn's live LLM calls (not the simulated user's); null when none. */
  usage: Usage | null;
  cost_usd: number | null;
}

/** A conversation's result without its turns: what the experiment counts, with every turn's downstream calls for the tally. */
export interface ConversationSummary extends Omit<ConversationResult, 'turns'> {
  turn_count: number;
  downstream: RunCall[];
  /** The first turn whose calls parted from its recording's. */
  divergence: (Divergence & { turn: number }) | null;
}

/** What the simulated user is asked, after each of the agent's answers. */
export interface SimulatedUserRequest {
  /** The conversation so far, the agent's last answer last. */
  transcript: Array<{ role: 'user' | 'assistant'; content: string }>;
  /** The persona it plays, as text (a persona's description, characteristics and goals). */
  persona?: string;
  /** What the service is. */
  service_context?: string;
  /** How many messages the simulated user has written in this conversation so far: where the mock's script stands. */
  asked: number;
}

/** What the simulated user decided. */
export type SimulatedUserDecision =
  | { decision: 'continue'; next_user_message: string }
  | { decision: 'terminate'; termination_reason: string; closing_user_message: string | null };

/** The simulated user, wherever it runs: the runner's thread answers a run thread's questions. */
export interface SimulatedUser {
  /** Rejects with a message fit to show when it cannot answer. */
  next(request: SimulatedUserRequest): Promise<SimulatedUserDecision>;
}

/** Whether a traces.jsonl line (or a finished run's summary) is a conversation's. */
export function isConversation<T extends object>(line: T): line is Extract<T, { kind: 'conversation' }>;
export function isConversation(line: unknown): line is ConversationResult;
export function isConversation(line: unknown): boolean {
  return typeof line === 'object' && line !== null && (line as { kind?: unknown }).kind === 'conversation';
}
