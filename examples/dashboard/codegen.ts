import { fileURLToPath } from 'node:url'
import { generate, type CodegenConfig } from '@graphql-codegen/cli'

/*
 * GraphQL Code Generator's client preset over the dashboard's documents (app/documents.ts), from the
 * gateway's schema.graphql: typed documents in app/gql/, and app/gql/persisted-documents.json, the
 * manifest of trusted documents ({"sha256:<hex>": "<document>"}) that `npm run dashboard` gives the
 * gateway. Each generated document carries its hash (`__meta__.hash`), which the app's
 * persistedExchange sends instead of the text. `npx tsx examples/dashboard/codegen.ts` writes the
 * files; test/examples/dashboard.test.ts checks that the committed ones are what this generates today.
 */

const root = fileURLToPath(new URL('../../', import.meta.url))

export const CODEGEN_CONFIG: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['examples/dashboard/app/documents.ts'],
  ignoreNoDocuments: false,
  silent: true,
  generates: {
    'examples/dashboard/app/gql/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashPropertyName: 'hash', hashAlgorithm: 'sha256' }
      },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        emitLegacyCommonJSImports: false,
        scalars: { DateTime: 'string', ID: 'string' }
      }
    }
  }
}

/** The files codegen writes, by path relative to the repository's root. */
export async function generateDashboardFiles (): Promise<Map<string, string>> {
  const outputs = await generate({ ...CODEGEN_CONFIG, cwd: root }, false) as Array<{ filename: string, content: string }>
  return new Map(outputs.map((output) => [output.filename, output.content]))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await generate({ ...CODEGEN_CONFIG, cwd: root }, true)
}
