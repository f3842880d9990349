import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests bind real loopback ports; files run in parallel workers.
    pool: 'forks',
    reporters: ['default'],
    restoreMocks: true
  }
})
