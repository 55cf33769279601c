/** The two argument sets the per-call benchmark calls the agent with. */

/** What a chat handler typically gets: a message and a few options. */
export function smallArgs() {
  return ['How do I reset my password?', { userId: 'u_1042', locale: 'en-US', stream: false, temperature: 0.2 }];
}

/**
 * A 10 KB nested object: a conversation with its history, user profile and retrieved documents,
 * the kind of state an agent function is handed. Built once, reused by every call.
 */
export function largeArgs() {
  const messages = [];
  for (let i = 0; messages.length < 42; i++) {
    messages.push({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `Message ${i}: my order #${10_000 + i} has not arrived yet and the tracking page says it is in transit.`,
      at: 1_700_000_000_000 + i * 60_000,
      meta: { tokens: 20 + i, model: 'gpt-4o-mini', flagged: false },
    });
  }
  const documents = [];
  for (let i = 0; i < 12; i++) {
    documents.push({ id: `doc-${i}`, title: `Shipping policy, part ${i}`, score: 0.91 - i * 0.07, tags: ['shipping', 'orders', 'returns'] });
  }
  const state = {
    conversation: { id: 'c_81f2', channel: 'web', messages },
    user: { id: 'u_1042', name: 'Ada Lovelace', plan: 'pro', locale: 'en-GB', address: { city: 'London', country: 'GB' } },
    retrieval: { query: 'where is my order', documents },
    settings: { temperature: 0.2, maxTokens: 512, tools: ['lookup_order', 'refund', 'escalate'] },
  };
  return [state];
}
