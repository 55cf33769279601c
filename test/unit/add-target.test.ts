import { describe, expect, it } from 'vitest';
import { addTarget } from '../../src/config/add-target.js';
import { ConfigError } from '../../src/config/errors.js';

const NEW = 'app/agent.js:Agent.reply';

/** The text after adding NEW, checked to be added. */
function added(text: string): string {
  const result = addTarget(text, NEW);
  expect(result.added).toBe(true);
  return result.text;
}

describe('addTarget', () => {
  it('adds a line after the last item of a block list, every other byte kept', () => {
    const text = '# config\nrecording:\n  targets:\n    - app/a.js:run   # main entry\n    - app/b.js:42\n\n  # where\n  file: r.jsonl  # here\nrunner:\n  concurrency: 2\n';
    expect(added(text)).toBe(text.replace('    - app/b.js:42\n', `    - app/b.js:42\n    - ${NEW}\n`));
  });

  it('keeps the indent of a list written flush under its key, and CRLF line ends', () => {
    const text = 'recording:\r\n  targets:\r\n  - app/a.js:run\r\n  file: r.jsonl\r\n';
    expect(added(text)).toBe(`recording:\r\n  targets:\r\n  - app/a.js:run\r\n  - ${NEW}\r\n  file: r.jsonl\r\n`);
  });

  it('adds to a last line without its newline', () => {
    expect(added('recording:\n  targets:\n    - app/a.js:run')).toBe(`recording:\n  targets:\n    - app/a.js:run\n    - ${NEW}\n`);
  });

  it('fills `targets: []` and extends a flow list in place, the comment after it kept', () => {
    expect(added('recording:\n  targets: []  # none yet\n')).toBe(`recording:\n  targets: [${NEW}]  # none yet\n`);
    expect(added('recording:\n  targets: [app/a.js:run] # one\n')).toBe(`recording:\n  targets: [app/a.js:run, ${NEW}] # one\n`);
    // A comma would end a plain scalar inside [ ]: quoted there.
    const odd = addTarget('recording:\n  targets: []\n', 'app/a,b.js:run').text;
    expect(odd).toBe('recording:\n  targets: ["app/a,b.js:run"]\n');
  });

  it('puts the list under an empty `targets:`, below its comment', () => {
    expect(added('recording:\n  targets:   # add yours\n  file: r.jsonl\n')).toBe(`recording:\n  targets:   # add yours\n    - ${NEW}\n  file: r.jsonl\n`);
  });

  it('creates `targets:` and `recording:` when they are missing', () => {
    expect(added('# mine\nrecording:\n  file: r.jsonl\nname: x\n')).toBe(`# mine\nrecording:\n  file: r.jsonl\n  targets:\n    - ${NEW}\nname: x\n`);
    expect(added('name: x # the name\n')).toBe(`name: x # the name\nrecording:\n  targets:\n    - ${NEW}\n`);
    expect(added('name: x\nrecording:\nrunner:\n  concurrency: 1\n')).toBe(`name: x\nrecording:\n  targets:\n    - ${NEW}\nrunner:\n  concurrency: 1\n`);
    expect(added('')).toBe(`recording:\n  targets:\n    - ${NEW}\n`);
  });

  it('never adds a target twice', () => {
    const text = `recording:\n  targets:\n    - ${NEW}  # there\n`;
    expect(addTarget(text, NEW)).toEqual({ text, added: false });
  });

  it('refuses a target it cannot read, and a config that does not validate, with its line', () => {
    expect(() => addTarget('', 'app/agent.js')).toThrow(/invalid target "app\/agent\.js": no ":"/);
    expect(() => addTarget('recording:\n  targets: nope\n', NEW)).toThrow(ConfigError);
    expect(() => addTarget('recording:\n  targets: nope\n', NEW, 'configs/simulation.yaml')).toThrow(/configs\/simulation\.yaml:2:12 \(recording\.targets\): must be a list of strings/);
    expect(() => addTarget('recording:\n  targest: []\n', NEW)).toThrow(/unknown key "targest" under recording; did you mean "targets"\?/);
  });
});
