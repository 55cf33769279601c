import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { functionName, namesModule, targetIdentity } from '../../src/config/identity';
import { recordingMatch } from '../../src/replay/match';
import { parseRecordLine, type ReplayRecord } from '../../src/replay/reader';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-match-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
for (const file of ['app/routes/chat.js', 'app/routes/feedback.js', 'app/bot.ts']) {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), '');
}

const record = (fields: Record<string, unknown>, index = 0): ReplayRecord => parseRecordLine(JSON.stringify({ args: [], ...fields }), index + 1, index) as ReplayRecord;

describe('a target identity', () => {
  it('is the module path relative to the project, with the extension on disk, and the export path or line', () => {
    for (const spec of ['app/routes/chat.js:POST', './app/routes/chat.js:POST', 'app/routes/chat:POST', path.join(root, 'app/routes/chat.js') + ':POST']) {
      expect(targetIdentity(root, spec)).toBe('app/routes/chat.js:POST');
    }
    expect(targetIdentity(root, 'app/bot:Bot.reply')).toBe('app/bot.ts:Bot.reply');
    expect(targetIdentity(root, './app/bot.ts:42')).toBe('app/bot.ts:42');
    expect(targetIdentity(root, 'app/bot.ts:42:7')).toBe('app/bot.ts:42:7');
    // A module that is not there yet keeps the path as written, normalized.
    expect(targetIdentity(root, './lib/../app/later.js:run')).toBe('app/later.js:run');
    expect(targetIdentity(root, 'reply')).toBe('reply');
  });

  it('tells targets that name a module from bare names and Python module paths', () => {
    expect(namesModule('app/agent.js:reply')).toBe(true);
    expect(namesModule('agent.mjs:reply')).toBe(true);
    expect(namesModule('app/agent:reply')).toBe(true);
    expect(namesModule('reply')).toBe(false);
    expect(namesModule('Planner.plan')).toBe(false);
    expect(namesModule('support.agent:Agent.run')).toBe(false);
    expect(functionName('app/bot.ts:Bot.reply')).toBe('reply');
    expect(functionName('pkg.agent:run')).toBe('run');
  });
});

describe('the recordings of a target', () => {
  const chat = record({ function: 'POST', target: 'app/routes/chat.js:POST' });
  const feedback = record({ function: 'POST', target: 'app/routes/feedback.js:POST' });

  it('are those that name it exactly, however the config writes it: another file exporting the same name is left out', () => {
    for (const spec of ['app/routes/chat.js:POST', './app/routes/chat:POST']) {
      const match = recordingMatch(root, undefined, spec)!;
      expect([chat, feedback].map((r) => match.test(r))).toEqual([true, false]);
      expect(match.byName).toBe(0);
    }
  });

  it('are matched by name, and counted, when a record names no module (an older trace() record, FluxLoop Python)', () => {
    const match = recordingMatch(root, undefined, 'app/bot.ts:Bot.reply')!;
    const older = record({ function: 'reply', target: 'reply' });
    const python = record({ target: 'support.bot:Bot.reply', kwargs: { message: 'hi' } });
    const other = record({ function: 'answer', target: 'answer' });
    const exact = record({ function: 'Bot.reply', target: 'app/bot.ts:Bot.reply' });
    const elsewhere = record({ function: 'Critic.reply', target: 'app/critic.ts:Critic.reply' });
    expect([older, python, other, exact, elsewhere].map((r) => match.test(r))).toEqual([true, true, false, true, false]);
    expect(match.byName).toBe(2);
    expect(match).toMatchObject({ label: 'app/bot.ts:Bot.reply', name: 'reply' });
  });

  it('follow replay_args.function when it is set: a name, or a target as written', () => {
    expect(recordingMatch(root, 'POST', 'app/routes/chat.js:POST')!.test(feedback)).toBe(true);
    const byTarget = recordingMatch(root, './app/routes/feedback:POST', 'app/routes/chat.js:POST')!;
    expect([chat, feedback].map((r) => byTarget.test(r))).toEqual([false, true]);
    expect(recordingMatch(root, undefined, undefined)).toBeUndefined();
  });
});
