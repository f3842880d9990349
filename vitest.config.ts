import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests bind real loopback ports; files run in parallel workers.
    pool: 'forks',
    // .ci/run reads vitest's own counts from this JSON report.
    reporters: process.env.VITEST_JSON_REPORT === undefined ? ['default'] : ['default', 'json'],
    ...(process.env.VITEST_JSON_REPORT === undefined ? {} : { outputFile: { json: process.env.VITEST_JSON_REPORT } }),
    restoreMocks: true
  }
})
