import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'
import tseslint from 'typescript-eslint'

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
  // Layers point down only (ARCHITECTURE.md): a file may not import a layer above its own.
  ...[
    ['src/upstream', ['graphql', 'domain', 'transports', 'plugins', 'auth', 'cluster']],
    ['src/domain', ['graphql', 'transports', 'plugins', 'auth', 'cluster']],
    ['src/auth', ['graphql', 'domain', 'transports', 'plugins', 'cluster']],
    ['src/graphql', ['transports', 'plugins', 'cluster']],
    ['src/cluster', ['graphql', 'transports', 'plugins', 'auth']],
    // Doors take shared state from app.sharedState (src/plugins/redis.ts), chosen once at the top.
    ['src/transports', ['cluster']]
  ].map(([folder, above]) => ({
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: above.map((layer) => ({
          group: [`**/${layer}/*`, `**/${layer}/**`],
          message: `${folder} may not import src/${layer}: layers point down only (ARCHITECTURE.md).`
        }))
      }]
    }
  })),
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
