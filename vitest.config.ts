import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'

const require = createRequire(import.meta.url)

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build (as Mercurius does); Vite would pick its .mjs build and
    // make two graphql instances, which graphql-js refuses to mix. Tests run what production runs.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }]
  },
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
