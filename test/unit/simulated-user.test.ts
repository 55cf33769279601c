import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { LLM_DEFAULTS, type LlmConfig, type SimulatedUserConfig } from '../../src/config/types.js';
import { TERMINATION, type SimulatedUserRequest } from '../../src/experiment/conversation-result.js';
import { LlmError } from '../../src/experiment/llm-client.js';
import { createSimulatedUser, DEFAULT_MOCK_NEXT_USER_MESSAGE, DEFAULT_SIMULATED_USER_PROMPT, personaText } from '../../src/experiment/simulated-user.js';
import { startFakeOpenAi, type FakeAnswer, type FakeOpenAi } from '../fake-openai.js';

const KEY_ENV = 'FLUXLOOP_TEST_SIMULATED_USER_KEY';
const KEY = 'sk-simulated-user-secret-1234';
let root: string;
let fake: FakeOpenAi | undefined;
let server: http.Server | undefined;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-simuser-'));
  process.env[KEY_ENV] = KEY;
});
afterAll(() => {
  delete process.env[KEY_ENV];
  fs.rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

const mock = (extra: Partial<SimulatedUserConfig> = {}): SimulatedUserConfig => ({ provider: 'mock', llm: LLM_DEFAULTS, mock_decision: 'terminate', ...extra });
const openai = (llm: Partial<LlmConfig>): SimulatedUserConfig => ({
  provider: 'openai-compatible',
  llm: { ...LLM_DEFAULTS, api_key_env: KEY_ENV, model: 'sim-model', temperature: 0.3, max_retries: 0, ...llm },
  mock_decision: 'terminate',
});
const request = (asked = 0): SimulatedUserRequest => ({
  transcript: [
    { role: 'user', content: 'My flight was cancelled.' },
    { role: 'assistant', content: 'I can rebook you on the 6 pm flight.' },
  ],
  persona: 'Name: impatient\nGoals: get home tonight',
  service_context: 'Airline support',
  asked,
});

async function answering(reply: (count: number) => FakeAnswer) {
  fake = await startFakeOpenAi((ask) => reply(ask.count));
  return fake;
}

/** A chat completions server that answers each request with the next status and body. */
async function replying(replies: Array<{ status: number; body: string }>) {
  let n = 0;
  server = http.createServer((req, res) => {
    req.resume().on('end', () => {
      const { status, body } = replies[Math.min(n++, replies.length - 1)]!;
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, count: () => n };
}

const completion = (content: string) => JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] });

describe('the mock simulated user', () => {
  it('plays its script, then ends with its reason and closing', async () => {
    const user = createSimulatedUser(root, mock({ scripted_questions: ['second', 'third'], mock_closing: 'Thanks', mock_decision: 'continue' }));
    expect(await user.next(request(0))).toEqual({ decision: 'continue', next_user_message: 'second' });
    expect(await user.next(request(1))).toEqual({ decision: 'continue', next_user_message: 'third' });
    expect(await user.next(request(2))).toEqual({ decision: 'terminate', termination_reason: TERMINATION.scriptComplete, closing_user_message: 'Thanks' });
    const custom = createSimulatedUser(root, mock({ scripted_questions: [], mock_reason: 'done_here' }));
    expect(await custom.next(request(0))).toEqual({ decision: 'terminate', termination_reason: 'done_here', closing_user_message: null });
  });

  it('without a script, terminates or continues as mock_decision says', async () => {
    expect(await createSimulatedUser(root, mock()).next(request())).toEqual({ decision: 'terminate', termination_reason: TERMINATION.terminated, closing_user_message: null });
    expect(await createSimulatedUser(root, mock({ mock_reason: 'bored', mock_closing: 'Bye' })).next(request())).toEqual({ decision: 'terminate', termination_reason: 'bored', closing_user_message: 'Bye' });
    expect(await createSimulatedUser(root, mock({ mock_decision: 'continue' })).next(request(5))).toEqual({ decision: 'continue', next_user_message: DEFAULT_MOCK_NEXT_USER_MESSAGE });
    expect(await createSimulatedUser(root, mock({ mock_decision: 'continue', mock_next_user_message: 'And?' })).next(request())).toEqual({ decision: 'continue', next_user_message: 'And?' });
  });
});

describe('the simulated user on an OpenAI-compatible endpoint', () => {
  it('asks with the persona, the service and the transcript, and reads the decision', async () => {
    const f = await answering(() => ({ text: JSON.stringify({ decision: 'continue', next_user_message: ' What about tomorrow? ', termination_reason: null, closing_user_message: null }) }));
    const user = createSimulatedUser(root, openai({ base_url: f.url }));
    expect(await user.next(request())).toEqual({ decision: 'continue', next_user_message: 'What about tomorrow?' });
    const { body, headers } = f.asks[0]!;
    expect(body.model).toBe('sim-model');
    expect(body.temperature).toBe(0.3);
    expect(headers.authorization).toBe(`Bearer ${KEY}`);
    expect(body.messages[0]).toEqual({ role: 'system', content: DEFAULT_SIMULATED_USER_PROMPT });
    const prompt: string = body.messages[1].content;
    expect(body.messages[1].role).toBe('user');
    expect(prompt).toContain('Airline support');
    expect(prompt).toContain('Name: impatient\nGoals: get home tonight');
    expect(prompt).toContain('1. User: My flight was cancelled.\n2. Assistant: I can rebook you on the 6 pm flight.');
    expect(prompt).toContain('Respond ONLY in JSON');
    expect(prompt).toContain('"decision": "continue" | "terminate"');
  });

  it('uses the configured system prompt, and reads JSON in fences; a terminate without a reason is supervisor_terminate', async () => {
    const replies = ['```json\n{"decision": "terminate", "termination_reason": "user_satisfied", "closing_user_message": "Great, thanks!"}\n```', 'Sure: {"decision": "terminate", "termination_reason": null, "closing_user_message": 42}'];
    const f = await answering((count) => ({ text: replies[count - 1] }));
    const user = createSimulatedUser(root, openai({ base_url: f.url, system_prompt: 'Be a pirate.' }));
    expect(await user.next(request())).toEqual({ decision: 'terminate', termination_reason: 'user_satisfied', closing_user_message: 'Great, thanks!' });
    expect(await user.next(request())).toEqual({ decision: 'terminate', termination_reason: TERMINATION.terminated, closing_user_message: '42' });
    expect(f.asks[0]!.body.messages[0]).toEqual({ role: 'system', content: 'Be a pirate.' });
  });

  it('rejects a reply that is not a decision, quoting at most 200 characters of it', async () => {
    const long = `I think the user is happy. ${'x'.repeat(400)}`;
    const replies = [long, '{"decision": "maybe"}', '{"decision": "continue", "next_user_message": "  "}', '{"decision": "continue", "next_user_message": {"text": "hi"}}', '["continue"]'];
    const f = await answering((count) => ({ text: replies[count - 1] }));
    const user = createSimulatedUser(root, openai({ base_url: f.url }));
    const first = await user.next(request()).catch((e: Error) => e);
    expect(first).toBeInstanceOf(Error);
    expect((first as Error).message).toMatch(/^the simulated user's reply is not a JSON object: "I think the user is happy\./);
    expect((first as Error).message).not.toContain('x'.repeat(201));
    await expect(user.next(request())).rejects.toThrow(/no decision "continue" or "terminate".*maybe/);
    await expect(user.next(request())).rejects.toThrow(/without a next_user_message/);
    await expect(user.next(request())).rejects.toThrow(/without a next_user_message/);
    await expect(user.next(request())).rejects.toThrow(/is not a JSON object/);
  });

  it('retries a 500, and lets a 400 through as an LlmError without the key', async () => {
    const s = await replying([
      { status: 500, body: '{"error":"busy"}' },
      { status: 200, body: completion('{"decision": "continue", "next_user_message": "Is it refundable?"}') },
      { status: 400, body: `{"error":"bad key ${KEY}"}` },
    ]);
    const user = createSimulatedUser(root, openai({ base_url: s.url, max_retries: 1 }));
    expect(await user.next(request())).toEqual({ decision: 'continue', next_user_message: 'Is it refundable?' });
    expect(s.count()).toBe(2);
    const error = await user.next(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).status).toBe(400);
    expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain(KEY);
  });

  it('without a key for api.openai.com, fails when made, with a ConfigError naming the variable', () => {
    const config = openai({ base_url: 'https://api.openai.com/v1', api_key_env: 'FLUXLOOP_TEST_SIMULATED_USER_UNSET' });
    expect(() => createSimulatedUser(root, config, 'configs/sim.yaml')).toThrow(ConfigError);
    expect(() => createSimulatedUser(root, config, 'configs/sim.yaml')).toThrow(/configs\/sim\.yaml \(multi_turn\.supervisor\.api_key_env\).*FLUXLOOP_TEST_SIMULATED_USER_UNSET/);
  });
});

describe('personaText', () => {
  it('writes each field that is set on its own line', () => {
    expect(personaText({ name: 'impatient', description: 'A frequent flyer in a hurry', characteristics: ['terse', 'direct'], goals: ['rebook today'], constraints: [], language: 'en', expertise_level: 'expert' })).toBe(
      'Name: impatient\nDescription: A frequent flyer in a hurry\nCharacteristics: terse; direct\nGoals: rebook today\nLanguage: en\nExpertise level: expert',
    );
    expect(personaText({ name: 'plain', characteristics: [], goals: [], constraints: ['no phone calls'] })).toBe('Name: plain\nConstraints: no phone calls');
  });
});
