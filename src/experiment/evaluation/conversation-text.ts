import type { ConversationResult, ConversationTurn } from '../conversation-result';
import { outputText } from './rules';

/** A message of a conversation's transcript. */
export interface TranscriptMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** What the agent said in a turn: its output as the rules read it, or that it failed. */
export function agentReply(turn: Pick<ConversationTurn, 'status' | 'output' | 'error'>): string {
  return turn.status === 'ok' ? outputText(turn.output) : `(the agent failed: ${turn.error?.message ?? turn.status})`;
}

/** The conversation as it went: each turn's user message and reply, then the user's closing words when there were some. */
export function transcript(conversation: Pick<ConversationResult, 'turns' | 'closing_user_message'>): TranscriptMessage[] {
  const messages: TranscriptMessage[] = [];
  for (const turn of conversation.turns) {
    messages.push({ role: 'user', content: turn.user_message }, { role: 'assistant', content: agentReply(turn) });
  }
  if (conversation.closing_user_message) messages.push({ role: 'user', content: conversation.closing_user_message });
  return messages;
}

/** The agent's replies as one text, each under its turn: what a regression's diff compares for a conversation. */
export function repliesText(conversation: Pick<ConversationResult, 'turns'>): string {
  return conversation.turns.map((t) => `[turn ${t.turn}] ${agentReply(t)}`).join('\n\n');
}
