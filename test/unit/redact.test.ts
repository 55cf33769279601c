import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRules, createRedactor, keyWords, MASK, REDACTION_RULES, redactionTable } from '../../src/record/redact';

const redactor = createRedactor();

describe('the rules', () => {
  it("are of the shape the redactor relies on: every secret word has a stem, string rules have their groups in threes", () => {
    expect(() => checkRules()).not.toThrow();
  });

  it('scan for each pretest in a form that matches the same strings as the pretest itself', () => {
    const rules = (REDACTION_RULES as ReadonlyArray<{ id: string; pretest?: unknown; scan?: string }>).filter((r) => r.scan !== undefined);
    expect(rules.length).toBeGreaterThan(5);
    // Strings made of pieces of the pretests' texts and single characters, so that most of them
    // come near a pretest, many hold one, and some hold two that overlap (`ghp_live_`).
    const texts = ['sk-', 'AKIA', 'ASIA', 'eyJ', 'hooks.slack.com', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'xoxa-', 'xoxb-', 'xoxp-', 'xoxr-', 'xoxs-', 'AIza', '_live_'];
    const singles = [...new Set(texts.join('') + ' xZ.')];
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const strings = [...texts, ...REDACTION_RULES.map((r) => r.example)];
    for (let i = 0; i < 40_000; i++) {
      let s = '';
      for (let pieces = random(6); pieces >= 0; pieces--) {
        if (random(2) === 0) s += singles[random(singles.length)];
        else {
          const text = texts[random(texts.length)]!;
          // The whole text a third of the time, else a piece of it.
          const from = random(3) === 0 ? 0 : random(text.length);
          s += from === 0 && random(2) === 0 ? text : text.slice(from, from + 1 + random(text.length - from));
        }
      }
      strings.push(s);
    }
    for (const rule of rules) {
      const pretest = new RegExp(rule.pretest as string);
      const scan = new RegExp(rule.scan!);
      let held = 0;
      for (const s of strings) {
        expect(scan.test(s), `${rule.id}: ${JSON.stringify(s)}`).toBe(pretest.test(s));
        if (pretest.test(s)) held++;
      }
      // Each pretest is held often enough for the comparison to mean something.
      expect(held, rule.id).toBeGreaterThan(500);
    }
  });
});

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
    const custom = createRedactor(['session_id', 'ssn', 'X-Internal', 'order number']);
    for (const key of ['sessionId', 'session-id', 'SESSION_ID', 'userSessionIdHash', 'userSsn', 'ssn', 'xInternal', 'orderNumber']) expect(custom.isSensitiveKey(key)).toBe(true);
    for (const key of ['id', 'sessions_id', 'lessons', 'internal', 'numberOrder', 'order', 'orders_number']) expect(custom.isSensitiveKey(key)).toBe(false);
    // The built-in exceptions do not undo a configured phrase: sessionId is kept only without it.
    expect(redactor.isSensitiveKey('sessionId')).toBe(false);
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

describe('key rules (issue 16)', () => {
  it.each([
    'privateKey',
    'private_key',
    'PRIVATE_KEY',
    'session',
    'sessions',
    'pwd',
    'db_pwd',
    'pass',
    'passphrase',
    'dsn',
    'sentryDsn',
    'signing_key',
    'signingKey',
    'secrets',
    'passwords',
    'api_keys',
    'apiKeys',
    'APIKeys',
    'tokens',
    'credentials',
    'cookies',
    'x-auth-token',
    'session_token',
    'aws_secret_access_key',
    'secretAccessKey',
    'encryption_key',
    'ssh_key',
    'max_tokens_secret',
  ])('masks %s', (key) => {
    expect(redactor.isSensitiveKey(key)).toBe(true);
    expect(redactor.masks(key, 'value')).toBe(true);
  });

  it.each([
    'max_tokens',
    'maxTokens',
    'max_completion_tokens',
    'prompt_tokens',
    'completion_tokens',
    'total_tokens',
    'input_tokens',
    'output_tokens',
    'cached_tokens',
    'reasoning_tokens',
    'totalTokenCount',
    'token_count',
    'tokenCount',
    'token_limit',
    'token_type',
    'sessionId',
    'session_id',
    'sessionIds',
    'tokenizer',
    'keyboard',
    'author',
    'passage',
    'passenger',
    'compass',
    'bypass',
    'publicKey',
    'sort_key',
    'keys',
    'accessKeyId',
    'api_key_id',
    'password_length',
    'secret_name',
  ])('keeps %s', (key) => {
    expect(redactor.isSensitiveKey(key)).toBe(false);
    expect(redactor.masks(key, 'value')).toBe(false);
  });

  it('keeps absent values and callables under a secret-named key', () => {
    for (const value of [undefined, null, '', () => 1]) expect(redactor.masks('password', value)).toBe(false);
    for (const value of ['x', 0, false, {}, [], ['a']]) expect(redactor.masks('password', value)).toBe(true);
  });

  it('keeps a number under a token key, which is a count, and masks anything else there', () => {
    expect(redactor.masks('tokens', 20)).toBe(false);
    expect(redactor.masks('token', 0)).toBe(false);
    expect(redactor.masks('tokens', 'abc')).toBe(true);
    expect(redactor.masks('tokens', { github: 'x' })).toBe(true);
    expect(redactor.masks('tokens', [1, 2])).toBe(true);
    // Another secret word in the key masks its numbers too.
    expect(redactor.masks('session_token', 12)).toBe(true);
    expect(redactor.masks('pin_password', 1234)).toBe(true);
  });

  it('answers the same as isSensitiveKey for keys that are not secret-named', () => {
    expect(redactor.masks('name', 'x')).toBe(false);
    expect(redactor.masks('max_tokens', 'x')).toBe(false);
  });
});

// A PEM body split over lines, as a key file holds it.
const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3S';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** Each string rule's cases: [input, masked]. Every string rule of the table has some (see below). */
const STRING_CASES: Record<string, Array<[string, string]>> = {
  'pem-private-key': [
    [`-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----\nnext`, '-----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----\nnext'],
    [`key: -----BEGIN RSA PRIVATE KEY-----\\n${PEM_BODY}\\n-----END RSA PRIVATE KEY-----`, 'key: -----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----'],
    [`-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY}`, '-----BEGIN OPENSSH PRIVATE KEY-----***'],
    [`-----BEGIN PGP PRIVATE KEY BLOCK-----\n${PEM_BODY}\n-----END PGP PRIVATE KEY BLOCK-----`, '-----BEGIN PGP PRIVATE KEY BLOCK-----***-----END PGP PRIVATE KEY BLOCK-----'],
  ],
  bearer: [['Authorization: Bearer abc123def456ghi', 'Authorization: Bearer ***']],
  'basic-auth': [
    ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: Basic ***'],
    ['headers: [["Authorization","Basic c29tZXRva2VuMTI="]]', 'headers: [["Authorization","Basic ***"]]'],
    ['sent basic YWRtaW46aHVudGVyMg== to the proxy', 'sent basic *** to the proxy'],
  ],
  'openai-key': [['key sk-proj-AbC123_dEf456-GhI789jkl set', 'key *** set']],
  'stripe-key': [
    ['sk_live_51HxYzAbCdEfGhIjKlMn', '***'],
    ['rk_live_51HxYzAbCdEfGhIjKlMn and sk_test_4eC39HqLyjWDarj, rk_test_abcdefghijkl', '*** and ***, ***'],
  ],
  'aws-key-pair': [[`AKIAIOSFODNN7EXAMPLE,${AWS_SECRET}`, '***']],
  'aws-access-key-id': [['id=AKIAIOSFODNN7EXAMPLE;', 'id=***;']],
  'aws-secret-key': [
    [`aws_secret_access_key = ${AWS_SECRET}`, 'aws_secret_access_key = ***'],
    [`"AWS_SECRET_ACCESS_KEY": "${AWS_SECRET}"`, '"AWS_SECRET_ACCESS_KEY": "***"'],
  ],
  jwt: [['token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'token: ***']],
  'slack-webhook': [['post to https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX now', 'post to https://hooks.slack.com/services/*** now']],
  'url-credentials': [
    ['postgres://admin:p@ss@db.internal:5432/app', 'postgres://***@db.internal:5432/app'],
    ['redis://:pa@ss@w0rd@cache:6379', 'redis://***@cache:6379'],
  ],
  'github-token': [[`GITHUB_TOKEN ghp_${'a1B2'.repeat(9)}`, 'GITHUB_TOKEN ***']],
  'slack-token': [['slack xoxb-1234567890-abcdefghij done', 'slack *** done']],
  'google-api-key': [[`q AIza${'S'.repeat(35)} x`, 'q *** x']],
  'huggingface-token': [['HF hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567', 'HF ***']],
  'npm-token': [['//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789FAKE', '//registry.npmjs.org/:_authToken=***']],
  'connection-string-password': [
    ['Server=db;User Id=app;Password=my pass word;Database=x', 'Server=db;User Id=app;Password=***;Database=x'],
    ['Driver={ODBC};Server=db;PWD={a;b};UID=app', 'Driver={ODBC};Server=db;PWD=***;UID=app'],
    ['password = hunter two; server=db', 'password = ***; server=db'],
  ],
  'secret-assignment': [
    ['https://api.example.com/v1?api_key=abc123&q=1', 'https://api.example.com/v1?api_key=***&q=1'],
    ['https://x.com/cb?code=1&access_token=abc.def&state=2', 'https://x.com/cb?code=1&access_token=***&state=2'],
    ['https://maps.example.com/?key=AbC123&sig=zz9&X-Amz-Signature=f00d&keyword=kept', 'https://maps.example.com/?key=***&sig=***&X-Amz-Signature=***&keyword=kept'],
    ['https://x.com/login?token=abc&secret=def&password=ghi&q=ok', 'https://x.com/login?token=***&secret=***&password=***&q=ok'],
    ['host=db.internal port=5432 password=s3cr3t dbname=app', 'host=db.internal port=5432 password=*** dbname=app'],
    ["host=db password='a b c' dbname=app", 'host=db password=*** dbname=app'],
    ['export OPENAI_API_KEY=abc123def', 'export OPENAI_API_KEY=***'],
    ['pwd=hunter2 ok', 'pwd=*** ok'],
    ['redirect=/cb?token=abc123', 'redirect=/cb?token=***'],
    ['auth=Bearer abc.def.ghi end', 'auth=Bearer *** end'],
  ],
  'secret-json-field': [
    ['{"api_key": "abc123", "model": "gpt-4o"}', '{"api_key": "***", "model": "gpt-4o"}'],
    ['{"user":"ann","password":"p\\"w"}', '{"user":"ann","password":"***"}'],
    ["{ apiKey: 'abc123', name: 'n' }", "{ apiKey: '***', name: 'n' }"],
    ['client_secret: "s3cr3t-value"', 'client_secret: "***"'],
  ],
};

describe('string rules (issue 16)', () => {
  for (const [id, cases] of Object.entries(STRING_CASES)) {
    it.each(cases)(`${id}: %j`, (input, masked) => {
      expect(redactor.redactString(input)).toBe(masked);
    });
  }

  it('has cases for every string rule of the table', () => {
    const ids = REDACTION_RULES.filter((rule) => rule.kind === 'string' && rule.id !== 'configured-pattern').map((rule) => rule.id);
    expect(Object.keys(STRING_CASES).sort()).toEqual([...ids].sort());
  });

  it.each([
    'Basic knowledge of Latin',
    'Basic Math',
    'the token count is 12',
    'max_tokens=100&temperature=0.2',
    'https://example.com/search?q=hello&page=2&keyword=x',
    '{"max_tokens": "100", "model": "x", "sessionId": "s-1"}',
    '{"password": "", "token": null}',
    'password= and token=&x=1',
    'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAE=',
    'He said: "the password is long"',
    '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    'pk_live_51HxYzAbCdEfGhIjKlMn',
    `a plain ${'x'.repeat(40)} string`,
    'How do I reset my password?',
    'the time is 12:30:00, 2024-01-01T12:30:00Z',
  ])('keeps %j', (input) => {
    expect(redactor.redactString(input)).toBe(input);
  });

  it('resumes after a name that is no secret, and stays linear on a chain of them', () => {
    const chain = 'a=b'.repeat(20_000);
    expect(redactor.redactString(chain)).toBe(chain);
    expect(redactor.redactString(`${chain}&token=zz9`)).toBe(`${chain}&token=***`);
  });

  it('reads configured key phrases in strings too', () => {
    const custom = createRedactor(['tenant code']);
    expect(custom.redactString('{"tenantCode": "T-1234-x"} and tenant_code=T-1234-x;')).toBe('{"tenantCode": "***"} and tenant_code=***;');
  });
});

describe('redactBytes', () => {
  it('overwrites secrets byte for byte and keeps every other byte', () => {
    const text = 'GET / HTTP/1.1\r\nAuthorization: Bearer abc123def456\r\nX: ü\r\n';
    const masked = redactor.redactBytes(Buffer.from(text));
    expect(masked.length).toBe(Buffer.byteLength(text));
    expect(masked.toString()).toBe('GET / HTTP/1.1\r\nAuthorization: Bearer ************\r\nX: ü\r\n');
  });

  it('returns the same buffer when nothing matched, or when the bytes are not UTF-8 text', () => {
    const clean = Buffer.from('nothing to see here');
    expect(redactor.redactBytes(clean)).toBe(clean);
    const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('sk-proj-AbC123_dEf456-GhI789jkl')]);
    expect(redactor.redactBytes(binary)).toBe(binary);
  });

  it('applies configured patterns byte for byte', () => {
    const custom = createRedactor([], ['ORD-\\d+']);
    expect(custom.redactBytes(Buffer.from('order ORD-12345 shipped')).toString()).toBe('order ********* shipped');
  });
});

describe('the rules table', () => {
  it('is printed in the README exactly as the code has it', () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    expect(readme).toContain(redactionTable());
  });

  it('names each rule once, with all its columns', () => {
    const ids = REDACTION_RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of REDACTION_RULES) {
      expect(rule.masks.length, rule.id).toBeGreaterThan(0);
      expect(rule.example.length, rule.id).toBeGreaterThan(0);
      expect(rule.keeps.length, rule.id).toBeGreaterThan(0);
    }
    expect(MASK).toBe('***');
  });
});
