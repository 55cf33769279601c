import { describe, expect, it } from 'vitest';
import { BUILTIN_OPENINGS } from '../../src/record/builtin-openings';
import { mayOpen, openingTable, packTable, unpackTable } from '../../src/record/openings';
import { builtinOpeningTable, createRedactor, REDACTION_RULES } from '../../src/record/redact';

/** A seeded generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

// Pieces of secrets and of their surroundings, which random strings are made of.
const PIECES = [
  'sk-', 'proj-', 'Bearer ', 'bearer\t', 'Basic ', 'dXNlcjpwYXNz', 'AKIA', 'ASIA', 'IOSFODNN7EXAMPLE', ',', ':', '=', '?', '&',
  'https://', 'user:pw@', 'hooks.slack.com/services/', 'T000/B000/XXXX', 'ghp_', 'github_pat_', 'xoxb-', 'AIza', 'hf_', 'npm_',
  '_live_', '_test_', 'rk_', 'aws_secret_access_key', ' = ', '"', "'", 'api_key', 'password', 'Pwd', ';', 'eyJ', '.', '-----BEGIN ',
  'PRIVATE KEY-----', 'RSA ', '-----END ', '\n', ' ', 'token', 'sig', 'key', 'ORD-', '123', '45', '6789', 'é', '😀', '日本',
  'abcdefghijklmnopqrstuvwxyz0123456789', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'Authorization', 'secret', 'Sk-', 'SK_LIVE_',
];

function randomString(next: () => number): string {
  let s = '';
  const n = 1 + Math.floor(next() * 12);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(next() * PIECES.length)]!.repeat(next() < 0.1 ? 3 : 1);
  return s;
}

describe('openingTable', () => {
  it('holds, worked out beforehand, the table of the built-in rules as their patterns give it', () => {
    const table = builtinOpeningTable()!;
    expect(unpackTable(packTable(table))).toEqual(table);
    // When this fails, a rule's pretest changed: run `npm run build:dev && node scripts/builtin-openings.mjs`.
    expect(BUILTIN_OPENINGS).toEqual(packTable(table));
    expect(createRedactor().openings).toEqual(table);
  });

  it('opens every string the redactor changes, for the built-in rules and configured patterns', () => {
    const redactors = [createRedactor(), createRedactor(['order id'], ['ORD-\\d+', /\d{3}-\d{2}-\d{4}/, /secret\w{3,}/i, 'x(?=y)yz|(a|b){2,}c'])];
    const next = random(22);
    let changed = 0;
    for (const redactor of redactors) {
      expect(redactor.openings).toBeDefined();
      for (let i = 0; i < 20_000; i++) {
        const s = randomString(next);
        if (redactor.redactString(s) === s) continue;
        changed++;
        expect(mayOpen(redactor.openings!, s), s).toBe(true);
      }
    }
    // The strings are made to hold secrets often, so that the check means something.
    expect(changed).toBeGreaterThan(5_000);
  });

  it('opens the examples of every string rule', () => {
    const redactor = createRedactor();
    for (const rule of REDACTION_RULES.filter((r) => r.kind === 'string' && r.id !== 'configured-pattern')) {
      const example = /`([^`]+)`/.exec(rule.example)![1]!;
      // Examples shortened with an ellipsis are not whole secrets.
      if (example.includes('…')) continue;
      expect(redactor.redactString(example), rule.id).not.toBe(example);
      expect(mayOpen(redactor.openings!, example), rule.id).toBe(true);
    }
  });

  it('leaves closed a string with no pair that can open a match', () => {
    const table = openingTable([{ source: 'sk-' }, { source: 'Bearer|BEARER' }, { source: '=' }])!;
    expect(mayOpen(table, 'a job for the team')).toBe(false);
    expect(mayOpen(table, 'ask-')).toBe(true);
    expect(mayOpen(table, 'a Bear')).toBe(true);
    expect(mayOpen(table, '=')).toBe(true);
    expect(mayOpen(table, 'ks')).toBe(false);
  });

  it('reads classes, escapes, groups, repeats and lookarounds, and folds case under i', () => {
    const opens = (source: string, s: string, flags = '') => mayOpen(openingTable([{ source, flags }])!, s);
    expect(opens('[A-C]x', 'Bx')).toBe(true);
    expect(opens('[A-C]x', 'Dx')).toBe(false);
    expect(opens('[^a-z]q', 'Zq')).toBe(true);
    expect(opens('[^a-z]q', 'aq')).toBe(false);
    expect(opens('[^a-z]q', 'éq')).toBe(true);
    expect(opens('\\d\\.', '7.')).toBe(true);
    expect(opens('\\d\\.', 'x.')).toBe(false);
    expect(opens('(?:ab|cd)e', 'cd')).toBe(true);
    expect(opens('(?:ab|cd)e', 'ac')).toBe(false);
    expect(opens('a?b', 'b')).toBe(true);
    expect(opens('x*yz', 'yz')).toBe(true);
    expect(opens('x{2,}', 'xx')).toBe(true);
    expect(opens('x{2,}', 'x')).toBe(false);
    expect(opens('(?=q)qr', 'qr')).toBe(true);
    expect(opens('\\bkey', 'key')).toBe(true);
    expect(opens('key', 'KEY', 'i')).toBe(true);
    expect(opens('key', 'KEY')).toBe(false);
    expect(opens('[\\x61-\\x7a]q', 'Mq', 'i')).toBe(true);
    expect(opens('[\\x61-\\x7a]q', 'mq')).toBe(true);
    expect(opens('[\\x61-\\x7a]q', 'Mq')).toBe(false);
    expect(opens('\\u00e9t', 'ét')).toBe(true);
    expect(opens('\\x41\\x42', 'AB')).toBe(true);
    expect(opens('(a)\\1', 'az')).toBe(true);
    expect(opens('(a)\\1', 'zz')).toBe(false);
  });

  it('gives no table for a pattern that can match the empty string, and the redactor then asks every string', () => {
    expect(openingTable([{ source: 'a*' }])).toBeUndefined();
    expect(openingTable([{ source: '(?:)' }])).toBeUndefined();
    expect(createRedactor([], ['x?']).openings).toBeUndefined();
  });
});
