import type { EvaluatorConfig } from '../../config/types';
import type { RunResult } from '../../replay/execute';
import { LlmError, LlmStopped, type ChatClient } from '../llm-client';
import type { ConversationResult } from '../conversation-result';
import { transcript } from './conversation-text';
import { outputText, type Verdict } from './rules';

// Long texts are cut so that one huge reply cannot blow the model's context or the bill.
const MAX_TEXT = 8000;
const cut = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}\n[... ${text.length - MAX_TEXT} more characters cut]` : text);

const SYSTEM_PROMPT =
  'You grade one reply of an AI agent against a rubric. Answer with only a JSON object: ' +
  '{"score": <a number from 0 (fails the rubric) to 1 (fully meets it)>, "reason": "<one short sentence>"}.';

function judgePrompt(rubric: string, run: RunResult): string {
  const outcome = run.status === 'ok' ? outputText(run.output) : `(the agent failed: ${run.error?.message ?? run.status})`;
  return `Rubric:\n${rubric}\n\nThe user's input:\n${cut(run.input)}\n\nThe agent's reply:\n${cut(outcome)}`;
}

/** A score on 0–1, 0–10 or 0–100 brought to 0–1; undefined when it is no score. */
function unitScore(value: unknown, scale?: number): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < 0) return undefined;
  const base = scale ?? (n <= 1 ? 1 : n <= 10 ? 10 : n <= 100 ? 100 : undefined);
  return base === undefined || n > base ? undefined : n / base;
}

/**
 * The judge's score and reason. Models do not always answer with bare JSON: a code fence, a
 * sentence around the object, `Score: 8/10` or `0.7 - because...` are read too.
 */
export function parseJudgement(text: string): Verdict | undefined {
  const object = text.match(/\{[\s\S]*\}/)?.[0];
  if (object) {
    try {
      const json = JSON.parse(object) as { score?: unknown; reason?: unknown };
      const score = unitScore(json.score);
      if (score !== undefined) return { score, reason: typeof json.reason === 'string' && json.reason.trim() ? json.reason.trim() : 'no reason given' };
    } catch {
      // Not JSON after all: try the plain-text forms.
    }
  }
  const labelled = text.match(/score\W{0,3}?\s*([0-9]+(?:\.[0-9]+)?)(?:\s*(?:\/|out of)\s*(10{0,2}|5))?/i) ?? text.match(/^\s*([0-9]+(?:\.[0-9]+)?)(?:\s*(?:\/|out of)\s*(10{0,2}|5))?\b/);
  if (!labelled) return undefined;
  const score = unitScore(labelled[1], labelled[2] ? Number(labelled[2]) : undefined);
  if (score === undefined) return undefined;
  const reason = text.replace(labelled[0], '').replace(/^[\s.,:;\-–—]+/, '').trim().split('\n')[0] || 'no reason given';
  return { score, reason };
}

/** A stopped judge's message: how far it got, and how to go further. */
function judgeStopped(error: LlmStopped): LlmStopped {
  const how =
    error.reason === 'max_time'
      ? 'Raise the limit with --max-time <seconds> or evaluation.llm.max_time_ms'
      : 'Check the endpoint; --max-consecutive-failures <n> or evaluation.llm.max_consecutive_failures sets how many failures in a row stop it';
  const message = `the judge stopped: ${error.message}. ${error.done} request${error.done === 1 ? '' : 's'} done; the evaluation was not written. ${how}.`;
  return new LlmStopped(message, error.reason, error.done, error.lastError);
}

type Ask = (system: string, prompt: string, model: string) => Promise<Verdict>;

/** One question to the judge: its verdict, or a skip when it cannot be reached or gives no score. */
function asker(client: ChatClient, temperature: number): Ask {
  return async (system, prompt, model) => {
    try {
      const { content } = await client.complete({
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: prompt },
        ],
        temperature,
        model,
      });
      const verdict = parseJudgement(content);
      return verdict ?? { score: null, reason: `the judge's reply has no score: ${JSON.stringify(content.slice(0, 80))}` };
    } catch (error) {
      if (error instanceof LlmError) return { score: null, reason: `the judge could not be reached: ${error.message}` };
      // Not a skip: the runs left would be scored on the other evaluators alone, and pass unjudged.
      if (error instanceof LlmStopped) throw judgeStopped(error);
      throw error;
    }
  };
}

/** Asks once per key: iterations and the baseline's identical replies cost one call. */
function cached(ask: Ask): (key: string, system: string, prompt: string, model: string) => Promise<Verdict> {
  const cache = new Map<string, Promise<Verdict>>();
  return (key, system, prompt, model) => {
    let verdict = cache.get(key);
    if (verdict === undefined) cache.set(key, (verdict = ask(system, prompt, model)));
    return verdict;
  };
}

/**
 * The llm_judge evaluator over a client. Verdicts are cached by model, rubric, input and output,
 * so that iterations and the baseline's identical replies cost one call.
 */
export function createJudge(client: ChatClient, model: string, temperature: number): (config: EvaluatorConfig, run: RunResult) => Promise<Verdict> {
  const ask = cached(asker(client, temperature));
  return (config, run) => {
    const asked = config.model ?? model;
    const key = JSON.stringify([asked, config.rubric, run.input, run.status, outputText(run.output)]);
    return ask(key, SYSTEM_PROMPT, judgePrompt(config.rubric!, run), asked);
  };
}

const CONVERSATION_PROMPT =
  'You grade a whole conversation between a user and an AI agent against a rubric. Answer with only a JSON object: ' +
  '{"score": <a number from 0 (fails the rubric) to 1 (fully meets it)>, "reason": "<one short sentence>"}.';

/** A message of the transcript the judge reads, cut as a reply is. */
const MAX_MESSAGE = 4000;
/** The whole transcript: a conversation of 100 turns must still fit a model's context. */
const MAX_TRANSCRIPT = 48000;

/** The conversation as the judge reads it: each message with its speaker, then how it ended. */
export function transcriptPrompt(rubric: string, conversation: ConversationResult): string {
  const lines = transcript(conversation).map((m) => `${m.role === 'user' ? 'User' : 'Agent'}: ${m.content.length > MAX_MESSAGE ? `${m.content.slice(0, MAX_MESSAGE)} [... cut]` : m.content}`);
  let text = lines.join('\n\n');
  // The end says how the conversation went: the beginning is what gives way.
  if (text.length > MAX_TRANSCRIPT) text = `[... ${text.length - MAX_TRANSCRIPT} earlier characters cut]\n${text.slice(-MAX_TRANSCRIPT)}`;
  return `Rubric:\n${rubric}\n\nThe conversation:\n${text}\n\nIt ended: ${conversation.termination_reason}`;
}

/**
 * llm_judge with `scope: conversation`: the whole transcript judged against the rubric. Cached by
 * model, rubric and transcript, as turn verdicts are by reply.
 */
export function createConversationJudge(client: ChatClient, model: string, temperature: number): (config: EvaluatorConfig, conversation: ConversationResult) => Promise<Verdict> {
  const ask = cached(asker(client, temperature));
  return (config, conversation) => {
    const asked = config.model ?? model;
    const prompt = transcriptPrompt(config.rubric!, conversation);
    return ask(JSON.stringify([asked, prompt]), CONVERSATION_PROMPT, prompt, asked);
  };
}
