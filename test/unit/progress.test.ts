import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressBar } from '../../src/cli/output.js';

/** The lines progressBar writes to stderr while `steps` runs, with the clock under the test's hand. */
function written(steps: (bar: ReturnType<typeof progressBar>, tick: (ms: number) => void) => void): string[] {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(0);
  let out = '';
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  // As off a terminal, whatever the test runs on.
  const tty = process.stderr.isTTY;
  process.stderr.isTTY = false;
  try {
    const bar = progressBar('runs');
    steps(bar, (ms) => vi.setSystemTime(Date.now() + ms));
    bar.end();
  } finally {
    process.stderr.isTTY = tty;
    write.mockRestore();
    vi.useRealTimers();
  }
  return out.split('\n').filter(Boolean);
}

describe('progress with FLUXLOOP_PROGRESS=json', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('writes one JSON object a line, at most ten a second, and always the last', () => {
    vi.stubEnv('FLUXLOOP_PROGRESS', 'json');
    const lines = written((bar, tick) => {
      bar.update(1, 36, 'ok 1');
      // Within the same tenth of a second: left out.
      tick(50);
      bar.update(2, 36, 'ok 2');
      tick(60);
      bar.update(3, 36);
      tick(10);
      bar.update(36, 36, 'ok 36');
    });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { progress: { label: 'runs', done: 1, total: 36, detail: 'ok 1' } },
      { progress: { label: 'runs', done: 3, total: 36 } },
      { progress: { label: 'runs', done: 36, total: 36, detail: 'ok 36' } },
    ]);
  });

  it('draws the human line without it', () => {
    vi.stubEnv('FLUXLOOP_PROGRESS', '');
    const lines = written((bar) => bar.update(2, 2, 'ok 2'));
    expect(lines).toEqual(['runs 2/2  ok 2']);
  });
});
