import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'
import tseslint from 'typescript-eslint'

// neostandard (the style of Mercurius and undici) with TypeScript, plus the project's own rules.
export default [
  { ignores: [...resolveIgnoresFromGitignore(), 'dist/', 'src/graphql/generated/', 'src/contract/types.ts', 'coverage/'] },
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
      // A deliberately unawaited promise is written `void promise`, as typescript-eslint's no-floating-promises asks.
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  // Layers point down only (ARCHITECTURE.md): a file may not import a layer above its own.
  ...[
    ['src/upstream', ['graphql', 'domain', 'transports', 'plugins', 'auth']],
    ['src/domain', ['graphql', 'transports', 'plugins', 'auth']],
    ['src/auth', ['graphql', 'domain', 'transports', 'plugins']],
    ['src/graphql', ['transports', 'plugins']]
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
    files: ['scripts/**', 'bench/**', '.ci/**'],
    rules: { 'no-console': 'off' }
  }
]
