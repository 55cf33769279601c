import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECORDING_DEFAULTS } from '../../src/config/types';
import { Session } from '../../src/instrument/session';
import { readLastRun } from '../../src/instrument/status';
import { wrap } from '../../src/instrument/wrap';
import { runInReplay } from '../../src/trace/context';

describe('Session', () => {
  it('records calls, but not those made inside a replay run', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-session-'));
    const recordingFile = path.join(root, 'recordings', 'args_recording.jsonl');
    const session = new Session({ root, recordingFile, recording: { ...RECORDING_DEFAULTS, targets: ['app.js:answer'] } });
    session.addTarget('app.js:answer');
    function answer(question: string) {
      return question.length;
    }
    const recorded = wrap(answer, session.observer('app.js:answer', answer));
    session.markHooked('app.js:answer');

    expect(recorded('outside')).toBe(7);
    expect(await runInReplay({ traceId: 't-1' }, async () => recorded('inside a replay'))).toBe(15);
    session.recorder.flush();

    const records = fs.readFileSync(recordingFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => [r.function, r.args, r.params])).toEqual([['answer', ['outside'], ['question']]]);

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(readLastRun(root)?.targets).toEqual([{ target: 'app.js:answer', state: 'hooked', calls: 1 }]);
  });
});
