import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { byTarget, project, readRecords, runApp, statusTargets, type TargetRow } from './helpers';

const RESPONSE = 'node_modules/fake-express/lib/response.js';
const SDK = 'node_modules/odd-sdk/index.js';
const CLIENT = 'node_modules/odd-sdk/client.js';
const ESM = 'node_modules/esm-sdk/index.js';

/** The targets of odd-sdk/index.js that cannot be patched, and why. */
const REFUSED: Record<string, string> = {
  'frozen.run': '"frozen.run" is on a frozen object',
  'sealed.run': '"sealed.run" is on a sealed object',
  'fixed.run': '"fixed.run" is on a non-extensible object',
  'trapped.run': 'patching it threw Error: this client cannot be inspected',
  nameless: 'patching it threw Error: no name here',
};

/** The fixture with its hand-written packages installed; they are kept in packages/, since git ignores node_modules. */
function patcherProject(): string {
  const dir = project('patcher-app');
  for (const name of fs.readdirSync(path.join(dir, 'packages'))) {
    fs.renameSync(path.join(dir, 'packages', name), path.join(dir, 'node_modules', name));
  }
  return dir;
}

describe('the export patcher, on odd installed packages', () => {
  it('runs the app as without fluxloop, records what it can, and refuses the rest with one warning each', async () => {
    const dir = patcherProject();
    const plain = await runApp(dir, 'app/main.js', { preload: false, env: { FLUXLOOP_RECORD_ARGS: undefined } });
    expect(plain.code, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout).ping).toEqual(['pong a', 'pong b']);

    const run = await runApp(dir, 'app/main.js');
    expect(run.stdout).toBe(plain.stdout);
    expect(run.code).toBe(plain.code);
    // Each refused target once, though its file is reached through both import and require; no stack trace.
    const refused = Object.entries(REFUSED).map(([target, reason]) => `fluxloop: target "${SDK}:${target}" is not recorded: ${reason} in ${SDK}`);
    expect(run.stderr.trim().split('\n').sort()).toEqual(refused.sort());

    const records = readRecords(dir);
    const args = (target: string) => byTarget(records, target).map((r) => r.args);
    // One function under two names: each call once, under the name it came through.
    expect(byTarget(records, `${RESPONSE}:default.set`).map((r) => [r.function, r.args])).toEqual([['header', ['Content-Type', 'text/plain']]]);
    expect(args(`${RESPONSE}:default.header`)).toEqual([['X-Id', 7]]);
    // A getter: what it hands out, on each access, the instance's own and the one set later.
    expect(args(`${SDK}:Conn.handler`)).toEqual([['hi'], ['there'], ['set']]);
    expect(args(`${SDK}:ping`)).toEqual([['a'], ['b']]);
    expect(args(`${CLIENT}:default.send`)).toEqual([['one'], ['two']]);
    expect(args(`${ESM}:makePool`)).toEqual([[4]]);
    // `new ids()` threw, as it does without fluxloop, and was not recorded.
    expect(args(`${ESM}:ids`)).toEqual([[2]]);
    expect(records).toHaveLength(11);

    const status = statusTargets(dir) as (TargetRow & { reason?: string | null })[];
    for (const [target, reason] of Object.entries(REFUSED)) {
      expect(status.find((t) => t.target === `${SDK}:${target}`)).toMatchObject({ state: 'failed', reason: `${reason} in ${SDK}` });
    }
    const states = Object.fromEntries(status.map((t) => [t.target, [t.state, t.calls]]));
    expect(states).toEqual({
      [`${RESPONSE}:default.set`]: ['hooked', 1],
      [`${RESPONSE}:default.header`]: ['hooked', 1],
      [`${SDK}:Conn.handler`]: ['hooked', 3],
      [`${SDK}:frozen.run`]: ['failed', 0],
      [`${SDK}:sealed.run`]: ['failed', 0],
      [`${SDK}:fixed.run`]: ['failed', 0],
      [`${SDK}:trapped.run`]: ['failed', 0],
      [`${SDK}:nameless`]: ['failed', 0],
      [`${SDK}:ping`]: ['hooked', 2],
      [`${CLIENT}:default.send`]: ['hooked', 2],
      [`${ESM}:makePool`]: ['hooked', 1],
      [`${ESM}:ids`]: ['hooked', 1],
    });
  });
});
