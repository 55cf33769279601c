// A stand-in for an LLM client, so that the example needs no network and no key.
export async function complete(prompt, { model, max_tokens, apiKey }) {
  if (!apiKey) throw new Error('no API key');
  const topic = /refund/i.test(prompt) ? 'refunds' : /open|hours|sunday/i.test(prompt) ? 'opening hours' : 'your question';
  return { model, text: `Thanks for asking about ${topic}.`, usage: { max_tokens } };
}
