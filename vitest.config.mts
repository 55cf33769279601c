import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests spawn real Node processes; a slow CI machine needs the headroom.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
