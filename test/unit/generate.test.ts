import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseInputsFile, parseSimulationConfig } from '../../src/config/simulation';
import { LLM_DEFAULTS } from '../../src/config/types';
import { generateInputs } from '../../src/experiment/generate';
import { renderInputsFile } from '../../src/experiment/inputs-file';
import { parseVariations, variationPrompt } from '../../src/experiment/llm-variations';

const CONFIG = `base_inputs:
  - "Can I get a refund?"
  - { input: "Is the shop open on Sunday?", metadata: { topic: hours } }
  - "Where is my parcel?"
input_generation:
  strategies: [rephrase, typo, noise, adversarial]
  variation_count: 3
  seed: 11
`;

const run = (yaml: string, more: Parameters<typeof generateInputs>[0] = {}) => generateInputs({ projectDir: os.tmpdir(), config: parseSimulationConfig(yaml), ...more });

describe('generateInputs (deterministic)', () => {
  it('gives variation_count distinct variations per base input and strategy, all unlike any other input', async () => {
    const { inputs, stats, shortfalls } = await run(CONFIG);
    expect(shortfalls).toEqual([]);
    expect(stats).toEqual({ total: 39, base_inputs: 3, personas: 0, strategies: { base: 3, rephrase: 9, typo: 9, noise: 9, adversarial: 9 } });
    expect(new Set(inputs.map((e) => e.input)).size).toBe(inputs.length);
    // Grouped by base input, base input first.
    expect(inputs.map((e) => e.metadata.base_index)).toEqual([...Array(13).fill(0), ...Array(13).fill(1), ...Array(13).fill(2)]);
    expect(inputs[13]).toEqual({ input: 'Is the shop open on Sunday?', metadata: { topic: 'hours', strategy: 'base', base_index: 1, persona: null, seed: 11 } });
  });

  it('is the same for the same seed, whatever else is asked for', async () => {
    const a = await run(CONFIG);
    const b = await run(CONFIG);
    expect(b.inputs).toEqual(a.inputs);
    // A strategy's variations of a base input do not depend on the other strategies.
    const typoOnly = await run(CONFIG, { strategies: ['typo'] });
    const typos = (r: typeof a) => r.inputs.filter((e) => e.metadata.strategy === 'typo').map((e) => e.input);
    expect(typos(typoOnly)).toEqual(typos(a));
    const other = await run(CONFIG, { seed: 12 });
    expect(typos(other)).not.toEqual(typos(a));
  });

  it('takes strategies in turn under a limit, each across the base inputs', async () => {
    const { inputs, stats } = await run(CONFIG, { limit: 10 });
    expect(inputs).toHaveLength(10);
    expect(stats.strategies).toEqual({ base: 2, rephrase: 2, typo: 2, noise: 2, adversarial: 2 });
    const few = await run(CONFIG, { limit: 3 });
    expect(few.inputs.map((e) => e.metadata.strategy)).toEqual(['base', 'rephrase', 'typo']);
  });

  it('leaves the base inputs out when include_base_inputs is false, and reports strategies that run dry', async () => {
    const { inputs, shortfalls } = await run(`base_inputs: ["hi there"]\ninput_generation:\n  strategies: [concise]\n  variation_count: 4\n  include_base_inputs: false\n`);
    expect(inputs.every((e) => e.metadata.strategy === 'concise')).toBe(true);
    expect(shortfalls).toHaveLength(1);
    expect(shortfalls[0]!.made).toBe(inputs.length);
    expect(inputs.length).toBeLessThan(4);
  });
});

describe('the inputs file', () => {
  it('reads back exactly, adversarial probes and all', async () => {
    const result = await run(CONFIG);
    const text = renderInputsFile(result, new Date('2026-01-02T03:04:05Z'));
    expect(text.split('\n')[0]).toBe('# Inputs for fluxloop experiments, made by `fluxloop generate inputs` at 2026-01-02T03:04:05.000Z');
    expect(parseInputsFile(text, 'inputs/generated.yaml')).toEqual(result.inputs);
    const probes = result.inputs.filter((e) => e.metadata.strategy === 'adversarial');
    expect(probes.map((e) => e.metadata.probe)).toContain('very_long');
    expect(probes.some((e) => e.input.length >= 10_000)).toBe(true);
  });
});

describe('LLM prompts and replies', () => {
  it('fills the template in one pass, so braces in the input stay as they are', () => {
    const persona = { name: 'novice', description: 'new to computers', characteristics: [], goals: ['reset a password'], constraints: [], expertise_level: 'novice' };
    const [system, user] = variationPrompt(LLM_DEFAULTS, 'Why does {count} show {persona}?', 'typo', persona, 3);
    expect(system!.role).toBe('system');
    expect(user!.content).toContain('Write 3 different variations');
    expect(user!.content).toContain('Strategy: typo: keep the wording but add realistic typing mistakes');
    expect(user!.content).toContain('Persona: novice: new to computers; goals: reset a password; expertise: novice');
    expect(user!.content).toContain('Message: Why does {count} show {persona}?');
    const custom = variationPrompt({ ...LLM_DEFAULTS, user_prompt_template: '{strategy}|{input}|{unknown}', system_prompt: 'sys' }, 'hi', 'noise', undefined, 2);
    expect(custom).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'noise|hi|{unknown}' },
    ]);
  });

  it.each([
    ['["a", "b"]', ['a', 'b']],
    ['```json\n["a", "b"]\n```', ['a', 'b']],
    ['{"variations": ["a"]}', ['a']],
    ['[{"input": "a"}, {"input": "b"}, 3]', ['a', 'b']],
    ['Here are two:\n1. a\n2) "b"\n- c\n\n', ['a', 'b', 'c']],
    ['[]', undefined],
    ['42', undefined],
    ['{"text": "nothing here"}', undefined],
    ['   ', undefined],
  ])('reads the variations in %j', (content, expected) => {
    expect(parseVariations(content)).toEqual(expected);
  });
});
