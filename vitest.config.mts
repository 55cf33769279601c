import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Two suites: `npm test` runs the quick one and the VS Code extension's unit tests, `npm run
// test:slow` the long tests (the benchmarks' quick run, the million-line stream, a real browser on
// the report); CI runs both.
const shared = {
  // End-to-end tests spawn real Node processes; a slow CI machine needs the headroom.
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // Tests wait on the processes they spawn part of the time, so more files than cores run at
    // once (vitest's default is one fewer than the cores: a single file on two). On two cores,
    // three measured faster than two or four.
    maxWorkers: 3,
    // A dot a test, then the failures in full: the default reporter's line a test cost the quick
    // suite a sixth of its time.
    reporters: ['dot'],
    projects: [
      // The files of a worker share their modules (`isolate: false`): importing the library
      // again for each of sixty files cost a fifth of the suite's time.
      { test: { ...shared, name: 'quick', include: ['test/{unit,cli,e2e}/**/*.test.ts'], isolate: false } },
      // One file at a time: the benchmarks measure, and the demo writes into examples/.
      { test: { ...shared, name: 'slow', include: ['test/slow/**/*.test.ts'], fileParallelism: false } },
      // The VS Code extension's unit tests: `vscode` exists only in VS Code's extension host, so
      // the tests get a fake of it. Those against the real CLI run with `npm run test:vscode`.
      {
        test: { ...shared, name: 'vscode', include: ['vscode/test/*.test.ts'], exclude: ['vscode/test/real-cli.test.ts'] },
        resolve: { alias: { vscode: fileURLToPath(new URL('./vscode/test/fake-vscode.ts', import.meta.url)) } },
      },
    ],
  },
});
