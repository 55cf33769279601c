import type { Persona, SimulatedUserConfig } from '../config/types';
import { TERMINATION, type SimulatedUser, type SimulatedUserDecision, type SimulatedUserRequest } from './conversation-result';
import { clientFor, type ChatClient, type ChatMessage } from './llm-client';

/** The mock's next message without a script, as FluxLoop's. */
export const DEFAULT_MOCK_NEXT_USER_MESSAGE = 'Could you provide a bit more detail about that?';

/** What the simulated user is told it is, when `multi_turn.supervisor.system_prompt` does not say. */
export const DEFAULT_SIMULATED_USER_PROMPT = [
  "You play the user described by the persona below, talking to the service's AI assistant.",
  'Read the conversation so far and decide whether the user would carry on.',
  "When continuing, write the user's next message, in the persona's voice and language, as the user would type it.",
  'When ending, give a short snake_case reason (such as user_satisfied, goal_achieved, user_gave_up)',
  'and, if the user would say one, a closing message.',
].join(' ');

const SCHEMA = [
  'Respond ONLY in JSON with the following schema:',
  '{',
  '  "decision": "continue" | "terminate",',
  '  "next_user_message": string | null,',
  '  "termination_reason": string | null,',
  '  "closing_user_message": string | null',
  '}',
].join('\n');

/** The persona as lines of text, one field a line, for the simulated user's prompt (`request.persona`). */
export function personaText(persona: Persona): string {
  const lines = [`Name: ${persona.name}`];
  const add = (label: string, value: string | undefined) => {
    if (value) lines.push(`${label}: ${value}`);
  };
  add('Description', persona.description);
  add('Characteristics', persona.characteristics.join('; '));
  add('Goals', persona.goals.join('; '));
  add('Constraints', persona.constraints.join('; '));
  add('Language', persona.language);
  add('Expertise level', persona.expertise_level);
  return lines.join('\n');
}

/**
 * The simulated user of `multi_turn.supervisor`: the mock plays its script (or its one decision)
 * with no network; otherwise an OpenAI-compatible endpoint decides. The endpoint's client is made
 * here, once, so that its deadline and its stop after failures in a row cover the whole experiment,
 * and a missing key is a ConfigError at start rather than at the first conversation's second turn.
 */
export function createSimulatedUser(root: string, config: SimulatedUserConfig, source = 'configs/simulation.yaml'): SimulatedUser {
  if (config.provider === 'mock') return { next: async (request) => mockDecision(config, request) };
  const client = clientFor(root, config.llm, 'the simulated user (multi_turn.supervisor)', { file: source, field: 'multi_turn.supervisor.api_key_env' });
  return { next: (request) => askModel(client, config, request) };
}

function mockDecision(config: SimulatedUserConfig, request: SimulatedUserRequest): SimulatedUserDecision {
  const script = config.scripted_questions;
  if (script !== undefined) {
    if (request.asked < script.length) return { decision: 'continue', next_user_message: script[request.asked]! };
    return { decision: 'terminate', termination_reason: config.mock_reason ?? TERMINATION.scriptComplete, closing_user_message: config.mock_closing ?? null };
  }
  if (config.mock_decision === 'continue') {
    return { decision: 'continue', next_user_message: config.mock_next_user_message ?? DEFAULT_MOCK_NEXT_USER_MESSAGE };
  }
  return { decision: 'terminate', termination_reason: config.mock_reason ?? TERMINATION.terminated, closing_user_message: config.mock_closing ?? null };
}

/** The conversation as numbered lines: `1. User: ...`, `2. Assistant: ...`. */
export function formatTranscript(transcript: SimulatedUserRequest['transcript']): string {
  return transcript.map((m, i) => `${i + 1}. ${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content.trim()}`).join('\n');
}

/** The chat messages that ask the model for its decision. */
export function simulatedUserPrompt(config: SimulatedUserConfig, request: SimulatedUserRequest): ChatMessage[] {
  const question = [
    `Service context: ${request.service_context || 'not given'}`,
    `Persona:\n${request.persona || 'a typical user'}`,
    '',
    'Conversation so far:',
    formatTranscript(request.transcript),
    '',
    SCHEMA,
  ].join('\n');
  return [
    { role: 'system', content: config.llm.system_prompt || DEFAULT_SIMULATED_USER_PROMPT },
    { role: 'user', content: question },
  ];
}

async function askModel(client: ChatClient, config: SimulatedUserConfig, request: SimulatedUserRequest): Promise<SimulatedUserDecision> {
  // LlmError and LlmStopped go up as they are: their messages are already masked and say what failed.
  const { content } = await client.complete({ messages: simulatedUserPrompt(config, request), temperature: config.llm.temperature, model: config.llm.model });
  return parseDecision(content);
}

/** A text field of the reply: strings trimmed, numbers and booleans written out, anything else (null, objects) absent. */
function text(value: unknown): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return undefined;
  return value.trim() || undefined;
}

/** Reads the model's reply: JSON, or the JSON object within it (models wrap it in ``` fences or in words). */
export function parseDecision(reply: string): SimulatedUserDecision {
  const fail = (why: string) =>
    new Error(`the simulated user's reply ${why}: ${JSON.stringify(reply.length > 200 ? `${reply.slice(0, 200)}…` : reply)}`);
  const payload = extractObject(reply);
  if (payload === undefined) throw fail('is not a JSON object');
  const decision = typeof payload.decision === 'string' ? payload.decision.trim().toLowerCase() : payload.decision;
  if (decision === 'continue') {
    const next = text(payload.next_user_message);
    if (next === undefined) throw fail('continues the conversation without a next_user_message');
    return { decision: 'continue', next_user_message: next };
  }
  if (decision === 'terminate') {
    return {
      decision: 'terminate',
      termination_reason: text(payload.termination_reason) ?? TERMINATION.terminated,
      closing_user_message: text(payload.closing_user_message) ?? null,
    };
  }
  throw fail('has no decision "continue" or "terminate"');
}

function extractObject(reply: string): Record<string, unknown> | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const attempt = (candidate: string) => {
    try {
      const value: unknown = JSON.parse(candidate);
      return isObject(value) ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const start = reply.indexOf('{');
  const end = reply.lastIndexOf('}');
  return attempt(reply.trim()) ?? (start >= 0 && end > start ? attempt(reply.slice(start, end + 1)) : undefined);
}
