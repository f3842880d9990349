import { readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { beforeAll, describe, expect, it } from 'vitest'

/*
 * The rules of eslint.config.js that hold ARCHITECTURE.md's layers and the promise rules, proved on
 * probe texts. A probe is linted as if it were the content of an existing file of the folder (the
 * type-aware rules need a file their TypeScript project knows), so nothing is written to disk.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
let eslint: ESLint

// The first lint of a file builds its TypeScript project (src/'s, then the GraphiQL page's): seconds, done once here.
beforeAll(async () => {
  eslint = new ESLint({ cwd: ROOT })
  await eslint.lintText('\n', { filePath: 'src/app.ts' })
  await eslint.lintText('\n', { filePath: 'src/transports/graphiql/browser/fetcher.ts' })
}, 60_000)

async function findings (filePath: string, code: string): Promise<Array<{ ruleId: string | null, message: string }>> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? []).map(({ ruleId, message }) => ({ ruleId, message }))
}

function refused (spec: string, message: string): Array<{ ruleId: string, message: string }> {
  return [{ ruleId: 'no-restricted-imports', message: `'${spec}' import is restricted from being used by a pattern. ${message}` }]
}

const DOWN_ONLY = 'layers point down only (ARCHITECTURE.md).'
const LEAF = 'a leaf imports no layer (ARCHITECTURE.md).'
const GRAPH_HTTP = 'src/graphql may not import Fastify or Mercurius: HTTP is the doors\' (src/transports/), the graph speaks GraphQL alone (ARCHITECTURE.md).'
const EMULATOR = 'src/emulator may not import outside src/emulator: it stands for Visual Layer and knows nothing of the gateway (ARCHITECTURE.md).'
const BROWSER = 'src/transports/graphiql/browser may not import outside src/transports/graphiql/browser: ' +
  'it is browser code, bundled on its own, and imports no layer (ARCHITECTURE.md).'

// [file the probe stands in, what it imports, the rule's message]: one upward import from every place.
const UPWARD: Array<[string, string, string]> = [
  ['src/app.ts', './cluster/redis.js', `src/app.ts may not import src/cluster: ${DOWN_ONLY}`],
  ['src/app.ts', './emulator/index.js', `src/app.ts may not import src/emulator: ${DOWN_ONLY}`],
  ['src/app.ts', './start.js', `src/app.ts may not import the entry points (src/server.ts, src/start.ts) or their helpers: ${DOWN_ONLY}`],
  ['src/transports/health.ts', '../cluster/slots.js', `src/transports may not import src/cluster: ${DOWN_ONLY}`],
  ['src/transports/rest/plugin.ts', '../../cluster/windows.js', `src/transports may not import src/cluster: ${DOWN_ONLY}`],
  ['src/transports/websocket/plugin.ts', '../../app.js', `src/transports may not import src/app.ts: ${DOWN_ONLY}`],
  ['src/plugins/metrics.ts', '../cluster/redis.js', `src/plugins may not import src/cluster: ${DOWN_ONLY}`],
  ['src/plugins/domain.ts', '../cluster/idempotency.js', `src/plugins may not import src/cluster: ${DOWN_ONLY}`],
  ['src/plugins/live.ts', '../cluster/live-leases.js', `src/plugins may not import src/cluster: ${DOWN_ONLY}`],
  ['src/plugins/graph.ts', '../cluster/idempotency.js', `src/plugins may not import src/cluster: ${DOWN_ONLY}`],
  ['src/plugins/redis.ts', '../emulator/index.js', `src/plugins/redis.ts may not import src/emulator: ${DOWN_ONLY}`],
  ['src/cluster/slots.ts', '../transports/caller-slots.js', `src/cluster may not import src/transports: ${DOWN_ONLY}`],
  ['src/cluster/idempotency.ts', '../graphql/index.js', `src/cluster may not import src/graphql: ${DOWN_ONLY}`],
  ['src/auth/jwt.ts', '../domain/tasks.js', `src/auth may not import src/domain: ${DOWN_ONLY}`],
  ['src/auth/jwt.ts', '../plugins/auth.js', `src/auth may not import src/plugins: ${DOWN_ONLY}`],
  ['src/graphql/cost.ts', '../transports/health.js', `src/graphql may not import src/transports: ${DOWN_ONLY}`],
  ['src/graphql/resolvers/query.ts', '../../plugins/graph.js', `src/graphql may not import src/plugins: ${DOWN_ONLY}`],
  ['src/graphql/error-formatter.ts', 'fastify', GRAPH_HTTP],
  ['src/graphql/resolvers/query.ts', 'mercurius', GRAPH_HTTP],
  ['src/graphql/context.ts', '@fastify/rate-limit', GRAPH_HTTP],
  ['src/domain/tasks.ts', '../graphql/index.js', `src/domain may not import src/graphql: ${DOWN_ONLY}`],
  ['src/domain/live/poller.ts', '../../auth/index.js', `src/domain may not import src/auth: ${DOWN_ONLY}`],
  ['src/upstream/client.ts', '../domain/tasks.js', `src/upstream may not import src/domain: ${DOWN_ONLY}`],
  ['src/upstream/layers/retry.ts', '../../auth/index.js', `src/upstream may not import src/auth: ${DOWN_ONLY}`],
  ['src/errors.ts', './upstream/errors.js', `src/errors.ts may not import src/upstream: ${LEAF}`],
  ['src/config.ts', './graphql/index.js', `src/config.ts may not import src/graphql: ${LEAF}`],
  ['src/logger.ts', './app.js', `src/logger.ts may not import src/app.ts: ${LEAF}`],
  ['src/otlp-traces.ts', './plugins/http-spans.js', 'src/otlp-traces.ts may not import src/plugins: it imports no layer (ARCHITECTURE.md).'],
  ['src/otlp-metrics.ts', './plugins/metrics.js', 'src/otlp-metrics.ts may not import src/plugins: it imports no layer (ARCHITECTURE.md).'],
  ['src/emulator/app.ts', '../errors.js', EMULATOR],
  ['src/emulator/app.ts', '../contract/types.js', EMULATOR],
  ['src/emulator/routes/tasks.ts', '../../logger.js', EMULATOR],
  ['src/transports/graphiql/browser/fetcher.ts', '../plugin.js', BROWSER]
]

// Imports the table allows: the layers below, the leaves, a folder's own files (at any depth).
const ALLOWED: Array<[string, string]> = [
  ['src/app.ts', './plugins/graph.js'],
  ['src/transports/health.ts', '../plugins/operations.js'],
  ['src/transports/rest/plugin.ts', '../../graphql/index.js'],
  ['src/plugins/redis.ts', '../cluster/redis.js'],
  ['src/plugins/redis.ts', '../cluster/live-leases.js'],
  ['src/plugins/redis.ts', '../domain/live/cluster-sharing.js'],
  ['src/plugins/metrics.ts', '../transports/health.js'],
  ['src/cluster/idempotency.ts', '../domain/enrichment/idempotency.js'],
  ['src/graphql/resolvers/query.ts', '../../domain/tasks.js'],
  ['src/graphql/cost.ts', '../auth/index.js'],
  ['src/graphql/error-formatter.ts', 'graphql'],
  ['src/domain/tasks.ts', '../contract/types.js'],
  ['src/upstream/layers/retry.ts', '../../errors.js'],
  ['src/logger.ts', './config.js'],
  ['src/emulator/routes/tasks.ts', '../app.js'],
  ['src/emulator/app.ts', './routes/tasks.js']
]

describe('the layer rules', () => {
  it.each(UPWARD)('refuses, in %s, an import of %s', async (file, spec, message) => {
    expect(await findings(file, `import '${spec}'\n`)).toEqual(refused(spec, message))
  })

  it.each(ALLOWED)('allows, in %s, an import of %s', async (file, spec) => {
    expect(await findings(file, `import '${spec}'\n`)).toEqual([])
  })

  it('cover every file of src/ but the entry points', async () => {
    const files = (function sources (dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) return sources(path)
        return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
      })
    })(join(ROOT, 'src'))
    const uncovered: string[] = []
    for (const file of files) {
      if (await eslint.isPathIgnored(file)) continue
      const config = await eslint.calculateConfigForFile(file) as { rules?: Record<string, unknown> }
      if (config.rules?.['no-restricted-imports'] === undefined) uncovered.push(relative(ROOT, file))
    }
    expect(files.length).toBeGreaterThan(100)
    expect(uncovered).toEqual(['src/server.ts', 'src/start.ts'])
  })
})

describe('the promise rules', () => {
  it('refuse a promise nobody awaits, anywhere in src/', async () => {
    const code = 'export async function later (): Promise<void> {}\nexport function now (): void {\n  later()\n}\n'
    for (const file of ['src/domain/tasks.ts', 'src/transports/health.ts', 'src/emulator/app.ts']) {
      expect(await findings(file, code)).toEqual([{
        ruleId: '@typescript-eslint/no-floating-promises',
        message: 'Promises must be awaited, end with a call to .catch, end with a call to .then with a rejection handler or be explicitly marked as ignored with the `void` operator.'
      }])
    }
  })

  it('allow one marked `void`', async () => {
    const code = 'export async function later (): Promise<void> {}\nexport function now (): void {\n  void later()\n}\n'
    expect(await findings('src/domain/tasks.ts', code)).toEqual([])
  })

  it('refuse an async function handed to an emitter, which ignores its promise', async () => {
    const code = "import { EventEmitter } from 'node:events'\nexport const events = new EventEmitter()\nevents.on('tick', async () => {})\n"
    expect(await findings('src/plugins/metrics.ts', code)).toEqual([{
      ruleId: '@typescript-eslint/no-misused-promises',
      message: 'Promise returned in function argument where a void return was expected.'
    }])
  })
})
