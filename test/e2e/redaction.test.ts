import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/record/decode';
import { byTarget, expectSameRun, project, readRecords, recordingPath, recordTwice } from './helpers';

/** The fixture's own list of secrets, read from its source so that the two cannot drift apart. */
function fixtureSecrets(): Record<string, string> {
  const source = fs.readFileSync(path.join(__dirname, '../../fixtures/redaction-app/app/secrets.js'), 'utf8');
  const secrets: Record<string, string> = {};
  for (const [, name, value] of source.matchAll(/^\s+(\w+): '([^']+)',$/gm)) secrets[name!] = value!;
  return secrets;
}

/** Every string of a decoded value, and the text of every Buffer and typed array in it. */
function texts(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof URL) out.push(value.href);
  else if (ArrayBuffer.isView(value)) out.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1'));
  else if (value instanceof ArrayBuffer) out.push(Buffer.from(value).toString('latin1'));
  else if (Array.isArray(value)) for (const v of value) texts(v, out);
  else if (value instanceof Map) for (const [k, v] of value) texts([k, v], out);
  else if (value instanceof Error) texts([value.message, value.stack], out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      texts(v, out);
    }
  }
  return out;
}

describe('redaction in a recording', () => {
  it('records none of the secrets the issue lists, keeps what an agent needs, and leaves the app as it was', async () => {
    const secrets = fixtureSecrets();
    expect(Object.keys(secrets).length).toBeGreaterThan(10);
    const dir = project('redaction-app');
    const { plain, recorded } = await recordTwice(dir);
    expectSameRun(plain, recorded);

    const raw = fs.readFileSync(recordingPath(dir), 'utf8');
    const records = byTarget(readRecords(dir), 'app/agent.js:handle');
    expect(records).toHaveLength(3);
    const decoded = records.map((r) => decode(r.args) as unknown[]);
    const all = `${raw}\n${decoded.flatMap((args) => texts(args)).join('\n')}`;
    for (const [name, secret] of Object.entries(secrets)) {
      const at = all.indexOf(secret);
      if (at >= 0) expect.fail(`${name} was recorded: …${all.slice(Math.max(0, at - 80), at + secret.length + 20)}…`);
    }

    const [fields, strings, containers] = decoded.map((args) => args[0] as Record<string, any>);
    expect(fields).toMatchObject({
      privateKey: '***',
      session: '***',
      passwords: '***',
      tenant_code: '***',
      max_tokens: 64,
      sessionId: 's-1',
      tokenizer: 'cl100k',
      keyboard: 'qwerty',
      author: 'ann',
      token_count: 12,
      password: null,
      apiKey: '',
    });
    // Present, as it was: undefined, not a mask.
    expect('token' in fields!).toBe(true);
    expect(fields!.token).toBeUndefined();
    expect(strings!.query).toBe('https://api.example.com/v1/search?q=shoes&api_key=***&access_token=***');
    expect(strings!.ticket).toBe('about ***');
    expect(Object.keys(containers!)[0]).toBe('***');
    expect(containers!.headers).toEqual([['Authorization', '***'], ['X-Api-Key', '***']]);
    expect(Buffer.isBuffer(containers!.buffer)).toBe(true);
    expect(containers!.buffer.toString()).toMatch(/^Authorization: Bearer \*+$/);
  });
});
