import { describe, expect, it } from 'vitest';
import { createRedactor, keyWords } from '../../src/record/redact';

const redactor = createRedactor();

describe('keyWords', () => {
  it.each([
    ['maxTokens', ['max', 'tokens']],
    ['max_tokens', ['max', 'tokens']],
    ['x-api-key', ['x', 'api', 'key']],
    ['OAuthToken', ['o', 'auth', 'token']],
    ['APIKey', ['api', 'key']],
    ['userID2FA', ['user', 'id', '2', 'fa']],
    ['db.password', ['db', 'password']],
    ['Set Cookie', ['set', 'cookie']],
    ['SESSION_ID', ['session', 'id']],
    ['__proto__', ['proto']],
    ['', []],
  ])('%s', (key, words) => {
    expect(keyWords(key)).toEqual(words);
  });
});

describe('isSensitiveKey', () => {
  it.each([
    'token',
    'accessToken',
    'access_token',
    'api_key',
    'apiKey',
    'APIKey',
    'apikey',
    'x-api-key',
    'Authorization',
    'authorization',
    'set-cookie',
    'cookies',
    'cookie',
    'client_secret',
    'db-password',
    'passwd',
    'authToken',
    'OAuthToken',
    'credentials',
    'awsCredential',
    'auth',
  ])('masks %s', (key) => {
    expect(redactor.isSensitiveKey(key)).toBe(true);
  });

  it.each(['maxTokens', 'max_tokens', 'sessionId', 'author', 'authorName', 'tokenizer', 'keyboard', 'apiVersion', 'key', 'secretary', 'message'])(
    'keeps %s',
    (key) => {
      expect(redactor.isSensitiveKey(key)).toBe(false);
    },
  );

  it('adds configured words and phrases, matched as whole words in sequence', () => {
    const custom = createRedactor(['session_id', 'ssn', 'X-Internal']);
    for (const key of ['sessionId', 'session-id', 'SESSION_ID', 'userSessionIdHash', 'userSsn', 'ssn', 'xInternal']) expect(custom.isSensitiveKey(key)).toBe(true);
    for (const key of ['session', 'id', 'idSession', 'sessions_id', 'lessons', 'internal']) expect(custom.isSensitiveKey(key)).toBe(false);
    // The built-in words still apply.
    expect(custom.isSensitiveKey('password')).toBe(true);
  });

  it('gives the same answer from its cache', () => {
    expect(redactor.isSensitiveKey('apiKey')).toBe(true);
    expect(redactor.isSensitiveKey('apiKey')).toBe(true);
    expect(redactor.isSensitiveKey('maxTokens')).toBe(false);
    expect(redactor.isSensitiveKey('maxTokens')).toBe(false);
  });
});

describe('redactString', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
  it.each([
    ['bearer token', 'Authorization: Bearer abc123def456ghi', 'Authorization: Bearer ***'],
    ['bearer JWT', `auth=Bearer ${jwt} end`, 'auth=Bearer *** end'],
    ['lowercase bearer', 'bearer 0123456789abcdef', 'bearer ***'],
    ['OpenAI key', 'key sk-abcdefghijklmnopqrstuvwx is set', 'key *** is set'],
    ['OpenAI project key', 'sk-proj-AbC123_dEf456-GhI789jkl', '***'],
    ['Anthropic key', 'use sk-ant-api03-abcdefghijklmnop_qrstu-vwxyz now', 'use *** now'],
    ['AWS access key id', 'id=AKIAIOSFODNN7EXAMPLE;', 'id=***;'],
    ['AWS temporary key id', 'ASIAY34FZKBOKMUTVV7A', '***'],
    ['JWT', `token: ${jwt}`, 'token: ***'],
    ['URL credentials', 'postgres://admin:s3cret@db.internal:5432/app', 'postgres://***@db.internal:5432/app'],
    ['URL token', 'see https://ghp_token123@github.com/org/repo.git', 'see https://***@github.com/org/repo.git'],
    ['GitHub token', `GITHUB_TOKEN=ghp_${'a1B2'.repeat(9)}`, 'GITHUB_TOKEN=***'],
    ['GitHub server token', `ghs_${'Z'.repeat(36)} x`, '*** x'],
    ['Slack token', 'slack xoxb-1234567890-abcdefghij done', 'slack *** done'],
    ['Google API key', `key=AIza${'S'.repeat(35)}&q=1`, 'key=***&q=1'],
    ['two secrets', 'a sk-abcdefghijklmnopqrstuvwx b AKIAIOSFODNN7EXAMPLE c', 'a *** b *** c'],
  ])('%s', (_name, input, expected) => {
    expect(redactor.redactString(input)).toBe(expected);
  });

  it.each([
    'Hello there, how are you?',
    'Bearer of bad news',
    'the task-management-system-for-teams',
    'https://example.com/path?q=a@b',
    'mail me at bob@example.com',
    'sk-short',
    'AKIA1234',
    'eyJ alone',
    '"url":"http://host","email":"a@b.c"',
  ])('leaves %j alone', (input) => {
    expect(redactor.redactString(input)).toBe(input);
  });

  it('skips short strings', () => {
    const custom = createRedactor([], ['a']);
    expect(custom.redactString('aaaa')).toBe('aaaa');
    expect(custom.redactString('banana split')).toBe('b***n***n*** split');
  });

  it('adds configured patterns, from source text or RegExp, keeping their flags', () => {
    const custom = createRedactor([], ['ORD-\\d{4}', /customer #\d+/i]);
    expect(custom.redactString('order ORD-1234 for Customer #42')).toBe('order *** for ***');
    expect(custom.redactString('order ORD-12 kept')).toBe('order ORD-12 kept');
    // Built-in shapes still apply.
    expect(custom.redactString('ORD-1234 sk-abcdefghijklmnopqrstuvwx')).toBe('*** ***');
  });

  it('ignores configured patterns that do not compile or that match nothing at all', () => {
    const custom = createRedactor([], ['(unclosed', 'x*']);
    expect(custom.redactString('abc xx def ghi')).toBe('abc *** def ghi');
    expect(custom.redactString('nothing to hide here')).toBe('nothing to hide here');
  });

  it('keeps a global configured RegExp from carrying state between strings', () => {
    const custom = createRedactor([], [/secret-\d+/g]);
    for (let i = 0; i < 3; i++) expect(custom.redactString('the secret-123 is')).toBe('the *** is');
  });
});
