import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    watch: false,
    // Stress and property tests push 100k values through the drain loop; give them room,
    // but still fail a hung subscription (a missed request/complete) well before CI's own limit.
    testTimeout: 15_000,
    hookTimeout: 15_000,
    teardownTimeout: 5_000,
  },
});
