import { createRequire } from 'node:module'
import { configDefaults, defineConfig } from 'vitest/config'

const require = createRequire(import.meta.url)

/*
 * Files that fake the clock or measure or stub process memory: each runs in a process of its own, so that
 * what it changes or measures is its own. Every other file of the gateway project shares its worker's
 * process with the files run before it (isolate: false): loading the gateway's modules once per worker
 * instead of once per file.
 */
const OWN_PROCESS = [
  'test/graphql/hostile-documents.test.ts',
  // Counts graphql-jit's compileQuery with vi.mock, which a module shared with other files would not see.
  'test/graphql/compiled-execution.test.ts',
  'test/live/expiry.test.ts',
  'test/domain/live/scheduler.test.ts',
  'test/emulator/units.test.ts',
  'test/transports/load-shedding.test.ts',
  // Hold a cache's estimate of its bytes against the heap: a process shared with other files frees their leftovers during the measure.
  'test/graphql/document-cache-heap.test.ts',
  'test/upstream/remembered-records-heap.test.ts'
]

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build (as Mercurius does); Vite would pick its .mjs build and
    // make two graphql instances, which graphql-js refuses to mix. Tests run what production runs.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }]
  },
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests bind real loopback ports; files run in parallel workers.
    pool: 'forks',
    // Vitest's default is one worker less than the cores, so one file at a time on a 2-core machine,
    // though most files spend their time waiting on sockets, not on a core: test/live and
    // test/transports (32 files) took 119 s with 1 worker, 64 s with 3, 67 s with 4 (2 cores, busy).
    maxWorkers: 3,
    // .ci/run reads vitest's own counts from this JSON report (both projects).
    reporters: process.env.VITEST_JSON_REPORT === undefined ? ['default'] : ['default', 'json'],
    ...(process.env.VITEST_JSON_REPORT === undefined ? {} : { outputFile: { json: process.env.VITEST_JSON_REPORT } }),
    restoreMocks: true,
    projects: [
      {
        extends: true,
        test: {
          name: 'gateway',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/hostile/**', ...OWN_PROCESS],
          isolate: false,
          // The run's own redis-server, for the tests of several replicas (or a hint where there is none).
          globalSetup: ['test/setup/redis.ts'],
          setupFiles: ['test/setup/no-keep-alive.ts']
        }
      },
      {
        extends: true,
        test: {
          name: 'gateway-isolated',
          include: OWN_PROCESS,
          setupFiles: ['test/setup/no-keep-alive.ts']
        }
      },
      {
        // The hostile-input suite (test/hostile/, docs/security.md) asserts latencies: it runs in a group of
        // its own (groupOrder), never beside another test file, one file at a time, so that they are not
        // measured on a machine busy with the rest of the suite.
        extends: true,
        test: {
          name: 'hostile',
          include: ['test/hostile/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      }
    ]
  }
})
