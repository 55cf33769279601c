import { describe, expect, it } from 'vitest';
import { STRATEGIES, type Persona, type Strategy } from '../../src/config/types.js';
import { TRANSFORMS, type Variation, type VariationContext } from '../../src/experiment/variations/index.js';
import { chance, int, pick, seededRandom, shuffle } from '../../src/experiment/variations/random.js';

const SAMPLES = ['Can I get a refund?', 'Is the shop open on Sunday?', 'My order #1234 arrived broken, what should I do?', 'hi'];

const PERSONA: Persona = {
  name: 'rushed',
  description: 'A busy parent who gets frustrated with slow support',
  characteristics: ['impatient', 'non-technical'],
  language: 'es',
  expertise_level: 'novice',
  goals: ['get my money back quickly'],
  constraints: [],
};

function run(strategy: Strategy, base: string, attempt: number, extra: Partial<VariationContext> = {}): Variation | undefined {
  const ctx: VariationContext = { rng: seededRandom(42, base, strategy, attempt), attempt, persona: PERSONA, typoRate: 0.05, ...extra };
  return TRANSFORMS[strategy](base, ctx);
}

function outputs(strategy: Strategy, base: string, attempts: number, extra: Partial<VariationContext> = {}): Array<string | undefined> {
  return Array.from({ length: attempts }, (_, a) => run(strategy, base, a, extra)?.input);
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

const LONG_TEXT = Array.from(
  { length: 15 },
  () => 'My order arrived broken and I would like to return it for a refund before the weekend, thanks.',
).join(' ');

describe('seededRandom', () => {
  const take = (rng: () => number, n = 8) => Array.from({ length: n }, rng);

  it('gives the same sequence for the same parts and another for other parts', () => {
    expect(take(seededRandom(7, 'x'))).toEqual(take(seededRandom(7, 'x')));
    expect(take(seededRandom(7, 'x'))).not.toEqual(take(seededRandom(7, 'y')));
    expect(take(seededRandom(7, 'x'))).not.toEqual(take(seededRandom(8, 'x')));
    // Where one part ends and the next begins, and numbers against strings, count too.
    expect(take(seededRandom('ab', 'c'))).not.toEqual(take(seededRandom('a', 'bc')));
    expect(take(seededRandom(1, 'a'))).not.toEqual(take(seededRandom('1', 'a')));
  });

  it('keeps its sequence: a change here changes every generated inputs file', () => {
    expect(take(seededRandom(42, 'x'), 4).map((x) => x * 2 ** 32)).toEqual([1352189805, 3665669211, 196720500, 261695561]);
  });

  it('is uniform enough in [0, 1)', () => {
    const rng = seededRandom('uniform');
    const xs = Array.from({ length: 20_000 }, rng);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const buckets = new Array<number>(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]!++;
    for (const count of buckets) {
      expect(count).toBeGreaterThan(1_800);
      expect(count).toBeLessThan(2_200);
    }
  });

  it('has int, pick, chance and shuffle helpers', () => {
    const rng = seededRandom('helpers');
    const ints = Array.from({ length: 500 }, () => int(rng, 3));
    expect(new Set(ints)).toEqual(new Set([0, 1, 2]));
    expect(['a', 'b', 'c']).toContain(pick(rng, ['a', 'b', 'c']));
    expect(() => pick(rng, [])).toThrow();
    expect(Array.from({ length: 50 }, () => chance(rng, 0)).some(Boolean)).toBe(false);
    expect(Array.from({ length: 50 }, () => chance(rng, 1)).every(Boolean)).toBe(true);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const shuffled = shuffle(rng, items);
    expect(shuffled).not.toBe(items);
    expect([...shuffled].sort()).toEqual(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('TRANSFORMS', () => {
  it('has a transform for every strategy', () => {
    expect(Object.keys(TRANSFORMS).sort()).toEqual([...STRATEGIES].sort());
  });

  it.each(STRATEGIES.filter((s) => s !== 'adversarial'))('%s changes every sample input (or, for concise, gives up)', (strategy) => {
    for (const base of SAMPLES) {
      for (let attempt = 0; attempt <= 5; attempt++) {
        const v = run(strategy, base, attempt);
        if (strategy === 'concise' && v === undefined) continue;
        expect(v, `${strategy} ${attempt} ${base}`).toBeDefined();
        expect(v!.input).not.toBe(base);
      }
    }
  });

  it.each(['rephrase', 'typo', 'verbose', 'noise', 'persona_based'] as const)('%s gives different texts on different attempts', (strategy) => {
    for (const base of SAMPLES.slice(0, 3)) expect(new Set(outputs(strategy, base, 10)).size).toBeGreaterThanOrEqual(4);
  });

  it.each(STRATEGIES)('%s is deterministic for the same rng seed and attempt', (strategy) => {
    for (const base of SAMPLES) {
      for (let attempt = 0; attempt < 4; attempt++) {
        const ctx = () => ({ rng: seededRandom(7, 'x'), attempt, persona: PERSONA, typoRate: 0.05 });
        expect(TRANSFORMS[strategy](base, ctx())).toEqual(TRANSFORMS[strategy](base, ctx()));
      }
    }
  });
});

describe('rephrase', () => {
  it('swaps synonyms and question frames, keeping the capitals', () => {
    const all = outputs('rephrase', 'Can I get a refund?', 20);
    expect(all.some((t) => /reimbursement|money back/.test(t!))).toBe(true);
    expect(all.some((t) => /^(Is it possible to|Am I able to|Could I|Would it be possible to) /.test(t!))).toBe(true);
    expect(outputs('rephrase', 'Refund please.', 10).some((t) => t!.includes('Reimbursement'))).toBe(true);
    expect(outputs('rephrase', 'Is the shop open on Sunday?', 20).some((t) => /store|Will the shop be open|open for business|Does the shop open/.test(t!))).toBe(true);
  });

  it('continues the sentence after a greeting with a comma', () => {
    // "Hello, Quick question: …" would be a capital in mid-sentence.
    for (const t of outputs('rephrase', 'Hello, can I get a refund for order 42?', 30)) expect(t).not.toMatch(/, (?!I\b)\p{Lu}/u);
  });

  it('leaves phrasal uses of its words alone', () => {
    for (const t of outputs('rephrase', 'How do I get to the store?', 20)) expect(t).not.toMatch(/(receive|obtain) to/);
  });
});

describe('typo', () => {
  it('changes about typoRate of the letters', () => {
    const letters = LONG_TEXT.replace(/\P{L}/gu, '').length;
    for (const rate of [0.05, 0.2]) {
      let edits = 0;
      for (let seed = 0; seed < 8; seed++) {
        const out = TRANSFORMS.typo(LONG_TEXT, { rng: seededRandom(seed), attempt: 0, typoRate: rate })!.input;
        edits += levenshtein(LONG_TEXT, out);
      }
      // A swap counts as two edits, so the mean is a little above the rate.
      const share = edits / 8 / letters;
      expect(share).toBeGreaterThan(rate * 0.7);
      expect(share).toBeLessThan(rate * 1.5);
    }
  });

  it('always makes at least one typo and leaves non-letters alone', () => {
    for (const base of [...SAMPLES, 'Order #1234, 56 items!']) {
      for (let seed = 0; seed < 20; seed++) {
        const out = TRANSFORMS.typo(base, { rng: seededRandom(seed), attempt: 0, typoRate: 0.0001 })!.input;
        expect(out).not.toBe(base);
        expect(out.replace(/\p{L}/gu, '')).toBe(base.replace(/\p{L}/gu, ''));
      }
    }
  });

  it('has nothing to offer without letters', () => {
    expect(run('typo', '1234 ?!', 0)).toBeUndefined();
  });
});

describe('verbose', () => {
  it('adds pleasantries around the unchanged request', () => {
    for (const t of outputs('verbose', 'Can I get a refund?', 6)) {
      expect(t).toContain('Can I get a refund?');
      expect(t!.length).toBeGreaterThan('Can I get a refund?'.length + 20);
    }
  });

  it("makes the user's greeting a sentence of its own", () => {
    for (const t of outputs('verbose', 'Hi, can I get a refund for order 42?', 10)) {
      expect(t).not.toContain(',.');
      expect(t).toMatch(/^Hi! (.+ )?Can I get a refund for order 42\?/);
    }
  });

  it('adds no second greeting to one that has its own', () => {
    for (const t of outputs('verbose', 'Hello! Where is my parcel?', 10)) expect(t!.match(/\b(hi|hello|hey|good morning)\b/gi)).toHaveLength(1);
  });
});

describe('concise', () => {
  it('walks shorter reductions, then gives up', () => {
    for (const base of [...SAMPLES, 'Hi there! Could you please just check my order status? Thanks so much!']) {
      const all = outputs('concise', base, 10);
      const done = all.indexOf(undefined);
      expect(done).toBeGreaterThanOrEqual(0);
      expect(all.slice(done).every((t) => t === undefined)).toBe(true);
      const made = all.slice(0, done) as string[];
      expect(new Set(made).size).toBe(made.length);
      for (const t of made) {
        expect(t.length).toBeLessThan(base.length);
        expect(t).toMatch(/\p{L}/u);
      }
    }
    expect(run('concise', 'hi', 0)).toBeUndefined();
    expect(outputs('concise', 'Can I get a refund?', 3)).toEqual(['Can I get refund?', 'get refund', undefined]);
    expect(run('concise', 'Hi there! Could you please just check my order status? Thanks so much!', 0)!.input).toBe('Check my order status?');
  });

  it('keeps negations in its keywords', () => {
    expect(outputs('concise', "I did not receive my order and I can't log in.", 5)).toContain("not receive order can't log");
  });
});

describe('noise', () => {
  const letters = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

  it('changes only casing, punctuation and whitespace', () => {
    for (const base of SAMPLES) {
      for (let seed = 0; seed < 30; seed++) {
        const out = TRANSFORMS.noise(base, { rng: seededRandom(seed), attempt: 0, typoRate: 0.05 })!.input;
        expect(out).not.toBe(base);
        expect(letters(out)).toBe(letters(base));
      }
    }
  });
});

describe('persona_based', () => {
  it('needs a persona', () => {
    expect(run('persona_based', 'Can I get a refund?', 0, { persona: undefined })).toBeUndefined();
  });

  it("speaks in the persona's voice, with its goals and language", () => {
    const all = outputs('persona_based', 'Can I get a refund?', 12).join('\n');
    expect(all).toContain('get my money back quickly');
    expect(all).toMatch(/^Hola\./m);
    expect(all).toMatch(/new to this|not very technical|beginner/);
    expect(all).toMatch(/!|ASAP|Quick answer pls/);
  });

  it('uses the cues of other personas', () => {
    const expert: Persona = { name: 'dev', characteristics: ['developer', 'polite'], goals: [], constraints: [], language: 'en' };
    const all = outputs('persona_based', 'Can I get a refund?', 12, { persona: expert }).join('\n');
    expect(all).toMatch(/Technical question|checked the docs|basics|precise answer/);
    expect(all).toMatch(/Good day|Dear support team|Excuse me|kindly|Kind regards|greatly appreciate/);
    expect(all).not.toMatch(/Hola|Bonjour/);
    const bare: Persona = { name: 'plain', characteristics: [], goals: [], constraints: [] };
    for (const t of outputs('persona_based', 'Can I get a refund?', 5, { persona: bare })) expect(t).not.toBe('Can I get a refund?');
  });
});

describe('adversarial', () => {
  const KINDS = ['prompt_injection', 'system_prompt_leak', 'empty', 'whitespace_only', 'very_long', 'emoji', 'mixed_scripts', 'rtl', 'special_chars'];

  it('goes through its catalogue in order, then gives up', () => {
    const base = 'Can I get a refund?';
    const all = KINDS.map((_, attempt) => run('adversarial', base, attempt)!);
    expect(all.map((v) => v.metadata?.probe)).toEqual(KINDS);
    const by = Object.fromEntries(all.map((v) => [v.metadata!.probe as string, v.input]));
    expect(by.prompt_injection).toMatch(/^Can I get a refund\?\s+\S/);
    expect(by.prompt_injection).toMatch(/ignore|disregard|forget|instruction/i);
    expect(by.system_prompt_leak).toMatch(/prompt|instructions|rules|You are/);
    expect(by.empty).toBe('');
    expect(by.whitespace_only).not.toBe('');
    expect(by.whitespace_only!.trim()).toBe('');
    expect(by.very_long!.length).toBeGreaterThanOrEqual(10_000);
    expect(by.very_long!.length).toBeLessThan(11_000);
    expect(by.emoji).toMatch(/\p{Extended_Pictographic}/u);
    expect(by.mixed_scripts).toMatch(/[\u0400-\u04FF]/u);
    expect(by.mixed_scripts).toMatch(/[\u0370-\u03FF\u3040-\u30FF\u4E00-\u9FFF]|[\u0400-\u04FF]{4}/u);
    expect(by.rtl).toMatch(/[\u0590-\u06FF]/u);
    expect(by.rtl).toContain('\u202E');
    for (const s of ['<script>', 'DROP TABLE', '\\', '"', "'", '\u200b']) expect(by.special_chars).toContain(s);
    for (const v of all) expect(v.input).not.toContain('\u0000');
    expect(run('adversarial', base, KINDS.length)).toBeUndefined();
    expect(run('adversarial', base, 100)).toBeUndefined();
  });

  it('works on an empty base input too', () => {
    for (let attempt = 0; attempt < KINDS.length; attempt++) expect(run('adversarial', '', attempt)).toBeDefined();
    expect(run('adversarial', '', 4)!.input.length).toBeGreaterThanOrEqual(10_000);
  });
});
