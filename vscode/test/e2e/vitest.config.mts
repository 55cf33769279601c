import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run test:vscode` (scripts/vscode-e2e.mjs) runs this after it has made sure of code-server,
// Node.js 24 and the packed extension; run alone, the VS Code test says what is missing.
const shared = { testTimeout: 120_000, hookTimeout: 180_000 };

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      // The extension's code with a fake `vscode`, against the real CLI on a real project.
      {
        test: { ...shared, name: 'real-cli', include: ['vscode/test/real-cli.test.ts'] },
        resolve: { alias: { vscode: fileURLToPath(new URL('../fake-vscode.ts', import.meta.url)) } },
      },
      // The packed extension in a real VS Code, driven step by step.
      { test: { ...shared, name: 'code-server', include: ['vscode/test/e2e/**/*.e2e.test.ts'], fileParallelism: false } },
    ],
  },
});
