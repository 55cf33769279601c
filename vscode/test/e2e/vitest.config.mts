import { defineConfig } from 'vitest/config';

// `npm run test:vscode` (scripts/vscode-e2e.mjs) runs this after it has made sure of code-server,
// Node.js 24 and the packed extension; run alone, the test says what is missing.
export default defineConfig({
  test: {
    include: ['vscode/test/e2e/**/*.e2e.test.ts'],
    // One VS Code, driven step by step: its first start and the extension host take their time.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
