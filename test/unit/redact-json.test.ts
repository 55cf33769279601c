import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/record/redact';
import { redactJson } from '../../src/record/redact-json';

const KEY = 'sk-proj-Zx81Qw7Er5Ty3Ui1OpAs';

describe('redactJson', () => {
  const redactor = createRedactor(['tenant_code'], ['ACME-[0-9]{6}']);

  it('masks secret shapes in strings and keys, and the values of secret-named keys, with the project rules', () => {
    const value = { reply: `key ${KEY} for ACME-482913`, nested: [{ password: 'hunter2hunter2', tenant_code: 'north-5521' }], [KEY]: 'client', count: 3 };
    expect(redactJson(value, redactor)).toEqual({ reply: 'key *** for ***', nested: [{ password: '***', tenant_code: '***' }], '***': 'client', count: 3 });
  });

  it('keeps absent values, the encoder tags and the keys an agent needs', () => {
    const value = { password: null, token: '', secret: { $type: 'undefined' }, $type: 'Object', max_tokens: 10, sessionId: 'abc' };
    expect(redactJson(value, redactor)).toEqual(value);
  });

  it('keeps a "__proto__" key read from JSON as a key, not as a prototype', () => {
    const out = redactJson(JSON.parse('{"__proto__": {"polluted": true}}'), redactor) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
