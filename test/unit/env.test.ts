import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { applyEnv, readEnvFile, setEnvValue } from '../../src/config/env.js';
import { ConfigError } from '../../src/config/errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-env-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(text: string): string {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.env`);
  fs.writeFileSync(file, text);
  return file;
}

function errorOf(text: string): ConfigError {
  try {
    readEnvFile(write(text), '.env');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('readEnvFile', () => {
  it('reports a missing file as such', () => {
    expect(readEnvFile(path.join(dir, 'missing.env'))).toEqual({ exists: false, values: {} });
  });

  it('reads the forms dotenv reads', () => {
    const text = [
      '# a comment',
      '',
      'PLAIN=value',
      'export EXPORTED=yes',
      '  SPACED = padded  ',
      'EMPTY=',
      'INLINE=abc # not part of the value',
      "SINGLE='it is # literal'",
      'DOUBLE="line\\nbreak"',
      'BACKTICK=`has "quotes"`',
      'MULTI="first',
      'second"',
      'URL=postgres://u:p@host/db?x=1',
      'dotted.key-name=ok',
    ].join('\n');
    expect(readEnvFile(write(text))).toEqual({
      exists: true,
      values: {
        PLAIN: 'value',
        EXPORTED: 'yes',
        SPACED: 'padded',
        EMPTY: '',
        INLINE: 'abc',
        SINGLE: 'it is # literal',
        DOUBLE: 'line\nbreak',
        BACKTICK: 'has "quotes"',
        MULTI: 'first\nsecond',
        URL: 'postgres://u:p@host/db?x=1',
        'dotted.key-name': 'ok',
      },
    });
  });

  it('accepts CRLF line endings and a byte order mark', () => {
    expect(readEnvFile(write('\uFEFFA=1\r\nB="x"\r\n')).values).toEqual({ A: '1', B: 'x' });
  });

  it.each([
    ['A=1\nnot an assignment\n', 2, 1, 'expected KEY=VALUE'],
    ['A=1\n   KEY: value\n', 2, 4, 'expected KEY=VALUE'],
    ['A=1\nexport B\n', 2, 1, 'expected KEY=VALUE'],
    ['A=1\n\n  1ABC=x\n', 3, 3, 'invalid key "1ABC"'],
    ['MY KEY=1\n', 1, 1, 'invalid key "MY KEY"'],
    ['=value\n', 1, 1, 'missing key'],
    ['A=1\nB="never closed\nC=3\n', 2, 3, 'unterminated quoted value'],
    ["A='x\n", 1, 3, 'unterminated quoted value'],
    ['A=1\nB="x" trailing\n', 2, 7, 'unexpected text after the closing "'],
    ['A="first\nB="x"\n', 1, 3, 'unterminated quoted value'],
  ])('rejects %j at line %i, column %i', (text, line, column, message) => {
    const error = errorOf(text);
    expect(error.location).toMatchObject({ file: '.env', line, column });
    expect(error.message).toContain(`.env:${line}:${column}: `);
    expect(error.message).toContain(message);
  });

  it('accepts a quote that is escaped inside its value', () => {
    expect(readEnvFile(write('A="say \\"hi\\""\n')).values.A).toBe('say \\"hi\\"');
    expect(readEnvFile(write('A="C:\\"\n')).values.A).toBe('C:\\');
  });
});

describe('applyEnv', () => {
  const keys = ['FLUXLOOP_TEST_NEW', 'FLUXLOOP_TEST_SET'];
  afterEach(() => keys.forEach((k) => delete process.env[k]));

  it('never overrides the environment', () => {
    process.env.FLUXLOOP_TEST_SET = 'from shell';
    applyEnv({ FLUXLOOP_TEST_NEW: 'from file', FLUXLOOP_TEST_SET: 'from file' });
    expect(process.env.FLUXLOOP_TEST_NEW).toBe('from file');
    expect(process.env.FLUXLOOP_TEST_SET).toBe('from shell');
  });
});

describe('setEnvValue', () => {
  const text = [
    '# FluxLoop',
    '',
    'OPENAI_API_KEY=sk-1   # keep me',
    '# FLUXLOOP_RECORD_ARGS=commented',
    'FLUXLOOP_RECORD_ARGS=false',
    '',
    '# trailing comment',
    '',
  ].join('\n');

  it('replaces the value in place and keeps every other line', () => {
    expect(setEnvValue(text, 'FLUXLOOP_RECORD_ARGS', 'true')).toBe(text.replace('ARGS=false', 'ARGS=true'));
  });

  it('keeps a comment after the value', () => {
    expect(setEnvValue(text, 'OPENAI_API_KEY', 'sk-2')).toBe(text.replace('sk-1', 'sk-2'));
    expect(setEnvValue('A=   # note\n', 'A', 'x')).toBe('A=x   # note\n');
    expect(setEnvValue('A=#note\n', 'A', 'x')).toBe('A=x #note\n');
  });

  it('keeps export and spacing', () => {
    expect(setEnvValue('export A = 1\nB=2\n', 'A', '3')).toBe('export A = 3\nB=2\n');
  });

  it('changes the last assignment, the one dotenv uses', () => {
    expect(setEnvValue('A=1\nA=2\n', 'A', '3')).toBe('A=1\nA=3\n');
  });

  it('replaces a multiline value whole', () => {
    expect(setEnvValue('A="one\ntwo"\nB=2\n', 'A', 'x')).toBe('A=x\nB=2\n');
  });

  it('appends a missing key, adding the missing final newline', () => {
    expect(setEnvValue(text, 'NEW', 'v')).toBe(`${text}NEW=v\n`);
    expect(setEnvValue('A=1', 'NEW', 'v')).toBe('A=1\nNEW=v\n');
    expect(setEnvValue('', 'NEW', 'v')).toBe('NEW=v\n');
    expect(setEnvValue('A=1\r\nB=2', 'NEW', 'v')).toBe('A=1\r\nB=2\r\nNEW=v\r\n');
  });

  it('keeps CRLF line endings when replacing', () => {
    expect(setEnvValue('A=1\r\nB=2\r\n', 'A', 'x')).toBe('A=x\r\nB=2\r\n');
  });

  it('keeps lines it cannot read', () => {
    expect(setEnvValue('garbage line\nA=1\n', 'A', '2')).toBe('garbage line\nA=2\n');
  });

  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['two words', "'two words'"],
    ['has # hash', "'has # hash'"],
    ["it's", "\"it's\""],
    [' padded ', "' padded '"],
    ['line\nbreak', "'line\nbreak'"],
    ['"quoted"', "'\"quoted\"'"],
    ['both \' and "', '`both \' and "`'],
  ])('writes %j as %s and reads it back', (value, written) => {
    const out = setEnvValue('A=old\n', 'A', value);
    expect(out).toBe(`A=${written}\n`);
    expect(readEnvFile(write(out)).values.A).toBe(value);
  });

  it('refuses an invalid key', () => {
    expect(() => setEnvValue('', 'BAD KEY', 'x')).toThrow(/invalid .env key/);
  });
});
