import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseTarget } from '../../src/config/targets.js';

describe('parseTarget', () => {
  it.each([
    ['app/agent.js:reply', { file: 'app/agent.js', exportName: 'reply' }],
    ['app/agent.js:agent.reply', { file: 'app/agent.js', exportName: 'agent', member: 'reply' }],
    ['app/agent.js:Agent.reply', { file: 'app/agent.js', exportName: 'Agent', member: 'reply' }],
    ['app/agent.js:default', { file: 'app/agent.js', exportName: 'default' }],
    ['app/agent.js:default.reply', { file: 'app/agent.js', exportName: 'default', member: 'reply' }],
    ['./lib/$tools.mjs:_search$', { file: './lib/$tools.mjs', exportName: '_search$' }],
    ['C:\\app\\agent.js:reply', { file: 'C:\\app\\agent.js', exportName: 'reply' }],
    ['app/agent.js:Agent.délai', { file: 'app/agent.js', exportName: 'Agent', member: 'délai' }],
    ['app/agent.js:Agent.#plan', { file: 'app/agent.js', exportName: 'Agent', member: '#plan' }],
    ['app/server.js:42', { file: 'app/server.js', exportName: '42', line: 42 }],
    ['app/server.js:42:17', { file: 'app/server.js', exportName: '42', line: 42, column: 17 }],
    ['C:\\app\\server.js:7', { file: 'C:\\app\\server.js', exportName: '7', line: 7 }],
  ])('parses %s', (spec, parts) => {
    expect(parseTarget(spec)).toEqual({ spec, ...parts });
  });

  it('leaves member out when there is none', () => {
    expect('member' in parseTarget('a.js:f')).toBe(false);
  });

  it.each([
    ['app/agent.js', 'no ":"'],
    [':reply', 'module path before ":" is empty'],
    ['app/agent.js:', 'export name after ":" is empty'],
    ['app/agent.js:.reply', 'export name before "." is empty'],
    ['app/agent.js:Agent.', 'method name after "." is empty'],
    ['app/agent.js:Agent.prototype.reply', 'only one "."'],
    ['app/agent.js:1agent', '"1agent" is not a JavaScript identifier'],
    ['app/server.js:0', '"0" is not a JavaScript identifier'],
    ['app/agent.js:Agent.#', '"#" is not a JavaScript identifier'],
    ['app/agent.js:Agent.re-ply', '"re-ply" is not a JavaScript identifier'],
    ['app/agent.js:my reply', 'contains blanks'],
    ['app/agent.js :reply', 'module path starts or ends with blanks'],
    [' app/agent.js:reply', 'starts or ends with blanks'],
    ['app/agent.js:reply ', 'starts or ends with blanks'],
  ])('rejects %j', (spec, why) => {
    let error: unknown;
    try {
      parseTarget(spec);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(why);
    expect(message).toContain(JSON.stringify(spec));
    // Every message shows what a valid target looks like.
    expect(message).toContain('path/to/module.js:exportName.method');
    expect(message).toContain('path/to/module.js:default');
  });

  it('puts the location in front of the message', () => {
    const location = { file: 'configs/simulation.yaml', line: 4, column: 7, field: 'recording.targets[0]' };
    expect(() => parseTarget('nope', location)).toThrow(
      /^configs\/simulation\.yaml:4:7 \(recording\.targets\[0\]\): invalid target "nope"/,
    );
    try {
      parseTarget('nope', location);
    } catch (err) {
      expect((err as ConfigError).location).toEqual(location);
    }
  });
});
