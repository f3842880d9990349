import { fileURLToPath } from 'node:url'
import { generate, type CodegenConfig } from '@graphql-codegen/cli'

/*
 * GraphQL Code Generator's client preset over this example's documents (documents.ts), from the
 * gateway's schema.graphql: typed documents in gql/, and gql/persisted-documents.json, the manifest
 * of trusted documents ({"sha256:<hex>": "<document>"}); each generated document carries its id
 * (`__meta__.documentId`), which the client sends instead of the text. `npx tsx examples/frontend/codegen.ts` writes
 * the files; the test (test/examples/frontend.test.ts) checks that the committed ones are what
 * this generates today.
 */

const root = fileURLToPath(new URL('../../', import.meta.url))

export const CODEGEN_CONFIG: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['examples/frontend/documents.ts'],
  ignoreNoDocuments: false,
  silent: true,
  generates: {
    'examples/frontend/gql/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashPropertyName: 'documentId', hashAlgorithm: 'sha256' }
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
export async function generateClientFiles (): Promise<Map<string, string>> {
  const outputs = await generate({ ...CODEGEN_CONFIG, cwd: root }, false) as Array<{ filename: string, content: string }>
  return new Map(outputs.map((output) => [output.filename, output.content]))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await generate({ ...CODEGEN_CONFIG, cwd: root }, true)
}
