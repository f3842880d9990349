import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'
import tseslint from 'typescript-eslint'

/*
 * ARCHITECTURE.md's table of layers, as no-restricted-imports rules. A place names what it may not
 * import: the places above it (a folder of src/ or a file at its root). Import paths are relative, so
 * each place gets one rule per depth of its files: from src/graphql/resolvers/, `../../domain/` is
 * src/domain and `../domain/` is not. Every file of src/ is covered (test/lint-rules.test.ts holds it).
 */
const TARGETS = {
  entry: { match: ['server\\.js$', 'start\\.js$', 'otlp-traces\\.js$', 'otlp-metrics\\.js$', 'config-names\\.js$'], name: 'the entry points (src/server.ts, src/start.ts) or their helpers' },
  app: { match: ['app\\.js$'], name: 'src/app.ts' },
  ...Object.fromEntries(['transports', 'plugins', 'cluster', 'auth', 'graphql', 'domain', 'upstream', 'emulator']
    .map((folder) => [folder, { match: [`${folder}/`], name: `src/${folder}` }]))
}
const ABOVE_ALL = Object.keys(TARGETS)
const DOWN_ONLY = 'layers point down only (ARCHITECTURE.md).'
const LEAF = 'a leaf imports no layer (ARCHITECTURE.md).'
// [place, what it may not import, why, packages it may not import]; a place is a folder of src/ (every file below it) or one file.
const PLACES = [
  ['src/app.ts', ['entry', 'cluster', 'emulator'], DOWN_ONLY],
  ['src/transports', ['entry', 'app', 'cluster', 'emulator'], DOWN_ONLY],
  ['src/plugins', ['entry', 'app', 'cluster', 'emulator'], DOWN_ONLY],
  // The plugin that picks, at start-up, the in-process or the Redis implementation of every shared store
  // (slots, windows, idempotency records, the pollers' leases and invalidations): no other plugin knows src/cluster.
  ['src/plugins/redis.ts', ['entry', 'app', 'emulator'], DOWN_ONLY],
  ['src/cluster', ['entry', 'app', 'transports', 'plugins', 'auth', 'graphql', 'emulator'], DOWN_ONLY],
  ['src/auth', ['entry', 'app', 'transports', 'plugins', 'cluster', 'graphql', 'domain', 'emulator'], DOWN_ONLY],
  ['src/graphql', ['entry', 'app', 'transports', 'plugins', 'cluster', 'emulator'], DOWN_ONLY, [{
    // The graph speaks GraphQL to every door alike; what an answer is over HTTP is the door's.
    regex: '^(?:fastify|fastify-plugin|@fastify/[^/]+|mercurius)(?:/.*)?$',
    message: 'src/graphql may not import Fastify or Mercurius: HTTP is the doors\' (src/transports/), the graph speaks GraphQL alone (ARCHITECTURE.md).'
  }]],
  ['src/domain', ['entry', 'app', 'transports', 'plugins', 'cluster', 'auth', 'graphql', 'emulator'], DOWN_ONLY],
  ['src/upstream', ['entry', 'app', 'transports', 'plugins', 'cluster', 'auth', 'graphql', 'domain', 'emulator'], DOWN_ONLY],
  ...['src/errors.ts', 'src/config.ts', 'src/logger.ts', 'src/contract'].map((place) => [place, ABOVE_ALL, LEAF]),
  // Read by src/server.ts alone, before the app exists: they too import no layer.
  ...['src/otlp-traces.ts', 'src/otlp-metrics.ts', 'src/config-names.ts'].map((place) => [place, ABOVE_ALL, 'it imports no layer (ARCHITECTURE.md).'])
]
// Places that import nothing outside their own folder (any depth that climbs out of it).
const CLOSED = [
  ['src/emulator', 'it stands for Visual Layer and knows nothing of the gateway (ARCHITECTURE.md).'],
  ['src/transports/graphiql/browser', 'it is browser code, bundled on its own, and imports no layer (ARCHITECTURE.md).']
]
const DEPTHS = 4

function layerRules () {
  const climb = (levels) => levels === 0 ? '\\./' : `(?:\\.\\./){${levels}}`
  const rule = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } })
  const blocks = []
  for (const [place, above, why, packages = []] of PLACES) {
    // src/app.ts is 0 levels below src/; a file of src/graphql/resolvers/ is 2.
    const levels = place.endsWith('.ts') ? [place.split('/').length - 2] : Array.from({ length: DEPTHS }, (_, index) => index + 1)
    for (const level of levels) {
      const files = place.endsWith('.ts') ? [place] : [`${place}/${'*/'.repeat(level - 1)}*.ts`]
      blocks.push(rule(files, [...above.map((target) => ({
        regex: `^${climb(level)}(?:${TARGETS[target].match.join('|')})`,
        message: `${place} may not import ${TARGETS[target].name}: ${why}`
      })), ...packages]))
    }
  }
  for (const [folder, why] of CLOSED) {
    for (let level = 1; level <= DEPTHS; level++) {
      const inner = '*/'.repeat(level - 1)
      blocks.push(rule([`${folder}/${inner}*.ts`, `${folder}/${inner}*.tsx`], [{
        regex: `^${climb(level)}`,
        message: `${folder} may not import outside ${folder}: ${why}`
      }]))
    }
  }
  return blocks
}

// neostandard (the style of Mercurius and undici) with TypeScript, plus the project's own rules.
export default [
  { ignores: [...resolveIgnoresFromGitignore(), 'dist/', 'src/graphql/generated/', 'src/contract/types.ts', 'examples/partner-service/api.ts', 'coverage/'] },
  ...neostandard({ ts: true }),
  {
    files: ['**/*.ts'],
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error'
    }
  },
  {
    rules: {
      'no-console': 'error',
      // A promise left unawaited on purpose is written `void promise`, so that a reader sees the choice.
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    // Type-aware: a promise nobody awaits or catches loses its rejection (an unhandled rejection ends the
    // process), and an async function handed to an emitter or a callback that ignores its promise does too.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error'
    }
  },
  // Layers point down only (ARCHITECTURE.md's table): a file may not import a layer above its own.
  ...layerRules(),
  {
    // Lines wrap at 160. A long string or template literal (60+ characters) may overflow: a message
    // stays whole so that it can be found with grep; the code around it still wraps.
    files: ['src/**', 'bench/**', 'scripts/**'],
    rules: {
      '@stylistic/max-len': ['error', {
        code: 160,
        ignoreUrls: true,
        ignoreRegExpLiterals: true,
        ignorePattern: '[\\s(,:=?[](?:\'(?:[^\'\\\\]|\\\\.){60,}\'|"(?:[^"\\\\]|\\\\.){60,}"|`(?:[^`\\\\]|\\\\.){60,}`)'
      }]
    }
  },
  {
    // The seed is a table, one record a row; wrapped, each row would become a dozen lines.
    files: ['src/emulator/seed.ts'],
    rules: { '@stylistic/max-len': 'off' }
  },
  {
    files: ['scripts/**', 'bench/**', '.ci/**'],
    rules: { 'no-console': 'off' }
  }
]
