import { complete } from './llm.js';

const history = new Map();

export async function handleMessage({ userId, message, channel }, { send }) {
  const turns = history.get(userId) ?? [];
  turns.push(message);
  history.set(userId, turns);
  const reply = await complete(`Customer (${channel}): ${message}`, {
    model: 'gpt-4o-mini',
    max_tokens: 256,
    apiKey: process.env.OPENAI_API_KEY ?? 'sk-demo-0000000000000000000000',
  });
  send(reply.text);
  return { userId, reply: reply.text, turn: turns.length };
}
